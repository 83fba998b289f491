// Raw-text helpers of the parser (see parser_support.hpp): comments, UTF-8 checks, error tokens,
// unclosed openers and the recovery scan. They never recurse, so any input is handled in linear time.
#include "lang/parser_support.hpp"

#include <algorithm>

namespace crm::lang {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
bool is_space(char c) { return is_blank(c) || c == '\n'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

std::string word_at(const std::string& text, size_t pos) {
  if (pos >= text.size() || !is_ident_start(text[pos])) return {};
  size_t e = pos;
  while (e < text.size() && is_ident_char(text[e])) ++e;
  return text.substr(pos, e - pos);
}

// Skips a string starting at the '"' at `i`; returns the offset after its closing quote, or of the
// newline / end of file that ends an unterminated one.
size_t skip_string(const std::string& text, size_t i) {
  ++i;
  while (i < text.size() && text[i] != '"' && text[i] != '\n') i += (text[i] == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ? 2 : 1;
  return i < text.size() && text[i] == '"' ? i + 1 : i;
}

size_t skip_comment(const std::string& text, size_t i) {
  while (i < text.size() && text[i] != '\n') ++i;
  return i;
}

bool in_list(const std::string& w, std::initializer_list<const char*> l) {
  for (const char* k : l)
    if (w == k) return true;
  return false;
}

bool first_on_line(const std::string& text, size_t pos) {
  while (pos > 0 && is_blank(text[pos - 1])) --pos;
  return pos == 0 || text[pos - 1] == '\n';
}

bool starts_item(const std::string& text, size_t pos, bool in_campaign) {
  std::string w = word_at(text, pos);
  if (w.empty()) return false;
  if (w == "on") {  // `on EVENT when ...` starts a rule; `on 2026-04-01` is a test's day
    size_t p = pos + 2;
    while (p < text.size() && is_blank(text[p])) ++p;
    return p >= text.size() || !(text[p] >= '0' && text[p] <= '9');
  }
  if (in_list(w, {"import", "let", "segment", "message", "rule", "when", "campaign", "journey", "limit", "timezone"}))
    return true;
  if (!in_campaign && w == "test") {  // `test "NAME"` starts a test; `test` alone is a name
    size_t p = pos + 4;
    while (p < text.size() && is_blank(text[p])) ++p;
    return p < text.size() && text[p] == '"';
  }
  return in_campaign && in_list(w, {"once", "every", "priority", "after", "from", "until", "holdout"});
}

}  // namespace

bool has_bom(const std::string& text) { return text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0; }

std::vector<uint32_t> invalid_utf8_offsets(const std::string& text, size_t from, size_t max) {
  std::vector<uint32_t> bad;
  size_t i = from;
  auto cont = [&](size_t k) { return k < text.size() && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80; };
  while (i < text.size() && bad.size() < max) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07, min = 0x10000;
    else { bad.push_back(static_cast<uint32_t>(i++)); continue; }
    bool ok = true;
    for (size_t k = 1; k <= n; ++k) {
      if (!cont(i + k)) { ok = false; break; }
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      bad.push_back(static_cast<uint32_t>(i++));
      continue;
    }
    i += n + 1;
  }
  return bad;
}

std::vector<Comment> collect_comments(const std::string& text, size_t from) {
  std::vector<Comment> out;
  for (size_t i = from; i < text.size();) {
    if (text[i] == '"') {
      i = skip_string(text, i);
    } else if (text[i] == '#') {
      size_t e = skip_comment(text, i);
      size_t te = e;
      if (te > i && text[te - 1] == '\r') --te;
      out.push_back({{static_cast<uint32_t>(i), static_cast<uint32_t>(te)}, text.substr(i, te - i)});
      i = e;
    } else {
      ++i;
    }
  }
  return out;
}

size_t skip_space(const std::string& text, size_t pos) {
  while (pos < text.size()) {
    if (is_space(text[pos])) ++pos;
    else if (text[pos] == '#') pos = skip_comment(text, pos);
    else break;
  }
  return pos;
}

uint32_t end_of_last_token(const std::string& text, uint32_t pos) {
  pos = std::min<uint32_t>(pos, static_cast<uint32_t>(text.size()));
  bool at_end = pos == text.size();
  for (;;) {
    bool crossed_line = false;
    while (pos > 0 && is_space(text[pos - 1])) crossed_line |= text[--pos] == '\n';
    // Trailing space holds a comment only if it ends at a newline or at the end of the file.
    if (!crossed_line && !at_end) return pos;
    at_end = false;
    // A comment ends the line: find a '#' outside strings before `pos` on this line.
    size_t line = pos;
    while (line > 0 && text[line - 1] != '\n') --line;
    size_t hash = std::string::npos;
    for (size_t i = line; i < pos;) {
      if (text[i] == '"') i = skip_string(text, i);
      else if (text[i] == '#') { hash = i; break; }
      else ++i;
    }
    if (hash == std::string::npos) return pos;
    pos = static_cast<uint32_t>(hash);
  }
}

const std::vector<std::string>& keyword_list() {
  static const std::vector<std::string> k = {
      "import", "let",  "segment", "message", "rule",    "when",     "then",     "on",       "once",
      "per",    "every", "days",   "priority", "after",  "from",     "until",    "journey",  "day",
      "unless", "exit", "campaign", "limit",  "timezone", "holdout", "transactional", "send", "via",
      "grant",  "coupon", "points", "offer",  "tag",     "untag",    "and",      "or",       "not",
      "in",     "is",   "null",    "true",    "false"};
  return k;
}

std::string definition_name_at(const std::string& text, size_t pos) {
  std::string kw = word_at(text, pos);
  if (kw != "let" && kw != "segment") return "";
  size_t p = pos + kw.size();
  while (p < text.size() && is_space(text[p])) ++p;
  std::string name = word_at(text, p);
  auto& k = keyword_list();
  return std::find(k.begin(), k.end(), name) == k.end() ? name : std::string();
}

std::string describe_item(const std::string& text, size_t pos) {
  std::string kw = word_at(text, pos);
  auto next_name = [&]() {
    size_t p = pos + kw.size();
    while (p < text.size() && is_space(text[p])) ++p;
    std::string w = word_at(text, p);
    auto& k = keyword_list();
    return std::find(k.begin(), k.end(), w) == k.end() ? w : std::string();
  };
  if (kw == "when" || kw == "on") return "the rule";
  if (in_list(kw, {"rule", "let", "segment", "message", "journey", "campaign"})) {
    std::string n = next_name();
    return n.empty() ? "the " + kw : kw + " '" + n + "'";
  }
  if (in_list(kw, {"limit", "timezone", "import"})) return "the " + kw;
  if (kw == "test") {
    size_t p = pos + kw.size();
    while (p < text.size() && is_space(text[p])) ++p;
    if (p < text.size() && text[p] == '"') {
      size_t e = skip_string(text, p);
      if (e - p <= 80) return "test " + text.substr(p, e - p);
    }
    return "the test";
  }
  return "the declaration";
}

std::string Token::describe() const {
  switch (kind) {
    case End: return "end of file";
    case String: return "a string";
    case Control: return "control character " + text;
    default: return "'" + text + "'";
  }
}

Token token_at(const std::string& text, uint32_t pos) {
  Token t;
  if (pos >= text.size()) return t;
  char c = text[pos];
  unsigned char u = static_cast<unsigned char>(c);
  if (is_ident_start(c)) {
    t.kind = Token::Word;
    t.text = word_at(text, pos);
    auto& k = keyword_list();
    t.is_keyword = std::find(k.begin(), k.end(), t.text) != k.end();
    t.starts_expression = in_list(t.text, {"not", "true", "false", "null"});
    if (t.text == "day") {  // `day(` is a call, a bare `day` is the keyword
      size_t e = skip_space(text, pos + 3);
      t.starts_expression = e < text.size() && text[e] == '(';
    }
  } else if (c >= '0' && c <= '9') {
    t.kind = Token::Number;
    size_t e = pos;
    while (e < text.size() && (is_ident_char(text[e]) || text[e] == '.')) ++e;
    t.text = text.substr(pos, e - pos);
  } else if (c == '"') {
    t.kind = Token::String;
    t.text.assign(1, '"');
  } else if (u < 0x20 || u == 0x7F) {
    t.kind = Token::Control;
    t.text.assign("U+00");
    t.text.append(hex_byte(u), 2, 2);
    t.length = 1;
  } else if (u >= 0x80) {
    t.kind = Token::NonAscii;
    size_t e = pos + 1;
    while (e < text.size() && e < pos + 4 && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) ++e;
    t.text = text.substr(pos, e - pos);
    t.length = static_cast<uint32_t>(e - pos);
  } else {
    t.kind = Token::Punct;
    std::string two = text.substr(pos, 2);
    t.text = in_list(two, {"==", "!=", "<=", ">=", "&&", "||"}) ? two : std::string(1, c);
  }
  if (t.length == 0) t.length = static_cast<uint32_t>(t.text.size());
  return t;
}

std::string token_hint(const Token& t) {
  if (t.kind != Token::Punct) return {};
  if (t.text == "=") return "use '==' to compare";
  if (t.text == "&&") return "use 'and' instead of '&&'";
  if (t.text == "||") return "use 'or' instead of '||'";
  if (t.text == "!") return "use 'not' instead of '!'";
  if (t.text == "'") return "strings use double quotes: \"...\"";
  return {};
}

std::optional<uint32_t> find_unclosed(const std::string& text, size_t from, size_t to, char open) {
  char close = open == '(' ? ')' : open == '[' ? ']' : '}';
  std::vector<uint32_t> stack;
  to = std::min(to, text.size());
  for (size_t i = from; i < to;) {
    char c = text[i];
    if (c == '"') {
      size_t e = skip_string(text, i);
      if (open == '"' && (e >= to || text[e - 1] != '"' || e == i + 1)) return static_cast<uint32_t>(i);
      i = e;
      continue;
    }
    if (c == '#') {
      i = skip_comment(text, i);
      continue;
    }
    if (c == open) stack.push_back(static_cast<uint32_t>(i));
    else if (c == close && !stack.empty()) stack.pop_back();
    ++i;
  }
  if (stack.empty()) return std::nullopt;
  return stack.back();
}

size_t recover_position(const std::string& text, size_t item_start, size_t error_at, bool in_campaign) {
  error_at = std::min(error_at, text.size());
  int depth = 0;
  for (size_t i = item_start; i < error_at;) {
    char c = text[i];
    if (c == '"') { i = skip_string(text, i); continue; }
    if (c == '#') { i = skip_comment(text, i); continue; }
    if (c == '{') ++depth;
    else if (c == '}') --depth;
    ++i;
  }
  if (depth < 0) depth = 0;
  if (error_at > item_start && depth == 0 && first_on_line(text, error_at) && starts_item(text, error_at, in_campaign))
    return error_at;
  for (size_t i = std::max(error_at, item_start + 1); i < text.size();) {
    char c = text[i];
    if (c == '"') { i = skip_string(text, i); continue; }
    if (c == '#') { i = skip_comment(text, i); continue; }
    if (c == '{') ++depth;
    else if (c == '}') {
      if (--depth < 0) {
        if (in_campaign) return i;
        depth = 0;
      }
    } else if (c == '\n') {
      size_t j = i + 1;
      while (j < text.size() && is_blank(text[j])) ++j;
      if (depth <= 0 && starts_item(text, j, in_campaign)) return j;
      if (in_campaign && depth == 0 && j < text.size() && text[j] == '}') return j;
    }
    ++i;
  }
  return text.size();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

std::string hex_byte(unsigned char c) {
  const char* d = "0123456789ABCDEF";
  return std::string("0x") + d[c >> 4] + d[c & 15];
}

uint32_t hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint32_t>(c - 'A' + 10);
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace crm::lang
