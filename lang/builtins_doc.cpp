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
  out +=
      "\n## Time windows and categories\n\n"
      "`purchases_in(DAYS)` and `spent_in(DAYS)` look at the orders dated in the DAYS days up to and\n"
      "including the evaluation date D: from D - DAYS + 1 to D. With DAYS = 30 on 2026-03-31 that is\n"
      "2026-03-02 .. 2026-03-31: an order placed DAYS - 1 days before D counts, one placed DAYS days\n"
      "before D does not (`days_between(order day, today) < DAYS`); `purchases_in(1)` is today's\n"
      "orders. DAYS is an integer written in the call, 1 to 3650 (E-window otherwise), so a simulation\n"
      "or catch-up knows every window before it starts. Orders are dated in the store's time zone\n"
      "(docs/store.md), like every attribute.\n\n"
      "- `purchases_in` counts the paid orders in the window, as `purchase_count` counts them (status\n"
      "  `paid`; cancelled and refunded orders are not purchases). It is 0, never null.\n"
      "- `spent_in` is `net_spent` restricted to the window: the totals of the paid orders dated in it\n"
      "  plus the negative totals of refunds dated in it. A refund counts on its own day, so an order\n"
      "  refunded later lowers `spent_in` only while the refund's day is in the window. A window\n"
      "  with no orders gives 0, never null.\n"
      "- In a simulation or a catch-up every day sees its own window: only orders dated on or before\n"
      "  that day, never a later one.\n\n"
      "`categories` is the set of `products.category` values of the items of the paid orders dated\n"
      "on or before D (as `purchased` is for SKUs), sorted, without duplicates. Items whose product\n"
      "has no category (NULL, or a store without the column) add nothing, and neither do items of\n"
      "unknown products (the loader warns about those). Categories are compared as written, case\n"
      "and spaces included. `bought_category(\"x\")` is `\"x\" in categories`: false, not an error,\n"
      "for a category no product has, since the product table may change between check and run.\n";
  return out;
}

}  // namespace crm::stdlib
