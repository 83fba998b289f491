// Cell -> value for `crm import csv`: integers and ids, decimals with a separator, dates and
// times by format in a time zone, booleans, status maps. Errors are values with a hint.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/import/csv/mapping.hpp"
#include "engine/store/timezone.hpp"

namespace crm::import_csv {

struct Value {
  enum class Type : uint8_t { Null, Int, Real, Text } type = Type::Null;
  int64_t i = 0;
  double d = 0;
  std::string s;  // Text (reused: assigning keeps its capacity)
  bool null() const { return type == Type::Null; }
  void set_null() { type = Type::Null; }
  void set_int(int64_t v) { type = Type::Int; i = v; }
  void set_real(double v) { type = Type::Real; d = v; }
  void set_text(std::string_view v) { type = Type::Text; s.assign(v.data(), v.size()); }
  double number() const { return type == Type::Int ? static_cast<double>(i) : d; }
};

// Per-field state prepared once: the time zone loaded and how stored times are written.
struct FieldContext {
  const FieldSpec* spec = nullptr;
  std::optional<engine::TimeZone> zone;  // the zone of times without an offset
  bool write_naive = true;               // times in the store's zone are stored without an offset
  // PostgreSQL (timestamp columns keep no offset): every time is stored as this zone's local
  // time, the store's zone (the SQLite store keeps the offset and reads it in the run's zone).
  const engine::TimeZone* store_zone = nullptr;
  const std::vector<const char*>* statuses = nullptr;  // Status: the allowed values
};

// Converts one cell (already UTF-8, trimmed). Sets `out` (Null for an empty cell without a
// default), or returns false with `error` ("is not a date like %Y/%m/%d") and `hint` set.
// A Ref with `by` comes back as Text (the email or sku, resolved by the importer).
bool convert_cell(std::string_view cell, const FieldContext& ctx, Value& out, std::string& error, std::string& hint);

// Parses `text` by a strptime-like `format` (%Y %m %d %H %M %S %y %b %z %f %%, numbers may omit
// leading zeros). Returns seconds since 1970-01-01 of the wall-clock time, the offset when %z
// matched, and whether the format had a time part.
struct ParsedTime {
  int64_t local_seconds = 0;
  std::optional<int32_t> offset;  // seconds east of UTC
  bool has_time = false;
};
std::optional<ParsedTime> parse_time_format(std::string_view text, std::string_view format);

// "2024-03-01T10:15:00" (+ "+09:00" when `offset` is given).
std::string format_timestamp(int64_t local_seconds, std::optional<int32_t> offset);
// The same into `buf` (at least 25 bytes); returns the length.
size_t format_timestamp(int64_t local_seconds, std::optional<int32_t> offset, char* buf);

}  // namespace crm::import_csv
