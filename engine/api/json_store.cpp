// JSON stores for the embedding API (Store::from_json): a JSON document of SPEC §5 tables
// written into an in-memory SQLite store through the store's FactWriter; a customers key that
// is not a column becomes an extra column typed by its first non-null value.
#include "engine/api/internal.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/store/fact_writer.hpp"
#include "lang/date.hpp"

namespace crm::detail {

namespace {

// The SPEC §5 tables a JSON document may fill.
const char* const kTables[] = {"customers", "products", "orders",  "order_items", "subscriptions",
                               "surveys",   "referrals", "events", "tags",        "outbox"};

// The SQL type of an extra customers column, from its first non-null JSON value.
const char* sql_type_of(const nlohmann::json& v) {
  if (v.is_boolean()) return "BOOLEAN";
  if (v.is_number_integer() || v.is_number_unsigned()) return "INTEGER";
  if (v.is_number_float()) return "REAL";
  if (v.is_string() && parse_date(v.get<std::string>()).has_value()) return "DATE";
  return "TEXT";
}

// A JSON value as a stored value (objects and arrays, an event's payload, as JSON text).
engine::Cell json_cell(const nlohmann::json& v) {
  if (v.is_null()) return {};
  if (v.is_boolean()) return int64_t{v.get<bool>() ? 1 : 0};
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_float()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

void fill_from_json(SQLite::Database& db, const nlohmann::json& doc, std::optional<std::string>& timezone) {
  if (!doc.is_object()) throw Error("customers JSON: expected an object whose keys are table names");
  if (!doc.contains("customers")) throw Error("customers JSON: the \"customers\" array is missing");
  SQLite::Transaction tx(db);
  engine::FactWriter writer(db);
  for (const auto& [table, rows] : doc.items()) {
    if (table == "timezone") {
      if (!rows.is_string()) throw Error("customers JSON: \"timezone\" must be a string such as \"Asia/Tokyo\"");
      timezone = rows.get<std::string>();
      continue;
    }
    const std::string& name = table;  // clang before 16 cannot capture a structured binding
    if (std::find_if(std::begin(kTables), std::end(kTables), [&](const char* t) { return name == t; }) ==
        std::end(kTables)) {
      std::string list;
      for (const char* t : kTables) list += std::string(list.empty() ? "" : ", ") + t;
      throw Error(fmt::format("customers JSON: unknown table '{}' (expected timezone, {})", table, list));
    }
    if (!rows.is_array()) throw Error(fmt::format("customers JSON: \"{}\" must be an array of row objects", table));
    std::set<std::string> columns = writer.columns(table);
    // Keys not in the table: extra attributes for customers, an error elsewhere.
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!rows[i].is_object())
        throw Error(fmt::format("customers JSON: {}[{}] is not an object", table, i));
      for (const auto& [key, value] : rows[i].items()) {
        if (columns.count(key)) continue;
        if (table != "customers")
          throw Error(fmt::format("customers JSON: {}[{}] has the key '{}', which is not a column of {}", table, i, key,
                                  table));
        if (value.is_null()) continue;  // typed by its first non-null value
        writer.add_customer_column(key, sql_type_of(value));
        columns.insert(key);
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<std::string> keys;
      std::vector<engine::Cell> values;
      for (const auto& [key, value] : rows[i].items()) {
        if (!columns.count(key)) continue;  // a key that is null in every row
        keys.push_back(key);
        values.push_back(json_cell(value));
      }
      if (keys.empty()) throw Error(fmt::format("customers JSON: {}[{}] is empty", table, i));
      try {
        writer.insert(table, keys, values);
      } catch (const SQLite::Exception& e) {
        std::string hint;  // SQLite's words, with what to change
        if (std::string_view(e.what()).find("datatype mismatch") != std::string_view::npos)
          hint = " (an \"id\" must be a whole number)";
        else if (std::string_view(e.what()).find("UNIQUE") != std::string_view::npos)
          hint = " (two rows with the same id or key)";
        throw Error(fmt::format("customers JSON: {}[{}]: {}{}", table, i, e.what(), hint));
      }
    }
  }
  tx.commit();
}

}  // namespace crm::detail
