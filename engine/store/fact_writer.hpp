// The one writer of SPEC §5 rows into a SQLite store: test fixtures (engine/run/test_runner),
// the embedding API's JSON stores, the sample shop and the Online Retail importer. Typed rows
// in, values as bound parameters, names as quoted identifiers; one prepared statement per
// table and column list. The caller owns the transaction.
#pragma once
#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/store/columns.hpp"

namespace crm::engine {

// One value: NULL, an integer (bools as 0/1), a real, or text (dates as YYYY-MM-DD,
// timestamps as written).
using Cell = std::variant<std::monostate, int64_t, double, std::string>;

struct CustomerRow {
  std::array<Cell, kCustomerColumnCount> cells;        // by CustomerCol; NULL unless set
  std::vector<std::pair<std::string, Cell>> extra;     // extra columns (add_customer_column first)
  CustomerRow& set(CustomerCol c, Cell v) {
    cells[static_cast<size_t>(c)] = std::move(v);
    return *this;
  }
};
struct ProductRow {
  std::optional<int64_t> id;  // unset: the next rowid
  std::string sku;
  Cell name, category, price;
};
struct OrderRow {
  int64_t id = 0, customer_id = 0;
  std::string ordered_at;
  Cell total;
  std::string status;
};
struct OrderItemRow {
  int64_t order_id = 0, product_id = 0, quantity = 0;
  Cell price;
};
struct SubscriptionRow {
  std::optional<int64_t> id;
  int64_t customer_id = 0;
  Cell product_id;
  std::string started_at, status;
  int64_t cycles = 0;
  Cell cancelled_at, cancel_reason;
};
struct SurveyRow {
  int64_t customer_id = 0;
  std::string answered_at;
  int64_t satisfaction = 0;
};
struct ReferralRow {
  int64_t referrer_id = 0, referee_id = 0;
  std::string created_at;
};
struct EventRow {
  std::optional<int64_t> id;
  int64_t customer_id = 0;
  std::string type, at, payload;
};
struct TagRow {  // a customer's tag is a set member: a second one is ignored
  int64_t customer_id = 0;
  std::string tag, set_at;
};

class FactWriter {
 public:
  explicit FactWriter(SQLite::Database& db) : db_(db) {}

  // Adds an extra customers column of SQL type `sql_type` (INTEGER, REAL, NUMERIC, BOOLEAN,
  // DATE, TEXT) unless the table has it.
  void add_customer_column(const std::string& name, const std::string& sql_type);
  // The columns `table` has in this store.
  std::set<std::string> columns(const std::string& table);

  // Each returns the new row's rowid.
  int64_t write(const CustomerRow& r);
  int64_t write(const ProductRow& r);
  int64_t write(const OrderRow& r);
  int64_t write(const OrderItemRow& r);
  int64_t write(const SubscriptionRow& r);
  int64_t write(const SurveyRow& r);
  int64_t write(const ReferralRow& r);
  int64_t write(const EventRow& r);
  int64_t write(const TagRow& r);

  // A row of any SPEC §5 table given as column names and values (the API's JSON rows).
  // `table` must be one of the store's own tables (it is quoted, not checked).
  int64_t insert(const std::string& table, const std::vector<std::string>& columns, const std::vector<Cell>& values,
                 bool or_ignore = false);

 private:
  SQLite::Statement& statement(const std::string& table, const std::vector<std::string>& columns, bool or_ignore);
  int64_t run(SQLite::Statement& st, const std::vector<Cell>& values);

  // The statement of a typed row kind, found once (statements_ keeps it in place).
  SQLite::Statement& typed(size_t kind, const std::string& table, const std::vector<std::string>& columns,
                           bool or_ignore = false);

  SQLite::Database& db_;
  std::map<std::string, SQLite::Statement> statements_;  // by the INSERT's text
  std::array<SQLite::Statement*, 9> typed_{};            // per row kind (write overloads)
  std::string customer_extras_;                          // the extra names typed_[0] was made for
};

// "name" -> "\"name\"" (inner quotes doubled).
std::string quote_identifier(const std::string& name);

}  // namespace crm::engine
