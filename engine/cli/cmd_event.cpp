// crm event FILE --db STORE --customer ID --type TYPE [--payload JSON] [--id ID] [--date D]
// [--dry-run] [--format text|jsonl]: the real-time path — evaluates the event rules (and day-0
// journey steps) for one occurrence now, and writes the passed actions to the outbox.
#include <fmt/core.h>

#include <charconv>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "engine/frame/attributes.hpp"
#include "engine/run/events.hpp"
#include "engine/run/run.hpp"
#include "lang/terminal_safe.hpp"

namespace crm::cli {
namespace {

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

int cmd_event(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm event FILE --db STORE --customer ID --type TYPE [--payload JSON] [--id ID] [--date D]\n"
      "                 [--dry-run] [--format text|jsonl]\n\n"
      "Evaluates the 'on TYPE' rules of FILE (and the day-0 steps of journeys entered by TYPE) for one\n"
      "customer right away, and writes the actions that pass to the outbox. The idempotency keys are\n"
      "those of the daily run's replay of the same stored event (order:ID, event:ID), so an event sent\n"
      "here and later replayed by 'crm run' is acted on once.\n\n"
      "Options:\n"
      "  --db STORE        the SQLite store\n"
      "  --customer ID     the customer's id\n"
      "  --type TYPE       purchase, first_purchase, signup, cancel_request, survey, or any events.type\n"
      "  --payload JSON    the event's JSON object; a purchase reads order_id, total and skus\n"
      "  --id ID           the order id (purchase) or the events row id (other types)\n"
      "  --date D          the event's day (default: today in the script's or store's time zone)\n"
      "  --dry-run         print the actions, write nothing\n"
      "  --format F        text (default) or jsonl (one action per line)\n"
      "  --help            show this help\n\n"
      "Example:\n  crm event playbook.crm --db shop.db --customer 42 --type cancel_request \\\n"
      "    --payload '{\"reason\": \"too_expensive\"}' --id 981\n\n"
      "Exit codes: 0 ok, 1 script or data error, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--dry-run"}, {"--db", "--customer", "--type", "--payload", "--id", "--date", "--format"}},
                         error);
  if (!args) return usage_error("event", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.size() != 1) return usage_error("event", "expected exactly one script FILE");
  auto db = args->option("--db");
  if (!db) return usage_error("event", "missing --db STORE");
  auto customer_s = args->option("--customer");
  if (!customer_s) return usage_error("event", "missing --customer ID");
  auto customer = parse_int(*customer_s);
  if (!customer) return usage_error("event", fmt::format("--customer '{}' is not an integer id", *customer_s));
  auto type = args->option("--type");
  if (!type || type->empty()) return usage_error("event", "missing --type TYPE (e.g. purchase, cancel_request)");
  std::optional<int64_t> id;
  if (auto s = args->option("--id")) {
    id = parse_int(*s);
    if (!id) return usage_error("event", fmt::format("--id '{}' is not an integer id", *s));
  }
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl") return usage_error("event", "--format must be text or jsonl");
  std::optional<Days> date;
  if (!date_option(*args, "--date", date, error)) return usage_error("event", error);
  bool dry = args->flag("--dry-run");

  int code = kExitOk;
  auto setup = prepare_run("event", args->positional[0], *db, code, /*read_only=*/dry);
  if (!setup) return code;
  // The run lock before the facts are read: an event during a run waits for it, so its caps
  // (limit, once) see the run's outbox rows and the run never misses the event's.
  engine::RunLock lock;
  if (!dry) lock = setup->store->lock_runs();
  load_facts(*setup);
  Days d = date ? *date : engine::today_in(setup->tz);
  std::vector<engine::Occurrence> occs;
  if (!engine::realtime_occurrences(*setup->facts, *customer, d, *type, args->option("--payload").value_or(""), id, occs,
                                    error)) {
    fmt::print(stderr, "crm event: error: {}\n", error);
    return kExitError;
  }
  engine::Runner runner(setup->script, *setup->facts);
  runner.load_history_from_outbox();
  engine::Frame frame = engine::compute_frame(*setup->facts, d, runner.columns());
  std::vector<engine::ActionOut> actions = runner.evaluate_occurrences(d, frame, occs);

  size_t written = 0;
  if (!dry) {
    std::vector<engine::OutboxRow> rows;
    std::vector<engine::TagChange> tags;
    engine::outbox_writes(actions, rows, tags);
    written = setup->store->write_actions(d, rows, tags);
  }
  for (const auto& a : actions) {
    if (format == "jsonl") {
      fmt::print("{}\n", engine::to_json_line(a));
    } else {
      fmt::print("{}  {:<28} {:<6} {:<28} {}{}\n", format_date(a.date), a.rule_name, lang::action_name(a.kind),
                 lang::terminal_safe(a.target), engine::status_name(a.status), a.channel ? " via " + std::string(lang::channel_name(*a.channel)) : "");
    }
  }
  if (format == "text") {
    if (actions.empty()) fmt::print("no event rule fired for customer {} on '{}'\n", *customer, *type);
    if (dry) fmt::print("dry run: nothing was written to the store\n");
    else fmt::print("{} new outbox row(s) written\n", written);
  }
  if (size_t n = runner.negative_points_skipped())  // as crm run says it (issue 12.4)
    fmt::print(stderr, "crm event: warning: {} point grant(s) with a negative amount were skipped (a grant never takes "
               "points away)\n", n);
  return kExitOk;
}

}  // namespace crm::cli
