// Cell coercion shared by every backend's loader: a cursor `Q` gives each cell a type (SQLite's
// fundamental type codes SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_NULL), i64, f64 and
// text; these turn cells into times, booleans, integers, decimals and order statuses.
#pragma once
#include <sqlite3.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "lang/int_range.hpp"
#include "engine/store/facts.hpp"
#include "engine/store/timezone.hpp"

namespace crm::engine::loading {

template <class Q>
std::string cell_text(const Q& q, int i) {
  if (q.null(i)) return "null";
  return std::string(q.text(i));
}

// A date-or-timestamp cell: integer = Unix seconds; text = ISO-8601. nullopt when malformed.
template <class Q>
std::optional<LocalTime> cell_time(const Q& q, int i, const TimeZone& tz) {
  switch (q.type(i)) {
    case SQLITE_INTEGER: return local_time_of_epoch(q.i64(i), tz);
    case SQLITE_TEXT: return parse_timestamp(q.text(i), tz);
    default: return std::nullopt;
  }
}

// true / false / 1 / 0 / yes / no (any case); nullopt when it is none of them.
template <class Q>
std::optional<bool> cell_bool(const Q& q, int i) {
  if (q.type(i) == SQLITE_INTEGER) {
    int64_t v = q.i64(i);
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  if (q.type(i) == SQLITE_FLOAT) {
    double v = q.f64(i);
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  std::string s(q.text(i));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "true" || s == "t" || s == "yes" || s == "y") return true;
  if (s == "0" || s == "false" || s == "f" || s == "no" || s == "n") return false;
  return std::nullopt;
}

template <class Q>
std::optional<int64_t> cell_int(const Q& q, int i) {
  if (q.type(i) == SQLITE_INTEGER) return q.i64(i);
  if (q.type(i) == SQLITE_FLOAT) {
    return lang::exact_int64(q.f64(i));  // out of int64's range: null, never a wrapped value
  }
  if (q.type(i) == SQLITE_TEXT) {
    std::string s(q.text(i));
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0' && errno == 0) return v;
  }
  return std::nullopt;
}

template <class Q>
std::optional<double> cell_decimal(const Q& q, int i) {
  if (q.type(i) == SQLITE_INTEGER || q.type(i) == SQLITE_FLOAT) return q.f64(i);
  if (q.type(i) == SQLITE_TEXT) {
    std::string s(q.text(i));
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return v;
  }
  return std::nullopt;
}

// paid / cancelled (or canceled) / refunded, in any case; anything else is Unknown.
inline OrderStatus order_status(std::string_view text) {
  if (text == "paid") return OrderStatus::Paid;  // the common case, without copying
  std::string s(text);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "paid") return OrderStatus::Paid;
  if (s == "cancelled" || s == "canceled") return OrderStatus::Cancelled;
  if (s == "refunded") return OrderStatus::Refunded;
  return OrderStatus::Unknown;
}

}  // namespace crm::engine::loading
