// Lexical helpers of the parser that work on raw text, outside the PEGTL grammar: comments,
// UTF-8 validation, the token at an error, unclosed openers, and the recovery scan.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lang/ast.hpp"

namespace crm::lang {

inline bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool has_bom(const std::string& text);
// Offsets of invalid UTF-8 sequences (at most `max`), from `from`.
std::vector<uint32_t> invalid_utf8_offsets(const std::string& text, size_t from, size_t max);
// Every '#' comment outside strings, from `from`.
std::vector<Comment> collect_comments(const std::string& text, size_t from);
// Skips whitespace and comments.
size_t skip_space(const std::string& text, size_t pos);
// Steps back over whitespace and comments from `pos` to the end of the last token (for the end
// of a declaration's span, and so that an error at end of file points after the last token).
uint32_t end_of_last_token(const std::string& text, uint32_t pos);

// "rule 'check_in'", "the rule", "let 'x'", "campaign 'winback'"... for the item starting at `pos`.
std::string describe_item(const std::string& text, size_t pos);
// The NAME of a `let NAME` / `segment NAME` declaration starting at `pos`, else "" (for a
// declaration that failed to parse: the checker must not report its uses as unknown).
std::string definition_name_at(const std::string& text, size_t pos);

// The token found where an error was raised.
struct Token {
  enum Kind { End, Word, Number, String, Punct, Control, NonAscii } kind = End;
  std::string text;
  uint32_t length = 0;
  bool is_keyword = false;
  bool starts_expression = false;  // not, true, false, null, day(
  std::string describe() const;    // "'when'", "end of file", "a string", ...
};
Token token_at(const std::string& text, uint32_t pos);
// A hint for a common mistake at this token: '=' for '==', '&&', '||', '!', single quotes.
std::string token_hint(const Token& t);
const std::vector<std::string>& keyword_list();

// The innermost unclosed `open` ('(', '[', '{' or '"') between `from` and `to`, skipping
// strings and comments.
std::optional<uint32_t> find_unclosed(const std::string& text, size_t from, size_t to, char open);

// Where to resume after an error at `error_at` in the item starting at `item_start`: the next line
// that starts with a declaration keyword (campaign-item keyword inside a campaign) at the item's
// brace depth, or, inside a campaign, the '}' that closes it.
size_t recover_position(const std::string& text, size_t item_start, size_t error_at, bool in_campaign);

void replace_all(std::string& s, const std::string& from, const std::string& to);
std::string hex_byte(unsigned char c);
uint32_t hex_value(char c);
void append_utf8(std::string& out, uint32_t cp);

}  // namespace crm::lang
