// crm import FORMAT --db FILE INPUT: loads a CSV export into a store. Formats: online-retail
// (the UCI Online Retail data set, see engine/import/online_retail.hpp).
#include <fmt/core.h>

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/import/staging.hpp"
#include "engine/import/online_retail.hpp"

namespace crm::cli {

int cmd_import(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm import online-retail --db FILE [--assume-email-opt-in] CSV[.gz]\n\n"
      "Loads the UCI Online Retail data set (InvoiceNo, StockCode, Description, Quantity,\n"
      "InvoiceDate, UnitPrice, CustomerID, Country; plain or gzip CSV) into a new store:\n"
      "customers from CustomerID (rows without one are skipped), one paid order per invoice,\n"
      "and each cancellation invoice (C...) as a separate refunded order with id 1000000000 +\n"
      "its number and negative quantities. Products come from StockCode, Description, UnitPrice.\n\n"
      "Options:\n"
      "  --db FILE               the store to write (must hold no customers yet)\n"
      "  --assume-email-opt-in   set email_opt_in = 1 (the data has no consent; default null)\n"
      "  --help                  show this help\n\n"
      "Exit codes: 0 ok, 1 unreadable or malformed input, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--assume-email-opt-in"}, {"--db"}}, error);
  if (!args) return usage_error("import", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("import", "expected a format: online-retail");
  if (args->positional[0] != "online-retail")
    return usage_error("import", "unknown format '" + args->positional[0] + "' (known: online-retail)");
  if (args->positional.size() != 2) return usage_error("import", "expected one input file after 'online-retail'");
  auto db = args->option("--db");
  if (!db) return usage_error("import", "--db FILE is required");
  examples::OnlineRetailOptions options;
  options.assume_email_opt_in = args->flag("--assume-email-opt-in");
  auto c = examples::fill_any_store(*db, [&](const std::string& path) {
    return examples::import_online_retail(path, args->positional[1], options);
  });
  for (const auto& w : c.warnings) fmt::print(stderr, "warning: {}\n", w);
  if (c.skipped_bad > static_cast<int64_t>(c.warnings.size()))
    fmt::print(stderr, "warning: {} more bad rows skipped\n", c.skipped_bad - static_cast<int64_t>(c.warnings.size()));
  fmt::print(stderr,
             "imported {} rows into {}: {} customers, {} products, {} orders, {} refunds, {} items; "
             "skipped {} rows without CustomerID, {} bad rows\n",
             c.rows, shown_location(*db), c.customers, c.products, c.orders, c.refunds, c.order_items, c.skipped_no_customer,
             c.skipped_bad);
  return kExitOk;
}

}  // namespace crm::cli
