// crm explain FILE --db STORE --customer ID [--date D]: for each rule, whether it fired for one
// customer and why — the value of every sub-condition, or what blocked it.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "engine/report/explain.hpp"
#include "engine/run/run.hpp"
#include "lang/diagnostic.hpp"

namespace crm::cli {

int cmd_explain(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm explain FILE --db STORE --customer ID [--date D] [--rule NAME]... [--full]\n"
      "                   [--format text|jsonl]\n\n"
      "Shows, for one customer on one day (default: today), each rule in evaluation order: whether\n"
      "it fired, and why. By default one line per rule: fired (with its actions), what blocked it\n"
      "(once/every/after, holdout, consent, a cap), or the first sub-condition that is not true\n"
      "with the attributes under it; a journey step lists the customer's live instances (entry\n"
      "event and day, the step's due day, the unless and exit values). --full prints the value of\n"
      "every sub-condition. Nothing is written to the store.\n\n"
      "Options:\n"
      "  --db STORE       the SQLite store\n"
      "  --customer ID    the customer's id\n"
      "  --date D         the evaluation date (YYYY-MM-DD), default today in the run's time zone\n"
      "  --rule NAME      only this rule (its qualified name, e.g. winback.dormant_90); may be\n"
      "                   given several times\n"
      "  --full           every sub-condition's value, as a tree under each rule\n"
      "  --format F       text (default) or jsonl (one object per rule)\n"
      "  --help           show this help\n\n"
      "Example:\n  crm explain examples/campaigns/playbook.crm --db shop.db --customer 42 --date 2026-11-24\n";
  std::string error;
  auto args = parse_args(argv, {{"--full"}, {"--db", "--customer", "--date", "--format", "--rule"}}, error);
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
  // --rule NAME may be given several times (Args keeps the last value of an option: read argv).
  std::vector<std::string> only_rules;
  for (size_t k = 0; k < argv.size(); ++k) {
    if (argv[k] == "--rule" && k + 1 < argv.size()) only_rules.push_back(argv[++k]);
    else if (argv[k].rfind("--rule=", 0) == 0) only_rules.push_back(argv[k].substr(7));
  }
  int code = kExitOk;
  auto setup = prepare_run("explain", args->positional[0], *db, code, /*read_only=*/true);
  if (!setup) return code;
  load_facts(*setup);
  if (!setup->facts->row_of(customer)) {
    fmt::print(stderr, "crm explain: error: no customer with id {} in {}\n", customer, shown_location(*db));
    return kExitError;
  }
  Days d = date ? *date : engine::today_in(setup->tz);
  engine::Runner runner(setup->script, *setup->facts);
  runner.load_history_from_outbox();
  std::vector<engine::RuleTrace> traces;
  runner.evaluate_day(d, customer, &traces);
  if (!only_rules.empty()) {
    const auto& rules = setup->script.program.rules;
    for (const auto& name : only_rules) {
      if (setup->script.program.find_rule(name)) continue;
      std::vector<std::string> names;
      for (const auto& r : rules) names.push_back(r.name);
      std::string best = lang::closest_match(name, names);
      fmt::print(stderr, "crm explain: error: no rule '{}' in {}{}\n", name, args->positional[0],
                 best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best));
      return kExitError;
    }
    std::erase_if(traces, [&](const engine::RuleTrace& t) {
      return std::find(only_rules.begin(), only_rules.end(), rules[t.rule].name) == only_rules.end();
    });
  }

  std::string out = format == "jsonl" ? engine::explain_jsonl(setup->script.program, traces, customer, d)
                    : args->flag("--full") ? engine::explain_text(setup->script.program, traces, customer, d)
                                           : engine::explain_summary(setup->script.program, traces, customer, d);
  fmt::print("{}", out);
  return kExitOk;
}

}  // namespace crm::cli
