// Diagnostic collection, sorting, rendering with a source line and caret, and "did you mean".
#include "lang/diagnostic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "lang/terminal_safe.hpp"

namespace crm::lang {

Diagnostic& Diagnostics::error(SourcePtr file, Span span, std::string code, std::string message, std::string hint) {
  items_.push_back({Severity::Error, std::move(code), std::move(file), span, std::move(message), std::move(hint), {}});
  return items_.back();
}

Diagnostic& Diagnostics::warning(SourcePtr file, Span span, std::string code, std::string message, std::string hint) {
  items_.push_back({Severity::Warning, std::move(code), std::move(file), span, std::move(message), std::move(hint), {}});
  return items_.back();
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

size_t Diagnostics::error_count() const {
  return std::count_if(items_.begin(), items_.end(), [](auto& d) { return d.severity == Severity::Error; });
}

size_t Diagnostics::warning_count() const {
  return std::count_if(items_.begin(), items_.end(), [](auto& d) { return d.severity == Severity::Warning; });
}

void Diagnostics::sort() {
  auto key = [](const Diagnostic& d) {
    return std::make_tuple(d.file ? d.file->path() : std::string(), d.span.begin, static_cast<int>(d.severity), d.message);
  };
  std::stable_sort(items_.begin(), items_.end(), [&](auto& a, auto& b) { return key(a) < key(b); });
  items_.erase(std::unique(items_.begin(), items_.end(),
                           [&](auto& a, auto& b) { return key(a) == key(b) && a.span.end == b.span.end; }),
               items_.end());
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

// A script's text as a terminal may show it: control bytes (an ESC in a string literal of a
// script from elsewhere) become '?', one column each, so the caret still lines up; tabs stay.
std::string shown(std::string_view text) {
  std::string out;
  for (size_t at = 0;;) {
    size_t tab = text.find('\t', at);
    out += terminal_safe(text.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
    if (tab == std::string_view::npos) return out;
    out += '\t';
    at = tab + 1;
  }
}

// Appends "file:line:col: <sev>: message", then the source line and a caret line.
void render_located(std::string& out, const SourcePtr& file, Span span, Severity sev, const std::string& raw_message,
                    bool color) {
  std::string message = shown(raw_message);
  const char* bold = color ? "\033[1m" : "";
  const char* reset = color ? "\033[0m" : "";
  const char* sevcol = !color ? "" : sev == Severity::Error ? "\033[1;31m" : sev == Severity::Warning ? "\033[1;35m" : "\033[1;36m";
  if (!file) {
    out += fmt::format("{}crm: {}{}:{} {}\n", bold, sevcol, severity_name(sev), reset, message);
    return;
  }
  LineCol lc = file->line_col(span.begin);
  out += fmt::format("{}{}:{}:{}: {}{}:{}{} {}{}\n", bold, shown(file->path()), lc.line, lc.column, sevcol, severity_name(sev),
                     reset, bold, message, reset);
  std::string_view line = file->line_text(lc.line);
  std::string gutter = fmt::format("{:>5}", lc.line);
  out += fmt::format("{} | {}\n", gutter, shown(line));
  // Caret: spaces (tabs kept) up to the column, then ^ and ~ for the rest of the span on that line.
  std::string pad;
  uint32_t col = 1;
  for (size_t i = 0; i < line.size() && col < lc.column; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;
    pad += (c == '\t') ? '\t' : ' ';
    ++col;
  }
  uint32_t len = 1;
  if (span.end > span.begin) {
    LineCol end = file->line_col(span.end);
    if (end.line == lc.line && end.column > lc.column) len = end.column - lc.column;
    else if (end.line != lc.line) {
      uint32_t cps = 0;
      for (unsigned char c : line) if ((c & 0xC0) != 0x80) ++cps;
      len = cps >= lc.column ? cps - lc.column + 1 : 1;
    }
  }
  out += fmt::format("{} | {}{}^{}{}\n", std::string(gutter.size(), ' '), pad, color ? "\033[1;32m" : "",
                     std::string(len > 1 ? len - 1 : 0, '~'), reset);
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string render(const Diagnostic& d, bool color) {
  std::string out;
  render_located(out, d.file, d.span, d.severity, d.message, color);
  if (!d.hint.empty()) out += fmt::format("{}help:{} {}\n", color ? "\033[1;32m" : "", color ? "\033[0m" : "", shown(d.hint));
  for (const auto& n : d.notes) render_located(out, n.file, n.span, Severity::Note, n.message, color);
  return out;
}

std::string render_all(const Diagnostics& ds, bool color) {
  std::string out;
  for (const auto& d : ds.items()) out += render(d, color);
  return out;
}

std::string closest_match(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  size_t limit = std::max<size_t>(1, std::min<size_t>(3, (name.size() + 2) / 3));
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d < best_d || (d == best_d && c < best)) {
      best_d = d;
      best = c;
    }
  }
  if (best_d <= limit) return best;
  // A prefix/suffix match ("days_since" for "since") is also worth suggesting.
  for (const auto& c : candidates)
    if (name.size() >= 4 && (c.find(name) != std::string::npos)) return c;
  return {};
}

}  // namespace crm::lang
