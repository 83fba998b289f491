// Cell conversion (row_conversion.hpp). No allocation on the common paths: numbers are parsed
// from the cell in place, times into a fixed buffer.
#include "engine/import/csv/row_conversion.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lang/date.hpp"

namespace crm::import_csv {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// "123", "-4", "17850.0" (whole numbers written by spreadsheets) -> integer.
bool parse_whole(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  if (dot != std::string_view::npos) {
    for (char c : s.substr(dot + 1))
      if (c != '0') return false;
  }
  if (!whole.empty() && whole[0] == '+') whole.remove_prefix(1);
  auto r = std::from_chars(whole.data(), whole.data() + whole.size(), out);
  return r.ec == std::errc() && r.ptr == whole.data() + whole.size() && !whole.empty();
}

const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};

}  // namespace

std::optional<ParsedTime> parse_time_format(std::string_view s, std::string_view f) {
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  bool pm = false, am_pm = false;
  ParsedTime out;
  size_t i = 0;
  auto number = [&](int max_digits, int& v) {
    int n = 0;
    v = 0;
    while (i < s.size() && n < max_digits && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0'), ++n;
    return n > 0;
  };
  for (size_t k = 0; k < f.size(); ++k) {
    if (f[k] != '%') {
      if (f[k] == ' ') {  // one space in the format matches any run of spaces
        if (i >= s.size() || s[i] != ' ') return std::nullopt;
        while (i < s.size() && s[i] == ' ') ++i;
        continue;
      }
      if (i >= s.size() || s[i] != f[k]) return std::nullopt;
      ++i;
      continue;
    }
    if (++k >= f.size()) return std::nullopt;
    char spec = f[k];
    switch (spec) {
      case 'Y': if (!number(4, y)) return std::nullopt; break;
      case 'y': if (!number(2, y)) return std::nullopt; y += y < 70 ? 2000 : 1900; break;
      case 'm': if (!number(2, mo)) return std::nullopt; break;
      case 'd': if (!number(2, d)) return std::nullopt; break;
      case 'H': case 'I': if (!number(2, h)) return std::nullopt; out.has_time = true; break;
      case 'M': if (!number(2, mi)) return std::nullopt; break;
      case 'S': if (!number(2, sec)) return std::nullopt; break;
      case 'f': {  // fractional seconds, dropped
        int ignored = 0;
        if (!number(9, ignored)) return std::nullopt;
        break;
      }
      case 'p': {
        if (i + 2 > s.size()) return std::nullopt;
        std::string_view ap = s.substr(i, 2);
        if (iequals(ap, "pm")) pm = true;
        else if (!iequals(ap, "am")) return std::nullopt;
        am_pm = true;
        i += 2;
        break;
      }
      case 'b': {
        if (i + 3 > s.size()) return std::nullopt;
        int found = -1;
        for (int m = 0; m < 12; ++m)
          if (iequals(s.substr(i, 3), kMonths[m])) found = m;
        if (found < 0) return std::nullopt;
        mo = found + 1;
        i += 3;
        while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;  // "March"
        break;
      }
      case 'z': {  // Z, +09:00, +0900, +09, UTC
        if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) { out.offset = 0; ++i; break; }
        if (i + 3 <= s.size() && iequals(s.substr(i, 3), "UTC")) { out.offset = 0; i += 3; break; }
        if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
        int sign = s[i++] == '-' ? -1 : 1, oh = 0, om = 0;
        size_t start = i;
        if (!number(2, oh) || i - start != 2) return std::nullopt;
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size() && s[i] >= '0' && s[i] <= '9' && !number(2, om)) return std::nullopt;
        out.offset = sign * (oh * 3600 + om * 60);
        break;
      }
      case '%': if (i >= s.size() || s[i] != '%') return std::nullopt; ++i; break;
      default: return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  if (am_pm) {
    if (h < 1 || h > 12) return std::nullopt;
    h = h % 12 + (pm ? 12 : 0);
  }
  if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(days_in_month(y, static_cast<unsigned>(mo))) ||
      h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  if (sec == 60) sec = 59;  // a leap second is the second before it
  Days day = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  out.local_seconds = static_cast<int64_t>(day) * engine::kSecondsPerDay + h * 3600 + mi * 60 + sec;
  return out;
}

std::string format_timestamp(int64_t local_seconds, std::optional<int32_t> offset) {
  char buf[40];
  size_t n = format_timestamp(local_seconds, offset, buf);
  return std::string(buf, n);
}

// Digits by hand: this runs for every time cell of every row.
size_t format_timestamp(int64_t local_seconds, std::optional<int32_t> offset, char* buf) {
  Days day = static_cast<Days>(engine::floor_div(local_seconds, engine::kSecondsPerDay));
  int64_t t = local_seconds - static_cast<int64_t>(day) * engine::kSecondsPerDay;
  Ymd c = civil_from_days(day);
  auto two = [](char* p, int v) { p[0] = static_cast<char>('0' + v / 10); p[1] = static_cast<char>('0' + v % 10); };
  two(buf, c.y / 100);
  two(buf + 2, c.y % 100);
  buf[4] = '-';
  two(buf + 5, static_cast<int>(c.m));
  buf[7] = '-';
  two(buf + 8, static_cast<int>(c.d));
  buf[10] = 'T';
  two(buf + 11, static_cast<int>(t / 3600));
  buf[13] = ':';
  two(buf + 14, static_cast<int>(t / 60 % 60));
  buf[16] = ':';
  two(buf + 17, static_cast<int>(t % 60));
  size_t n = 19;
  if (offset) {
    int o = *offset < 0 ? -*offset : *offset;
    buf[n++] = *offset < 0 ? '-' : '+';
    two(buf + n, o / 3600);
    buf[n + 2] = ':';
    two(buf + n + 3, o / 60 % 60);
    n += 5;
  }
  return n;
}

bool convert_cell(std::string_view cell, const FieldContext& ctx, Value& out, std::string& error, std::string& hint) {
  const FieldSpec& f = *ctx.spec;
  if (f.constant) cell = *f.constant;
  if (cell.empty()) {
    if (!f.if_empty) { out.set_null(); return true; }
    cell = *f.if_empty;
  }
  if (!f.map.empty() || !f.prefix_map.empty() || f.otherwise) {
    bool matched = false;
    for (const auto& [from, to] : f.map)
      if (iequals(cell, from)) { cell = to; matched = true; break; }
    if (!matched)
      for (const auto& [prefix, to] : f.prefix_map)
        if (cell.substr(0, prefix.size()) == prefix) { cell = to; matched = true; break; }
    if (!matched && f.otherwise) cell = *f.otherwise;
  }
  switch (f.kind) {
    case Kind::Text: out.set_text(cell); return true;
    case Kind::Ref: {
      if (!f.by.empty()) {
        out.set_text(cell);
        if (f.by == "email")
          for (char& ch : out.s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return true;
      }
      std::string_view v = cell;
      int64_t offset = 0;
      for (const auto& [prefix, add] : f.prefix_offsets)
        if (v.substr(0, prefix.size()) == prefix) { v.remove_prefix(prefix.size()); offset = add; break; }
      if (!f.strip_prefix.empty() && v.substr(0, f.strip_prefix.size()) == f.strip_prefix) v.remove_prefix(f.strip_prefix.size());
      int64_t id = 0;
      if (!parse_whole(v, id)) {
        error = "is not a whole-number id";
        hint = f.by.empty() && !v.empty() && !std::isdigit(static_cast<unsigned char>(v[0]))
                   ? "strip a prefix with strip_prefix = \"" + std::string(v.substr(0, 1)) + "\", or identify by email / sku with by = ..."
                   : "ids are whole numbers; identify customers by email with by = \"email\" or products with by = \"sku\"";
        return false;
      }
      out.set_int(id + offset);
      return true;
    }
    case Kind::Int: {
      int64_t v = 0;
      std::string_view t = cell;
      std::string tmp;
      if (!f.thousands.empty() && t.find_first_of(f.thousands) != std::string_view::npos) {
        for (char ch : t) if (f.thousands.find(ch) == std::string::npos) tmp += ch;
        t = tmp;
      }
      if (!parse_whole(t, v)) { error = "is not a whole number"; hint = "quantities and counts are whole numbers"; return false; }
      out.set_int(v);
      return true;
    }
    case Kind::Real: {
      char buf[64] = {};
      size_t n = 0;
      std::string_view t = cell;
      for (const auto& s : f.strip) {
        if (s.empty()) continue;
        if (t.substr(0, s.size()) == s) t.remove_prefix(s.size());
        if (t.size() >= s.size() && t.substr(t.size() - s.size()) == s) t.remove_suffix(s.size());
      }
      for (char ch : t) {
        if (!f.thousands.empty() && f.thousands.find(ch) != std::string::npos) continue;
        if (ch == ' ') continue;
        if (ch == f.decimal) ch = '.';
        else if (ch == '.' && f.decimal != '.') { n = sizeof buf; break; }
        if (n >= sizeof buf - 1) { n = sizeof buf; break; }
        buf[n++] = ch;
      }
      double v = 0;
      const char* start = buf;
      if (n > 0 && n < sizeof buf && buf[0] == '+') ++start;
      auto r = n < sizeof buf ? std::from_chars(start, buf + n, v) : std::from_chars_result{buf, std::errc::invalid_argument};
      if (n == 0 || r.ec != std::errc() || r.ptr != buf + n || !std::isfinite(v)) {
        error = "is not a number";
        hint = std::string("the decimal separator is '") + f.decimal + "'" +
               (f.thousands.empty() ? "" : " and thousands are separated by '" + f.thousands + "'") +
               "; set decimal = \",\" / thousands = \".\" / strip = [\"¥\"] in the mapping if the file writes numbers otherwise";
        return false;
      }
      if (f.positive_only && v <= 0) { out.set_null(); return true; }
      out.set_real(v);
      return true;
    }
    case Kind::Bool: {
      static const char* kTrue[] = {"1", "true", "yes", "y", "t", "on"};
      static const char* kFalse[] = {"0", "false", "no", "n", "f", "off"};
      for (const char* w : kTrue) if (iequals(cell, w)) { out.set_int(1); return true; }
      for (const char* w : kFalse) if (iequals(cell, w)) { out.set_int(0); return true; }
      error = "is not a yes/no value";
      hint = "use 1/0, true/false or yes/no, or map the file's words: map = { \"subscribed\" = 1, \"unsubscribed\" = 0 }";
      return false;
    }
    case Kind::Status: {
      for (const char* s : *ctx.statuses)
        if (iequals(cell, s)) { out.set_text(s); return true; }
      std::string allowed;
      for (const char* s : *ctx.statuses) allowed += (allowed.empty() ? "" : ", ") + std::string(s);
      error = "is not a status (" + allowed + ")";
      hint = "map the file's values: status = { column = \"" + f.column + "\", map = { \"" + std::string(cell) + "\" = \"" +
             (*ctx.statuses)[0] + "\" } } (or otherwise = \"...\" for everything unmapped)";
      return false;
    }
    case Kind::Json: {
      if (!nlohmann::json::accept(cell.begin(), cell.end())) { error = "is not JSON"; hint = "payloads are JSON objects like {\"page\": \"/sale\"}"; return false; }
      out.set_text(cell);
      return true;
    }
    case Kind::Date:
    case Kind::Time: {
      for (const auto& fmt : f.formats) {
        auto p = parse_time_format(cell, fmt);
        if (!p) continue;
        if (f.kind == Kind::Date) {
          out.set_text(format_date(static_cast<Days>(engine::floor_div(p->local_seconds, engine::kSecondsPerDay))));
          return true;
        }
        std::optional<int32_t> offset = p->offset;
        if (!offset && ctx.zone && !ctx.write_naive) {
          int32_t guess = ctx.zone->offset_at(p->local_seconds);
          offset = ctx.zone->offset_at(p->local_seconds - guess);
        }
        int64_t local = p->local_seconds;
        if (ctx.store_zone && offset) {
          int64_t utc = local - *offset;
          local = utc + ctx.store_zone->offset_at(utc);
          offset.reset();
        }
        char buf[40];
        out.set_text(std::string_view(buf, format_timestamp(local, offset, buf)));
        return true;
      }
      error = f.kind == Kind::Date ? "is not a date" : "is not a date and time";
      hint = "expected ";
      for (size_t k = 0; k < f.formats.size(); ++k) hint += (k ? " or " : "") + f.formats[k];
      hint += "; set format = \"...\" (e.g. \"%d/%m/%Y %H:%M\") in the mapping";
      return false;
    }
  }
  return false;
}

}  // namespace crm::import_csv
