// The canonical formatter of .crm scripts (`crm fmt`): a parsed Module (AST + comments) -> text.
// The layout is documented in docs/formatting.md; the output parses to the same AST.
#pragma once
#include <string>
#include <string_view>

#include "lang/ast.hpp"

namespace crm::lang {

// Formats a whole module in canonical layout. Every comment of module.comments is kept, in
// order, next to the line it was on. module.file's text (when set) is read to place comments
// and to keep the blank lines a writer put between one-line declarations of the same kind.
// Idempotent: format_module(parse(format_module(m))) == format_module(m).
// Returns "" for a module with neither items nor comments, else text ending in one newline.
std::string format_module(const Module& module);

// One expression on one line, with single spaces around binary operators and only the
// parentheses that precedence needs (`(a or b) and c`, `a or b and c`).
std::string format_expr(const Expr& e);

// A string literal with canonical escapes (\" \\ \n \t, \u{..} for other control characters),
// quotes included; other UTF-8 text is kept as is.
std::string quote_string(std::string_view s);

// One fact of a test's fixture customer, one line: "order 2026-01-02 total 4_800 items [\"A\"]".
std::string test_fact_text(const TestFact& f);
// One expectation in canonical order: "[expect ]no send welcome to 2 via email on 2026-04-02".
std::string test_expect_text(const TestExpect& e, bool with_keyword = true);

}  // namespace crm::lang
