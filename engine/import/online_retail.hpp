// Importer of the UCI "Online Retail" data set (a UK gift shop's 2010-2011 invoices, one CSV
// row per invoice line, optionally gzip-compressed) into a crm store: `crm import online-retail`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace crm::examples {

struct OnlineRetailOptions {
  // The data set has no consent flags: by default every opt-in is null (nothing is sent);
  // with this set, email_opt_in is 1 so that simulations have someone to send to.
  bool assume_email_opt_in = false;
};

struct OnlineRetailCounts {
  int64_t rows = 0;                    // data rows read
  int64_t skipped_no_customer = 0;     // rows without a CustomerID (not attributable)
  int64_t skipped_bad = 0;             // rows with an unreadable date, number or invoice number
  int64_t customers = 0;
  int64_t products = 0;
  int64_t orders = 0;                  // paid invoices
  int64_t refunds = 0;                 // cancellation invoices ('C...'), stored as refunded orders
  int64_t order_items = 0;
  std::vector<std::string> warnings;   // "file:line: ..." for the first few skipped bad rows
};

// Order ids: an invoice "536365" becomes orders.id 536365; a cancellation "C536379" becomes a
// separate order with id kRefundIdOffset + 536379, status `refunded`, and its (negative)
// quantities and total as in the file. The cancelled invoice itself stays `paid`: the data set
// rarely says which invoice a cancellation reverses, and partial returns are common.
constexpr int64_t kRefundIdOffset = 1'000'000'000;

// Reads `csv_path` (plain or gzip; the header names the columns: InvoiceNo/Invoice, StockCode,
// Description, Quantity, InvoiceDate, UnitPrice/Price, CustomerID/Customer ID, Country) into the
// store at `db_path` in one transaction. Throws std::runtime_error naming the file and line when
// the file cannot be read, a required column is missing, or the store already holds customers.
OnlineRetailCounts import_online_retail(const std::string& db_path, const std::string& csv_path,
                                        const OnlineRetailOptions& options = {});

}  // namespace crm::examples
