// Time zones over the system tz database (localtime_r with TZ set, cached per UTC hour) and the
// ISO-8601 timestamp parser of the store loader.
#include "engine/store/timezone.hpp"

#include <sys/stat.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "lang/diagnostic.hpp"

namespace crm::engine {

namespace {

// Hours per cache block: about a year, so a store's timestamps touch a handful of blocks.
constexpr int64_t kHoursPerBlock = 8192;
constexpr int64_t kSecondsPerHour = 3600;

std::mutex& tz_env_mutex() {
  static std::mutex m;
  return m;
}

std::string zoneinfo_dir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

bool is_tzif_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "TZif", 4) == 0;
}

bool is_utc_name(std::string_view n) { return n == "UTC" || n == "Etc/UTC" || n == "Z" || n == "Zulu" || n == "Etc/Zulu"; }

// Every zone name under the tz database directory (only computed for a "did you mean" hint).
std::vector<std::string> known_zone_names() {
  std::vector<std::string> names;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root = zoneinfo_dir();
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), root, ec).string();
    if (rel.empty() || !(rel[0] >= 'A' && rel[0] <= 'Z')) continue;  // skip posix/, right/, *.tab
    if (rel.rfind("posix/", 0) == 0 || rel.rfind("right/", 0) == 0) continue;
    names.push_back(rel);
  }
  return names;
}

// The offset (seconds east of UTC) at `t`; the caller holds the mutex with TZ set.
int32_t system_offset(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  if (!localtime_r(&tt, &tm)) return 0;
  return static_cast<int32_t>(tm.tm_gmtoff);
}

}  // namespace

TimeZone::TimeZone() = default;

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string& error) {
  TimeZone tz;
  tz.name_ = std::string(name);
  if (is_utc_name(name)) return tz;
  bool safe = !name.empty() && name.find("..") == std::string_view::npos && name.front() != '/';
  std::string path = zoneinfo_dir() + "/" + std::string(name);
  if (!safe || !is_tzif_file(path)) {
    error = "unknown time zone '" + std::string(name) + "'";
    std::string close = lang::closest_match(std::string(name), known_zone_names());
    if (!close.empty()) error += " (did you mean '" + close + "'?)";
    else error += " (use a tz database name such as \"Asia/Tokyo\" or \"UTC\")";
    return std::nullopt;
  }
  tz.utc_ = false;
  tz.name_ = std::string(name);
  return tz;
}

const TimeZone::Block& TimeZone::block(int64_t index) const {
  if (index == last_index_) return *last_block_;
  auto it = blocks_.find(index);
  if (it == blocks_.end()) {
    auto b = std::make_shared<Block>(kHoursPerBlock);
    {
      std::lock_guard<std::mutex> lock(tz_env_mutex());
      const char* old = std::getenv("TZ");
      std::string saved = old ? old : "";
      std::string value(1, ':');
      value.append(zoneinfo_dir()).append("/").append(name_);
      setenv("TZ", value.c_str(), 1);
      tzset();
      int64_t first_hour = index * kHoursPerBlock;
      int32_t next = system_offset(first_hour * kSecondsPerHour);
      for (int64_t h = 0; h < kHoursPerBlock; ++h) {
        int64_t start = (first_hour + h) * kSecondsPerHour;
        int32_t cur = next;
        next = system_offset(start + kSecondsPerHour);
        HourEntry& e = (*b)[static_cast<size_t>(h)];
        e.before = cur;
        e.after = cur;
        if (next != cur) {
          // A transition inside this hour: find its first second by bisection.
          int64_t lo = start, hi = start + kSecondsPerHour;  // offset(lo) == cur, offset(hi) == next
          while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            (system_offset(mid) == cur ? lo : hi) = mid;
          }
          e.after = next;
          e.switch_at = static_cast<int32_t>(hi - start);
        }
      }
      if (old) setenv("TZ", saved.c_str(), 1);
      else unsetenv("TZ");
      tzset();
    }
    it = blocks_.emplace(index, std::move(b)).first;
  }
  last_index_ = index;
  last_block_ = it->second.get();
  return *last_block_;
}

int32_t TimeZone::offset_at(int64_t utc_seconds) const {
  if (utc_) return 0;
  int64_t hour = floor_div(utc_seconds, kSecondsPerHour);
  int64_t index = floor_div(hour, kHoursPerBlock);
  const HourEntry& e = block(index)[static_cast<size_t>(hour - index * kHoursPerBlock)];
  if (e.before == e.after) return e.before;
  return utc_seconds - hour * kSecondsPerHour >= e.switch_at ? e.after : e.before;
}

namespace {

// Reads exactly n digits at s[i..]; advances i.
bool read_digits(std::string_view s, size_t& i, size_t n, int& out) {
  if (i + n > s.size()) return false;
  out = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  i += n;
  return true;
}

}  // namespace

// timestamp = date [ ("T" | "t" | " ") hh ":" mm [ ":" ss [ ("." | ",") digits ] ] [ offset ] ]
// offset    = "Z" | "z" | ("+" | "-") hh [ [":"] mm ]
std::optional<LocalTime> parse_timestamp(std::string_view s, const TimeZone& tz) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  if (s.size() < 10) return std::nullopt;
  auto date = parse_date(s.substr(0, 10));
  if (!date) return std::nullopt;
  LocalTime out;
  out.day = *date;
  out.local_seconds = static_cast<int64_t>(*date) * kSecondsPerDay;
  if (s.size() == 10) return out;
  size_t i = 10;
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
  ++i;
  int hh = 0, mm = 0, ss = 0;
  if (!read_digits(s, i, 2, hh) || i >= s.size() || s[i] != ':') return std::nullopt;
  ++i;
  if (!read_digits(s, i, 2, mm)) return std::nullopt;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!read_digits(s, i, 2, ss)) return std::nullopt;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == start) return std::nullopt;
    }
  }
  if (hh > 24 || mm > 59 || ss > 60 || (hh == 24 && (mm != 0 || ss != 0))) return std::nullopt;
  if (ss == 60) ss = 59;  // a leap second stays in its minute
  int64_t local = static_cast<int64_t>(*date) * kSecondsPerDay + hh * 3600 + mm * 60 + ss;
  if (i == s.size()) {
    out.local_seconds = local;
    out.day = static_cast<Days>(floor_div(local, kSecondsPerDay));
    return out;
  }
  int64_t offset = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!read_digits(s, i, 2, oh)) return std::nullopt;
    if (i < s.size() && s[i] == ':') ++i;
    if (i < s.size() && !read_digits(s, i, 2, om)) return std::nullopt;
    if (oh > 18 || om > 59) return std::nullopt;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return local_time_of_epoch(local - offset, tz);
}

LocalTime local_time_of_epoch(int64_t utc_seconds, const TimeZone& tz) {
  LocalTime out;
  out.local_seconds = tz.local_seconds(utc_seconds);
  out.day = static_cast<Days>(floor_div(out.local_seconds, kSecondsPerDay));
  return out;
}

Days today_in(const TimeZone& tz) {
  // CRM_TODAY=YYYY-MM-DD pins "today" (reproducible tests and demos); anything else is ignored.
  if (const char* pinned = std::getenv("CRM_TODAY"))
    if (auto d = parse_date(pinned)) return *d;
  return tz.day_of(static_cast<int64_t>(::time(nullptr)));
}

}  // namespace crm::engine
