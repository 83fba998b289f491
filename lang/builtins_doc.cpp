// docs/builtins.md, generated from the registry (builtins.def) so that the reference cannot
// drift: `crm check --list-builtins > docs/builtins.md`; tests/scripts/builtins_doc.sh compares.
#include <string>

#include "lang/builtins.hpp"

namespace crm::stdlib {

namespace {

// A table cell: `|` would end the cell, even inside backticks.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

const char* scope_title(Scope s) {
  switch (s) {
    case Scope::Customer: return "## Customer attributes (every rule, definition and subject)";
    case Scope::Order: return "## Order attributes (rules and journeys `on purchase` / `on first_purchase`)";
    case Scope::Event: return "## Event attributes (other `on EVENT` rules; payload fields are `event.<field>`, typed `any`)";
  }
  return "";
}

}  // namespace

std::string builtins_markdown() {
  std::string out =
      "# Built-in attributes and functions\n\n"
      "<!-- Generated from lang/builtins.def by `crm check --list-builtins > docs/builtins.md`;\n"
      "     do not edit: tests/scripts/builtins_doc.sh fails when this file differs. -->\n\n"
      "Every attribute is computed per customer as of the evaluation date (SPEC §5) and may be\n"
      "`null` (a customer who never bought has no `last_purchase_date`). Types are those of the\n"
      "checker (docs/checker.md). The store's extra `customers` columns are attributes too.\n";
  for (Scope s : {Scope::Customer, Scope::Order, Scope::Event}) {
    out += "\n";
    out += scope_title(s);
    out += "\n\n| attribute | type | meaning |\n| --- | --- | --- |\n";
    for (const auto& a : attributes())
      if (a.scope == s)
        out += "| `" + cell(a.name) + "` | " + cell(lang::type_name(a.type)) + " | " + cell(a.doc) + " |\n";
  }
  out += "\n## Functions\n\n| function | signature | meaning |\n| --- | --- | --- |\n";
  for (const auto& f : functions())
    out += "| `" + cell(f.name) + "` | `" + cell(f.signature) + "` | " + cell(f.doc) + " |\n";
  return out;
}

}  // namespace crm::stdlib
