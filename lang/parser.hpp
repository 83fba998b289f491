// The parser: .crm text -> Module (AST + comments), with recovery so that several syntax
// errors are reported in one pass. Grammar in grammar.hpp, error messages in grammar_errors.hpp.
#pragma once
#include "lang/ast.hpp"
#include "lang/diagnostic.hpp"

namespace crm::lang {

// Limits, each with its reason.
// Nesting deeper than this (parentheses, unary operators, lists, campaigns) is reported as an
// error instead of recursing further: it keeps the recursive-descent parser, the checker and
// the formatter well inside the default 8 MiB stack.
constexpr int kMaxNestingDepth = 256;
// Larger sources are refused: no campaign script is this big, and it bounds memory for fuzzing.
constexpr size_t kMaxSourceBytes = 16 * 1024 * 1024;

// Parses one file. Never throws for bad input: syntax errors go to `diags` (code::syntax
// and friends) and the returned module holds what could be recovered.
Module parse(SourcePtr file, Diagnostics& diags);

// Parses a single expression (for tests, `crm explain` and the embedding API).
ExprPtr parse_expression(SourcePtr file, Diagnostics& diags);

}  // namespace crm::lang
