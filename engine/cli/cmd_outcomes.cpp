// crm outcomes FILE --db STORE --from D --to D [--window N] [--min-customers N]
//                  [--format text|jsonl|csv] [--report out.html]:
// per campaign and rule, treated vs held-out customers and the uplift (docs/outcomes.md).
#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "cli/args.hpp"
#include "cli/atomic_file.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "engine/report/outcomes.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"

namespace crm::cli {
namespace {

// As for simulate: a longer range is almost surely a typo in a year.
constexpr int kMaxDays = 3660;

bool int_option(const Args& args, const std::string& name, int64_t lo, int64_t hi, int64_t& out, std::string& error) {
  auto v = args.option(name);
  if (!v) return true;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || n < lo || n > hi) {
    error = fmt::format("{} must be a whole number from {} to {}, got '{}'", name, lo, hi, *v);
    return false;
  }
  out = n;
  return true;
}

}  // namespace

int cmd_outcomes(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm outcomes FILE --db STORE --from D --to D [--window N] [--min-customers N]\n"
      "                    [--format text|jsonl|csv] [--report out.html]\n\n"
      "Did the campaigns work? For each campaign and rule of FILE, compares the customers it acted\n"
      "on (treated) with those its `holdout N%` put aside (held out): customers, conversion (a paid\n"
      "order within the window after the day of the customer's first action), orders, revenue,\n"
      "revenue per customer, F2 (a second purchase) of first-time buyers, and coupon redemptions\n"
      "when orders carry a `coupon` column; then the uplift (treated - held out) with a 95%\n"
      "interval: two-proportion for rates, Welch for revenue per customer (docs/outcomes.md).\n\n"
      "Who was acted on comes from the real outbox (rows dated in the range) and from a dry run of\n"
      "the script over the range, which also finds the held-out customers (they are never written\n"
      "to the outbox). Over past dates with no outbox rows this is a backtest: nobody was really\n"
      "treated. Nothing is written to the store.\n\n"
      "Options:\n"
      "  --db STORE           the SQLite store (read only)\n"
      "  --from D --to D      the days whose actions are measured, YYYY-MM-DD, inclusive\n"
      "  --window N           days after the action's day in which orders count (default 30)\n"
      "  --min-customers N    customers each arm needs for an interval (default 30); below it:\n"
      "                       \"not enough customers to tell\"\n"
      "  --format F           text (tables, default), jsonl (one object per campaign or rule) or csv\n"
      "  --report FILE        also write an HTML report with a chart per campaign\n"
      "  --help               show this help\n\n"
      "Example:\n  crm outcomes examples/campaigns/winback.crm --db shop.db --from 2026-01-01 --to 2026-03-31\n\n"
      "Exit codes: 0 ok, 1 script or data error, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db", "--from", "--to", "--window", "--min-customers", "--format", "--report"}}, error);
  if (!args) return usage_error("outcomes", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.size() != 1) return usage_error("outcomes", "expected exactly one script FILE");
  auto db = args->option("--db");
  if (!db) return usage_error("outcomes", "missing --db STORE");
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl" && format != "csv")
    return usage_error("outcomes", "--format must be text, jsonl or csv");
  if (!args->option("--from") || !args->option("--to")) return usage_error("outcomes", "--from D and --to D are required");
  std::optional<Days> from, to;
  if (!date_option(*args, "--from", from, error) || !date_option(*args, "--to", to, error))
    return usage_error("outcomes", error);
  if (*from > *to) return usage_error("outcomes", "--from is after --to");
  if (*to - *from + 1 > kMaxDays)
    return usage_error("outcomes", fmt::format("the range has {} days; at most {} at once", *to - *from + 1, kMaxDays));
  int64_t window = engine::kDefaultOutcomeWindow, min_customers = engine::kDefaultMinCustomers;
  if (!int_option(*args, "--window", 1, kMaxDays, window, error) ||
      !int_option(*args, "--min-customers", 1, 1'000'000'000, min_customers, error))
    return usage_error("outcomes", error);
  auto report_path = args->option("--report");
  if (report_path && report_path->empty()) return usage_error("outcomes", "--report needs a file name");

  int code = kExitOk;
  auto setup = prepare_run("outcomes", args->positional[0], *db, code);
  if (!setup) return code;
  if (report_path && !can_write_beside(*report_path, error)) {  // fail before the work, not after
    fmt::print(stderr, "crm outcomes: error: cannot write the report '{}': {}\n", *report_path, error);
    return kExitError;
  }
  load_facts(*setup);

  engine::OutcomesAccumulator acc(setup->script.program, *setup->facts, *from, *to);
  // The real outbox in the range is the treated side as it happened; the dry run starts from the
  // history before --from (as `crm simulate` does) and adds the held-out customers.
  auto& outbox = setup->facts->outbox;
  for (const auto& e : outbox) acc.add_outbox(e);
  std::erase_if(outbox, [&](const engine::Facts::OutboxEntry& e) { return e.run_date >= *from; });
  engine::Runner runner(setup->script, *setup->facts);
  runner.load_history_from_outbox();
  runner.set_render_subjects(false);
  engine::SimulateOptions options;
  options.from = *from;
  options.to = *to;
  options.on_day = [&](Days, const std::vector<engine::ActionOut>& actions) {
    for (const auto& a : actions) acc.add(a);
  };
  engine::simulate(runner, setup->script.program, *setup->facts, options);

  std::unordered_map<int64_t, std::string> coupons;
  for (auto& [id, code_text] : setup->store->order_coupons()) coupons.emplace(id, std::move(code_text));
  engine::OutcomesResult result = acc.finish(static_cast<int>(window), min_customers, &coupons);

  // The report first: a reader of stdout that stops early (`| head`) must not cost the report.
  if (report_path) {
    std::string html = engine::outcomes_html_document(result, args->positional[0], *db);
    if (!write_file_atomically(*report_path, html, error)) {
      fmt::print(stderr, "crm outcomes: error: cannot write the report '{}': {}\n", *report_path, error);
      return kExitError;
    }
  }
  std::string out = format == "jsonl" ? engine::outcomes_jsonl(result)
                    : format == "csv" ? engine::outcomes_csv(result)
                                      : engine::outcomes_text(result);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace crm::cli
