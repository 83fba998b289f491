// crm init --db FILE [--timezone ZONE] [--currency CODE]: creates a store, or migrates an older one
// to this crm's schema version; idempotent. Optionally records the store's time zone and currency
// in its meta table.
#include <fmt/core.h>

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/store/currency.hpp"
#include "engine/store/store.hpp"
#include "engine/store/timezone.hpp"
#include "lang/terminal_safe.hpp"

namespace crm::cli {

int cmd_init(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm init --db FILE [--timezone ZONE] [--currency CODE]\n\n"
      "Creates the customer store FILE (SQLite) with the tables of the crm schema, or migrates\n"
      "an existing store (or tables made by hand) to this version's schema. Running it again\n"
      "changes nothing.\n\n"
      "Options:\n"
      "  --db FILE         the store to create or migrate\n"
      "  --timezone ZONE   the store's time zone (tz database name, e.g. Asia/Tokyo): the calendar\n"
      "                    in which timestamps become dates, unless a script sets `timezone`\n"
      "  --currency CODE   the shop's currency (ISO 4217, e.g. JPY, GBP, USD): money in subjects\n"
      "                    is shown with its decimals (0 for JPY, 2 for GBP and USD)\n"
      "  --help            show this help\n\n"
      "Exit codes: 0 ok, 1 the file cannot be made a store, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db", "--timezone", "--currency"}}, error);
  if (!args) return usage_error("init", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (!args->positional.empty()) return usage_error("init", "unexpected argument '" + args->positional[0] + "' (the store is given with --db FILE)");
  auto path = args->option("--db");
  if (!path || path->empty()) return usage_error("init", "missing --db FILE");
  auto tz_name = args->option("--timezone");
  if (tz_name) {
    if (!engine::TimeZone::load(*tz_name, error)) return usage_error("init", error);
  }
  auto currency = args->option("--currency");
  if (currency && !engine::is_currency_code(*currency))
    return usage_error("init", "--currency '" + *currency + "' is not an ISO 4217 code (three capital letters, e.g. JPY, GBP, USD)");
  std::vector<std::string> added;
  int before = engine::init_store(*path, &added);
  if (tz_name) engine::open_store(*path)->set_meta_timezone(*tz_name);
  if (currency) engine::open_store(*path)->set_meta_value("currency", *currency);
  std::string what;
  for (const auto& a : added) what += (what.empty() ? "" : ", ") + a;
  if (before == 0)
    fmt::print("initialised {} (schema version {})\n", shown_location(*path), engine::kSchemaVersion);
  else if (before < engine::kSchemaVersion)
    fmt::print("migrated {} from schema version {} to {}\n", shown_location(*path), before, engine::kSchemaVersion);
  else if (!added.empty())  // schema version current, but something was missing (a dropped table)
    fmt::print("repaired {} (schema version {}): added the missing {}{}\n", shown_location(*path), engine::kSchemaVersion,
               lang::terminal_safe(what),
               what.find("table ") != std::string::npos ? "; a recreated table is empty (its rows come back only from a backup)" : "");
  else
    fmt::print("{} is up to date (schema version {})\n", shown_location(*path), engine::kSchemaVersion);
  if (tz_name) fmt::print("time zone: {}\n", *tz_name);
  if (currency) fmt::print("currency: {} ({} decimals)\n", *currency, engine::currency_digits(*currency));
  return kExitOk;
}

}  // namespace crm::cli
