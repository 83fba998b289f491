// Decimal -> int conversions that never hit C++'s undefined behaviour: a double outside int64's
// range (or NaN) has no int value, which the language reads as null (SPEC §4: overflow is null).
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>

namespace crm::lang {

// True when `d` lies in [-2^63, 2^63): the doubles that convert to int64 without overflow.
inline bool fits_int64(double d) { return d >= -9223372036854775808.0 && d < 9223372036854775808.0; }

// `d` rounded half away from zero, or nullopt when the result is not an int64.
inline std::optional<int64_t> rounded_int64(double d) {
  double r = std::round(d);
  if (!fits_int64(r)) return std::nullopt;
  return static_cast<int64_t>(r);
}

// `d` when it is a whole number that is an int64, else nullopt.
inline std::optional<int64_t> exact_int64(double d) {
  if (!fits_int64(d) || d != std::trunc(d)) return std::nullopt;
  return static_cast<int64_t>(d);
}

}  // namespace crm::lang
