// The mapping of `crm import csv` (docs/import.md): per SPEC §5 table, which files, which CSV
// column is which field, how to read dates, numbers and statuses. Read from TOML or JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace crm::import_csv {

// A mapping that cannot be used: thrown with "MAP: [table] field: what is wrong".
class MappingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Table { Customers, Products, Orders, OrderItems, Subscriptions, Surveys, Referrals, Tags, Events };
// How a cell is read: Ref = an integer id (or, with `by`, a customer's email / a product's sku).
enum class Kind { Ref, Int, Real, Text, Date, Time, Bool, Status, Json };
// When several rows give the same key (one row per order line), which value a field keeps.
enum class Aggregate { First, Last, Min, Max };

struct ColumnDef {
  const char* name;
  Kind kind;
};

// The SPEC §5 tables and columns the importer writes, in dependency order (the table of tables).
struct TableDef {
  Table table;
  const char* name;
  std::vector<ColumnDef> columns;
  std::vector<const char*> statuses;  // allowed values of `status`
};
const std::vector<TableDef>& table_defs();
const TableDef& table_def(Table t);

struct FieldSpec {
  std::string name;                 // SPEC column or attribute name
  Kind kind = Kind::Text;
  std::string column;               // CSV header name (empty for a constant)
  std::optional<std::string> constant;   // `value`: the same for every row
  std::optional<std::string> if_empty;   // `default`: used when the cell is empty
  std::vector<std::pair<std::string, std::string>> map;         // exact value (case-insensitive) -> value
  std::vector<std::pair<std::string, std::string>> prefix_map;  // value prefix -> value
  std::optional<std::string> otherwise;                          // when no map entry matches
  std::vector<std::pair<std::string, int64_t>> prefix_offsets;   // Ref: "C536379" -> 536379 + offset
  std::string strip_prefix;         // Ref: "#1001" -> 1001
  std::string by;                   // Ref: "email" (customers) or "sku" (products)
  bool positive_only = false;       // Real: 0 and negative values count as empty
  Aggregate aggregate = Aggregate::First;
  std::string sql_type;             // attributes: TEXT, INTEGER, REAL, DATE, BOOLEAN
  // Resolved settings (the field's own, else the table's, else the mapping's top level).
  std::vector<std::string> formats; // strptime-like: %Y %m %d %H %M %S %z %b %y
  std::string timezone;
  char decimal = '.';
  std::string thousands;
  std::vector<std::string> strip;
};

struct TableSpec {
  Table table = Table::Customers;
  std::string name;
  std::vector<std::string> files;   // fnmatch patterns on the FILE's base name
  std::string encoding = "utf-8";
  char delimiter = ',';
  std::vector<FieldSpec> fields;      // SPEC columns
  std::vector<FieldSpec> attributes;  // customers only: extra typed columns
  const FieldSpec* field(const std::string& name) const;
};

struct Mapping {
  std::string path;
  std::string timezone;             // top-level zone, "" = the store's
  std::vector<TableSpec> tables;    // in table_defs() order
};

// Reads a mapping file (.toml, or .json). Throws MappingError naming the file, table and key.
Mapping load_mapping(const std::string& path);
Mapping parse_mapping_json(const std::string& json_text, const std::string& path);

// `crm import csv --init-mapping FILE`: a commented TOML mapping guessed from the header and
// first rows of `csv_path`.
std::string guess_mapping(const std::string& csv_path);

}  // namespace crm::import_csv
