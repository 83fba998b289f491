// The SPEC §5 customers columns as a table (columns.def): their names, SQL types and the
// schema version that added each, for the schema, the fact writer and the loader.
#pragma once
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

namespace crm::engine {

struct CustomerColumn {
  std::string_view name;
  std::string_view sql_type;  // SQLite
  std::string_view pg_type;   // PostgreSQL
  int since = 1;  // the schema version that added it (1: the first customers table)
};

inline constexpr CustomerColumn kCustomerColumns[] = {
#define CRM_CUSTOMER_COLUMN(n, type, pg_type, since) {#n, type, pg_type, since},
#include "engine/store/columns.def"
#undef CRM_CUSTOMER_COLUMN
};
inline constexpr size_t kCustomerColumnCount = std::size(kCustomerColumns);

// Positions in kCustomerColumns (CustomerRow::set).
enum class CustomerCol : size_t {
#define CRM_CUSTOMER_COLUMN(n, type, pg_type, since) n,
#include "engine/store/columns.def"
#undef CRM_CUSTOMER_COLUMN
};

// Whether `name` is a SPEC §5 customers column (every other column is an extra attribute).
constexpr bool is_customer_column(std::string_view name) {
  for (const auto& c : kCustomerColumns)
    if (c.name == name) return true;
  return false;
}

// "  id INTEGER PRIMARY KEY, name TEXT, ..." (lines of at most 88 columns) of the columns added
// by schema version 1: the body of migration 1's CREATE TABLE customers (later columns are
// added by their own migration).
// With `postgres`, the same list in PostgreSQL's types (pg_schema.cpp).
std::string customer_columns_sql_v1(bool postgres = false);

}  // namespace crm::engine
