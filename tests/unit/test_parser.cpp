// Unit tests of the parser (lang/parser.cpp, lang/grammar.hpp): AST shapes, spans, literals,
// diagnostics with positions and hints, recovery, and limits.
#include <doctest/doctest.h>

#include "lang/ast_printer.hpp"
#include "lang/parser.hpp"

using namespace crm::lang;

TEST_CASE("parser: smoke") {
  Diagnostics d;
  auto m = parse(std::make_shared<SourceFile>("t.crm", "let a = 1 + 2 * 3"), d);
  CHECK(!d.has_errors());
  CHECK(m.items.size() == 1);
}
