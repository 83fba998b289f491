// crm import FORMAT --db FILE INPUT: loads a shop's export into a store. Formats: csv (any export,
// through a mapping: engine/import/csv/, docs/import.md), online-retail (the UCI Online Retail
// data set, see engine/import/online_retail.hpp) and cdnow (the CDNOW data of the lifetime-model
// papers, see engine/import/cdnow.hpp).
#include <fmt/core.h>

#include <chrono>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "engine/import/cdnow.hpp"
#include "engine/import/csv/csv_import.hpp"
#include "engine/import/csv/csv_reader.hpp"
#include "cli/common.hpp"
#include "engine/import/staging.hpp"
#include "engine/import/online_retail.hpp"
#include "engine/store/sqlite_store.hpp"

namespace crm::cli {

namespace {

constexpr size_t kShownBadRows = 20;  // bad rows listed one by one; the rest are counted

void print_row_error(const char* prefix, const import_csv::RowError& e) {
  fmt::print(stderr, "{}{}\n", prefix, e.text());
  if (!e.hint.empty()) fmt::print(stderr, "  hint: {}\n", e.hint);
}

int cmd_import_csv(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm import csv --db STORE --mapping MAP FILE... [--max-errors N] [--dry-run]\n"
      "       crm import csv --init-mapping FILE\n\n"
      "Loads a shop's CSV exports (customers, orders, order lines, products, subscriptions,\n"
      "surveys, referrals, tags, events) into a store, as the mapping MAP (TOML or JSON) says:\n"
      "which file feeds which table, which column is which field, date formats and time zone,\n"
      "decimal separator, status values, extra customer columns. Files may be gzip-compressed,\n"
      "UTF-8 or Shift_JIS. Re-importing updates what changed (no duplicates). Everything is\n"
      "written in one transaction: on any error nothing is. See docs/import.md.\n\n"
      "Options:\n"
      "  --db STORE           the store to write (created if missing)\n"
      "  --mapping MAP        the mapping file (.toml or .json)\n"
      "  --max-errors N       skip up to N bad rows (listed on stderr) instead of failing\n"
      "  --dry-run            read and check everything, write nothing\n"
      "  --init-mapping FILE  print a commented mapping guessed from FILE's header\n"
      "  --help               show this help\n\n"
      "Exit codes: 0 ok, 1 bad rows, unreadable file or mapping, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--dry-run"}, {"--db", "--mapping", "--max-errors", "--init-mapping"}}, error);
  if (!args) return usage_error("import csv", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (auto file = args->option("--init-mapping")) {
    if (args->positional.size() > 1 || args->option("--db") || args->option("--mapping"))
      return usage_error("import csv", "--init-mapping FILE takes no other arguments");
    try {
      fmt::print("{}", import_csv::guess_mapping(*file));
    } catch (const std::exception& e) {
      fmt::print(stderr, "crm import csv: {}\n", e.what());
      return kExitError;
    }
    return kExitOk;
  }
  auto db = args->option("--db");
  auto map = args->option("--mapping");
  if (!db) return usage_error("import csv", "--db STORE is required");
  if (!map) return usage_error("import csv", "--mapping MAP is required (crm import csv --init-mapping FILE writes one)");
  std::vector<std::string> files(args->positional.begin() + 1, args->positional.end());
  if (files.empty()) return usage_error("import csv", "expected one or more CSV files");
  import_csv::ImportOptions options;
  options.dry_run = args->flag("--dry-run");
  if (auto n = args->option("--max-errors")) {
    try {
      size_t used = 0;
      options.max_errors = std::stoll(*n, &used);
      if (used != n->size() || options.max_errors < 0) throw std::invalid_argument(*n);
    } catch (const std::exception&) {
      return usage_error("import csv", "--max-errors expects a whole number >= 0, not '" + *n + "'");
    }
  }
  import_csv::ImportReport r;
  try {
    auto mapping = import_csv::load_mapping(*map);
    r = import_csv::import_csv(*db, mapping, files, options);
  } catch (const import_csv::ImportFailed& e) {
    for (size_t i = 0; i < e.errors.size() && i < kShownBadRows; ++i) print_row_error("crm import csv: ", e.errors[i]);
    fmt::print(stderr, "nothing was written: {} bad row{} ({}; fix the file or the mapping)\n", e.total,
               e.total == 1 ? "" : "s",
               options.max_errors > 0 ? "more than --max-errors " + std::to_string(options.max_errors)
                                      : "--max-errors N skips up to N bad rows");
    return kExitError;
  } catch (const std::exception& e) {  // mapping, unreadable file, store
    fmt::print(stderr, "crm import csv: {}\nnothing was written\n", e.what());
    return kExitError;
  }
  for (size_t i = 0; i < r.bad_rows.size() && i < kShownBadRows; ++i) print_row_error("warning: skipped ", r.bad_rows[i]);
  if (r.bad_rows.size() > kShownBadRows) fmt::print(stderr, "warning: {} more bad rows skipped\n", r.bad_rows.size() - kShownBadRows);
  for (const auto& n : r.notes) fmt::print(stderr, "note: {}\n", n);
  std::string tables;
  for (const auto& t : r.tables)
    tables += fmt::format("{}{} {} ({} new)", tables.empty() ? "" : ", ", t.rows, t.table, t.inserted);
  fmt::print(stderr, "{} {} rows from {} file{} into {}: {}", options.dry_run ? "dry run: read" : "imported", r.rows,
             r.files.size(), r.files.size() == 1 ? "" : "s", shown_location(*db), tables.empty() ? "nothing" : tables);
  if (r.skipped_no_customer) fmt::print(stderr, "; skipped {} rows without a customer", r.skipped_no_customer);
  if (!r.bad_rows.empty()) fmt::print(stderr, "; skipped {} bad rows", r.bad_rows.size());
  fmt::print(stderr, "{}\n", options.dry_run ? " (nothing written)" : "");
  return kExitOk;
}

}  // namespace

int cmd_import(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "csv") return cmd_import_csv(argv);
  static const char* kHelp =
      "Usage: crm import csv --db STORE --mapping MAP FILE...   (see crm import csv --help)\n"
      "       crm import online-retail --db FILE [--assume-email-opt-in] CSV[.gz]\n"
      "       crm import cdnow --db FILE TXT\n"
      "       crm import sqlite --db postgresql://... STORE.db\n\n"
      "Loads the UCI Online Retail data set (InvoiceNo, StockCode, Description, Quantity,\n"
      "InvoiceDate, UnitPrice, CustomerID, Country; plain or gzip CSV) into a new store:\n"
      "customers from CustomerID (rows without one are skipped), one paid order per invoice,\n"
      "and each cancellation invoice (C...) as a separate refunded order with id 1000000000 +\n"
      "its number and negative quantities. Products come from StockCode, Description, UnitPrice.\n\n"
      "cdnow loads the CDNOW purchases of Fader, Hardie & Lee (2005) (whitespace-separated: customer\n"
      "id, [sample id,] date YYYYMMDD, number of CDs, dollars): one paid order per line at noon\n"
      "of its date, with the CDs as items of one product \"CD\"; customers from the ids.\n\n"
      "sqlite copies a SQLite crm store (its shop tables, extra customer columns and time zone;\n"
      "not its outbox or runs) into a PostgreSQL store that holds no customers, with one COPY\n"
      "per table in one transaction.\n\n"
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
  if (args->positional.empty()) return usage_error("import", "expected a format: csv, online-retail or cdnow");
  const std::string& format = args->positional[0];
  if (format != "online-retail" && format != "cdnow" && format != "sqlite")
    return usage_error("import", "unknown format '" + format + "' (known: csv, online-retail, cdnow, sqlite)");
  if (args->positional.size() != 2) return usage_error("import", "expected one input file after '" + format + "'");
  auto db = args->option("--db");
  if (!db) return usage_error("import", "--db FILE is required");
  if (format == "sqlite") {
    if (!engine::pg::is_uri(*db)) return usage_error("import", "import sqlite copies into a PostgreSQL store: --db postgresql://...");
    if (args->flag("--assume-email-opt-in")) return usage_error("import", "--assume-email-opt-in is for online-retail");
    const std::string& file = args->positional[1];
    engine::open_store_read_only(file);  // a crm store of this schema version, or a clear error
    auto start = std::chrono::steady_clock::now();
    auto store = engine::PgStore::open(*db, /*create_if_missing=*/true);
    if (store->customer_count() > 0)
      throw engine::StoreError("'" + store->location() + "' already holds customers; use an empty database or schema");
    store->copy_from_sqlite(file);
    fmt::print(stderr, "copied {} into {}: {} customers in {:.1f} s\n", file, store->location(), store->customer_count(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return kExitOk;
  }
  if (format == "cdnow") {
    if (args->flag("--assume-email-opt-in")) return usage_error("import", "--assume-email-opt-in is for online-retail");
    auto c = examples::fill_any_store(
        *db, [&](const std::string& path) { return importer::import_cdnow(path, args->positional[1]); });
    for (const auto& w : c.warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print(stderr, "imported {} lines into {}: {} customers, {} orders; skipped {} bad lines\n", c.lines,
               shown_location(*db),
               c.customers, c.orders, c.skipped_bad);
    return kExitOk;
  }
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
