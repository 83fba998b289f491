// The --dump-ast debugging aid: an indented S-expression rendering of a parsed Module.
// Used by `crm check --dump-ast` and by the parser's unit tests.
#pragma once
#include <string>

#include "lang/ast.hpp"

namespace crm::lang {

// One line per declaration, action and option, indented two spaces per level; expressions are
// written inline as (op lhs rhs). Spans are not printed.
std::string dump_ast(const Module& m);
// An expression alone: (+ a (* b 2)), "text", 2026-12-01, [1 2 3], (call year today).
std::string dump_expr(const Expr* e);

}  // namespace crm::lang
