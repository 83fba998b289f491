// The table of crm subcommands: one row each (name, one-line summary, entry point), one
// file per subcommand (cmd_<name>.cpp). main.cpp and `crm --help` read this table.
#pragma once
#include <string>
#include <vector>

namespace crm::cli {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};

int cmd_check(const std::vector<std::string>& args);
int cmd_fmt(const std::vector<std::string>& args);
int cmd_graph(const std::vector<std::string>& args);
int cmd_init(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_event(const std::vector<std::string>& args);
int cmd_explain(const std::vector<std::string>& args);
int cmd_sample(const std::vector<std::string>& args);
int cmd_import(const std::vector<std::string>& args);
int cmd_simulate(const std::vector<std::string>& args);
int cmd_test(const std::vector<std::string>& args);
int cmd_deliver(const std::vector<std::string>& args);
int cmd_fit(const std::vector<std::string>& args);
int cmd_analyze(const std::vector<std::string>& args);

inline const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"check", "parse, type-check and lint .crm files", cmd_check},
      {"fmt", "rewrite .crm files in the canonical layout (--check for CI)", cmd_fmt},
      {"graph", "print the rule graph as Graphviz DOT", cmd_graph},
      {"init", "create a customer store or migrate it to this version", cmd_init},
      {"run", "evaluate a script for every customer and write the outbox (or --dry-run)", cmd_run},
      {"simulate", "dry-run a date range: what would be sent, at what cost, with the shop's KPIs", cmd_simulate},
      {"test", "run the tests (test \"NAME\" { ... }) of .crm files and *_test.crm files in folders", cmd_test},
      {"event", "evaluate the event rules for one customer's event now (real time)", cmd_event},
      {"explain", "why each rule did or did not fire for one customer", cmd_explain},
      {"sample", "write a realistic sample shop into a new store", cmd_sample},
      {"import", "load CSV exports into a store (csv with a mapping, online-retail, cdnow)", cmd_import},
      {"deliver", "post the outbox's undelivered rows to webhooks (retries, consent, --status)", cmd_deliver},
      {"fit", "fit the customer-lifetime models (BG/NBD, Pareto/NBD, Gamma-Gamma)", cmd_fit},
      {"analyze", "analyses of a store: next-purchase (what buyers bought next, by days)", cmd_analyze},
  };
  return table;
}

}  // namespace crm::cli
