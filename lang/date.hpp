// Calendar dates as days since 1970-01-01 (proleptic Gregorian), shared by lang/ and engine/.
// Algorithms from Howard Hinnant's "chrono-compatible low-level date algorithms".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crm {

using Days = int32_t;  // days since 1970-01-01

struct Ymd {
  int y = 1970;
  unsigned m = 1;  // 1..12
  unsigned d = 1;  // 1..31
};

constexpr Days days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<Days>(era * 146097 + static_cast<int>(doe) - 719468);
}

constexpr Ymd civil_from_days(Days z0) {
  int64_t z = static_cast<int64_t>(z0) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), m, d};
}

constexpr bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned days_in_month(int y, unsigned m) {
  constexpr unsigned t[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : t[(m - 1) % 12];
}

// Parses exactly "YYYY-MM-DD" (a valid calendar date, years 1000..9999).
inline std::optional<Days> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto digits = [&](size_t from, size_t n, int& out) {
    out = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, m, d;
  if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return std::nullopt;
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > static_cast<int>(days_in_month(y, m))) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

inline std::string format_date(Days days) {
  Ymd c = civil_from_days(days);
  char buf[16];
  int y = c.y < 0 ? 0 : c.y > 9999 ? 9999 : c.y;
  buf[0] = static_cast<char>('0' + y / 1000);
  buf[1] = static_cast<char>('0' + y / 100 % 10);
  buf[2] = static_cast<char>('0' + y / 10 % 10);
  buf[3] = static_cast<char>('0' + y % 10);
  buf[4] = '-';
  buf[5] = static_cast<char>('0' + c.m / 10);
  buf[6] = static_cast<char>('0' + c.m % 10);
  buf[7] = '-';
  buf[8] = static_cast<char>('0' + c.d / 10);
  buf[9] = static_cast<char>('0' + c.d % 10);
  return std::string(buf, 10);
}

}  // namespace crm
