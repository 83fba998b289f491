// crm explain FILE --db STORE --customer ID [--date D]: for each rule, whether it fired for one
// customer and why — the value of every sub-condition, or what blocked it.
#include <fmt/core.h>

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "engine/report/explain.hpp"
#include "engine/run/run.hpp"

namespace crm::cli {

int cmd_explain(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm explain FILE --db STORE --customer ID [--date D] [--format text|jsonl]\n\n"
      "Shows, for one customer on one day (default: today), each rule in evaluation order: whether\n"
      "it fired, and why — the value of every sub-condition (true, false, or unknown because an\n"
      "attribute is null), or what blocked it: once/every/after, holdout, consent, a cap.\n"
      "Nothing is written to the store.\n\n"
      "Options:\n"
      "  --db STORE       the SQLite store\n"
      "  --customer ID    the customer's id\n"
      "  --date D         the evaluation date (YYYY-MM-DD), default today in the run's time zone\n"
      "  --format F       text (default) or jsonl (one object per rule)\n"
      "  --help           show this help\n\n"
      "Example:\n  crm explain examples/campaigns/playbook.crm --db shop.db --customer 42 --date 2026-11-24\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db", "--customer", "--date", "--format"}}, error);
  if (!args) return usage_error("explain", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.size() != 1) return usage_error("explain", "expected exactly one script FILE");
  auto db = args->option("--db");
  auto cust = args->option("--customer");
  if (!db) return usage_error("explain", "missing --db STORE");
  if (!cust) return usage_error("explain", "missing --customer ID");
  int64_t customer = 0;
  try {
    size_t pos = 0;
    customer = std::stoll(*cust, &pos);
    if (pos != cust->size()) throw std::invalid_argument("x");
  } catch (...) {
    return usage_error("explain", "--customer '" + *cust + "' is not an integer id");
  }
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl") return usage_error("explain", "--format must be text or jsonl");
  std::optional<Days> date;
  if (!date_option(*args, "--date", date, error)) return usage_error("explain", error);
  int code = kExitOk;
  auto setup = prepare_run("explain", args->positional[0], *db, code, /*read_only=*/true);
  if (!setup) return code;
  if (!load_and_compile(*setup, code)) return code;
  if (!setup->facts->row_of(customer)) {
    fmt::print(stderr, "crm explain: error: no customer with id {} in {}\n", customer, *db);
    return kExitError;
  }
  Days d = date ? *date : engine::today_in(setup->tz);
  engine::Runner runner(setup->script.program, setup->script.graph, *setup->program, *setup->facts);
  runner.load_history_from_outbox();
  std::vector<engine::RuleTrace> traces;
  runner.evaluate_day(d, customer, &traces);

  std::string out = format == "jsonl" ? engine::explain_jsonl(setup->script.program, traces, customer, d)
                                       : engine::explain_text(setup->script.program, traces, customer, d);
  fmt::print("{}", out);
  return kExitOk;
}

}  // namespace crm::cli
