// crm import FORMAT --db FILE INPUT: loads a shop's export into a store. Formats: online-retail
// (the UCI Online Retail data set, see examples/import/online_retail.hpp) and cdnow (the CDNOW
// data of the lifetime-model papers, see engine/import/cdnow.hpp).
#include <fmt/core.h>

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "engine/import/cdnow.hpp"
#include "examples/import/online_retail.hpp"

namespace crm::cli {

int cmd_import(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm import online-retail --db FILE [--assume-email-opt-in] CSV[.gz]\n"
      "       crm import cdnow --db FILE TXT\n\n"
      "Loads the UCI Online Retail data set (InvoiceNo, StockCode, Description, Quantity,\n"
      "InvoiceDate, UnitPrice, CustomerID, Country; plain or gzip CSV) into a new store:\n"
      "customers from CustomerID (rows without one are skipped), one paid order per invoice,\n"
      "and each cancellation invoice (C...) as a separate refunded order with id 1000000000 +\n"
      "its number and negative quantities. Products come from StockCode, Description, UnitPrice.\n\n"
      "cdnow loads the CDNOW purchases of Fader, Hardie & Lee (2005) (whitespace-separated: customer\n"
      "id, [sample id,] date YYYYMMDD, number of CDs, dollars): one paid order per line at noon\n"
      "of its date, with the CDs as items of one product \"CD\"; customers from the ids.\n\n"
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
  if (args->positional.empty()) return usage_error("import", "expected a format: online-retail or cdnow");
  const std::string& format = args->positional[0];
  if (format != "online-retail" && format != "cdnow")
    return usage_error("import", "unknown format '" + format + "' (known: online-retail, cdnow)");
  if (args->positional.size() != 2) return usage_error("import", "expected one input file after '" + format + "'");
  auto db = args->option("--db");
  if (!db) return usage_error("import", "--db FILE is required");
  if (format == "cdnow") {
    if (args->flag("--assume-email-opt-in")) return usage_error("import", "--assume-email-opt-in is for online-retail");
    auto c = importer::import_cdnow(*db, args->positional[1]);
    for (const auto& w : c.warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print(stderr, "imported {} lines into {}: {} customers, {} orders; skipped {} bad lines\n", c.lines, *db,
               c.customers, c.orders, c.skipped_bad);
    return kExitOk;
  }
  examples::OnlineRetailOptions options;
  options.assume_email_opt_in = args->flag("--assume-email-opt-in");
  auto c = examples::import_online_retail(*db, args->positional[1], options);
  for (const auto& w : c.warnings) fmt::print(stderr, "warning: {}\n", w);
  if (c.skipped_bad > static_cast<int64_t>(c.warnings.size()))
    fmt::print(stderr, "warning: {} more bad rows skipped\n", c.skipped_bad - static_cast<int64_t>(c.warnings.size()));
  fmt::print(stderr,
             "imported {} rows into {}: {} customers, {} products, {} orders, {} refunds, {} items; "
             "skipped {} rows without CustomerID, {} bad rows\n",
             c.rows, *db, c.customers, c.products, c.orders, c.refunds, c.order_items, c.skipped_no_customer,
             c.skipped_bad);
  return kExitOk;
}

}  // namespace crm::cli
