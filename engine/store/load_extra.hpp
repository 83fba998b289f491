// The columns of a store table as a backend reports them, and which extra customers columns
// become typed attributes (from the declared type: SQLite's affinity rules plus DATE and BOOLEAN).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/store/facts.hpp"
#include "engine/store/store.hpp"

namespace crm::engine::loading {

struct ColumnInfo {
  std::string name;
  std::string declared;
};

// Row-count hints above this are ignored (a wrong hint could reserve gigabytes).
constexpr int64_t kMaxRowsHint = int64_t{1} << 28;  // beyond this a hint could waste gigabytes

std::string quote_ident(const std::string& s);

// "SELECT a, NULL, c FROM t": the wanted columns, NULL for those the table lacks. The column
// "rowid" is `rowid_expr` (SQLite's rowid; a row number on backends without one).
// With `filter` (a condition), only the rows it holds for are selected; `tail` may start with
// " WHERE ..." (then both hold) or " ORDER BY ...". A rowid_expr other than "rowid" (PostgreSQL's
// row_number() OVER ()) still numbers the rows of the unfiltered scan.
std::string select_sql(const std::vector<ColumnInfo>& have, const std::string& table, const std::vector<std::string>& wanted,
                       const std::string& tail = "", const std::string& rowid_expr = "rowid", const std::string& filter = "");

// The condition that keeps a shard run's rows of `table` (crm run --shard): the customer column
// through shard_sql, order items through their order; "" for tables without a customer (products)
// or without the column.
std::string shard_filter(const std::vector<ColumnInfo>& have, const std::string& table, const Shard& shard);

// The attribute type of an extra customers column, from its declared SQL type (SQLite's own
// affinity rules, plus DATE and BOOLEAN). nullopt for BLOB columns, which cannot be attributes.
std::optional<lang::Type> type_of_declared(const std::string& declared);

// The SPEC §5 columns of customers, in the order the loader selects them.

extern const std::vector<std::string> kSpec;

// The extra columns of customers that can be attributes (values left empty); `skipped` gets
// one line for each column that cannot, saying why.
std::vector<ExtraColumn> extra_columns(const std::vector<ColumnInfo>& have, std::vector<std::string>* skipped);

}  // namespace crm::engine::loading
