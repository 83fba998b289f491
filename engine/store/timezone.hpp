// Time zones and timestamps: turns the store's ISO-8601 timestamps into calendar days in the
// run's time zone (SPEC §3 `timezone`, §5). Uses the system tz database, with a cache of offsets.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/date.hpp"

namespace crm::engine {

// A null day in the columnar facts (a missing or malformed date).
constexpr Days kNoDay = INT32_MIN;

constexpr int64_t kSecondsPerDay = 86400;

constexpr int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// A time zone of the tz database ("Asia/Tokyo", "America/New_York", "UTC").
// Conversions cache the zone's UTC offsets per UTC hour (transitions inside an hour are found
// exactly), so millions of timestamps convert with one table lookup each.
// Thread-safety: a TimeZone is NOT safe to use from several threads at once (the cache fills
// lazily); copy it per thread. Filling the cache briefly sets the process's TZ variable under a
// global mutex and restores it.
class TimeZone {
 public:
  TimeZone();  // UTC

  // Loads a zone by name. Returns nullopt and sets `error` (with a "did you mean" hint when a
  // close name exists) when the tz database has no such zone.
  static std::optional<TimeZone> load(std::string_view name, std::string& error);

  const std::string& name() const { return name_; }
  bool is_utc() const { return utc_; }

  // Seconds east of UTC in effect at the UTC instant `utc_seconds` (since 1970-01-01T00:00Z).
  int32_t offset_at(int64_t utc_seconds) const;
  // The local wall-clock time of an instant, as seconds since 1970-01-01T00:00 local.
  int64_t local_seconds(int64_t utc_seconds) const { return utc_seconds + offset_at(utc_seconds); }
  // The local calendar day of an instant.
  Days day_of(int64_t utc_seconds) const { return static_cast<Days>(floor_div(local_seconds(utc_seconds), kSecondsPerDay)); }

 private:
  struct HourEntry {
    int32_t before = 0;     // offset at the start of the hour
    int32_t after = 0;      // offset from `switch_at` on (== before when nothing changes)
    int32_t switch_at = 0;  // seconds into the hour when `after` takes effect
  };
  using Block = std::vector<HourEntry>;
  const Block& block(int64_t index) const;

  std::string name_ = "UTC";
  bool utc_ = true;
  mutable std::map<int64_t, std::shared_ptr<Block>> blocks_;
  mutable int64_t last_index_ = INT64_MIN;
  mutable const Block* last_block_ = nullptr;
};

// A parsed timestamp, in the zone it is converted to.
struct LocalTime {
  Days day = 0;               // local calendar day
  int64_t local_seconds = 0;  // local wall clock, seconds since 1970-01-01T00:00 local
};

// Parses "2026-11-23", "2026-11-23T10:15:00", "2026-11-23 10:15", with optional fractional
// seconds and an optional offset ("Z", "+09:00", "+0900", "+09"). A timestamp with an offset is
// an instant, converted to `tz`; without one it is already local time in `tz` (its day is the
// date as written). Returns nullopt for anything malformed (never throws).
std::optional<LocalTime> parse_timestamp(std::string_view text, const TimeZone& tz);

// The same for an integer column value: seconds since the Unix epoch (UTC).
LocalTime local_time_of_epoch(int64_t utc_seconds, const TimeZone& tz);

// Today's date in `tz` (from the system clock).
Days today_in(const TimeZone& tz);

}  // namespace crm::engine
