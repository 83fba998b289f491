// Unit tests of `test "NAME" { ... }` blocks (docs/testing.md) in the front end: the parser's
// AST and errors, `test` as a contextual keyword, the checker's test checks (fixture columns,
// customers, dates, names in expectations; imported tests ignored) and the formatter.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lang/ast_printer.hpp"
#include "lang/checker.hpp"
#include "lang/formatter.hpp"
#include "lang/parser.hpp"
#include "parse_text.hpp"

using namespace crm::lang;
using crm::lang::testing::Parsed;
using crm::lang::testing::parse_text;
namespace fs = std::filesystem;

namespace {

std::string pos(const Diagnostic& d) {
  LineCol lc = d.file->line_col(d.span.begin);
  return std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

const Test& only_test(const Parsed& p) {
  for (const auto& it : p.m.items)
    if (auto* t = std::get_if<Test>(&it.node)) return *t;
  FAIL("no test parsed");
  throw 0;
}

// Checks files written to a temporary folder; returns the diagnostics of main.crm.
struct Checked {
  fs::path root;
  Diagnostics d;
  CheckedProgram prog;
  explicit Checked(const std::vector<std::pair<std::string, std::string>>& files) {
    static int n = 0;
    root = fs::temp_directory_path() / ("crm_test_blocks_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
    fs::create_directories(root);
    for (const auto& [name, text] : files) std::ofstream(root / name) << text;
    prog = load_and_check({(root / "main.crm").string()}, {}, d);
  }
  ~Checked() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  const Diagnostic* find(const std::string& code, const std::string& text = "") const {
    for (const auto& x : d.items())
      if (x.code == code && x.message.find(text) != std::string::npos) return &x;
    return nullptr;
  }
};

const char* kScript = R"(message hi via email
message bye via line
rule greet: when purchase_count >= 1 then send hi, grant coupon c10, tag seen
campaign w { rule back: when days_since >= 90 then send bye }
)";

}  // namespace

TEST_CASE("test blocks: the AST of facts, dates and expectations") {
  auto p = parse_text(R"(test "t" {
  customer 7 {
    email_opt_in true
    order 2026-01-02 total 4_800 status refunded items ["A", "B"] id 3
    subscription 2026-01-01 cycles 2 cancelled 2026-02-01 reason "price" product "A"
    survey 2026-02-01 satisfaction 4
    referral 8 2026-02-02
    tag vip
    tag old 2025-01-01
    event visit 2026-03-03 { page "home", n 3 }
    plan 2.5
  }
  from 2026-04-01 to 2026-04-30
  expect send hi to 7 via line on 2026-04-02 rule w.back blocked_consent times 2
  expect no coupon c10
  expect no actions to 7
  expect points 12.5
})");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  const Test& t = only_test(p);
  CHECK(t.name == "t");
  REQUIRE(t.customers.size() == 1);
  const auto& f = t.customers[0].facts;
  REQUIRE(f.size() == 9);
  CHECK(t.customers[0].id == 7);
  CHECK(f[0].kind == TestFact::Kind::Column);
  CHECK(f[0].value->kind == Expr::Kind::Bool);
  CHECK(f[1].kind == TestFact::Kind::Order);
  CHECK(f[1].status == "refunded");
  CHECK(f[1].items == std::vector<std::string>{"A", "B"});
  CHECK(f[1].id == 3);
  CHECK(f[1].total->ival == 4800);
  CHECK(f[2].cycles == 2);
  CHECK(f[2].reason == "price");
  CHECK(f[2].product == "A");
  CHECK(f[2].cancelled.has_value());
  CHECK(f[3].satisfaction == 4);
  CHECK(f[4].referee == 8);
  CHECK(f[5].name == "vip");
  CHECK_FALSE(f[5].date.has_value());
  CHECK(f[6].date.has_value());
  CHECK(f[7].fields.size() == 2);
  CHECK(f[8].value->kind == Expr::Kind::Decimal);
  REQUIRE(t.dates.size() == 1);
  CHECK(t.dates[0].range);
  CHECK(t.dates[0].to - t.dates[0].from == 29);
  REQUIRE(t.expects.size() == 4);
  const auto& e = t.expects[0];
  CHECK(e.action == ActionKind::Send);
  CHECK(e.target == "hi");
  CHECK(e.to == 7);
  CHECK(e.via == Channel::Line);
  CHECK(e.rule == "w.back");
  CHECK(e.status == "blocked_consent");
  CHECK(e.times == 2);
  CHECK(e.on.has_value());
  CHECK(t.expects[1].absent);
  CHECK(t.expects[1].action == ActionKind::Coupon);
  CHECK(t.expects[2].no_actions);
  CHECK(t.expects[3].action == ActionKind::Points);
  CHECK(t.expects[3].points == 12.5);
}

TEST_CASE("test blocks: `test` is a keyword only before a string") {
  auto p = parse_text("message hi via email\nrule test: when true then send hi\nlet x = 1\ntest \"a\" { on 2026-01-01 }\n"
                      "rule other: when true then send hi after test\ntest \"b\" { on 2026-01-01 }\n");
  CHECK_MESSAGE(!p.d.has_errors(), render_all(p.d));
  REQUIRE(p.m.items.size() == 6);
  CHECK(std::get<Rule>(p.m.items[1].node).name == "test");
  CHECK(std::holds_alternative<Test>(p.m.items[3].node));
  CHECK(std::holds_alternative<Test>(p.m.items[5].node));
}

TEST_CASE("test blocks: syntax errors have positions and hints, and parsing resumes") {
  auto p = parse_text(R"(test "a" {
  from 2026-04-01 2026-04-30
}
test "b" {
  customer 1 { order 2026-04-01 status payed }
  on 2026-04-01
  expect no actions via email
  expect send x to 1 to 2
  expect no send x times 2
}
test "c" {
  expect
}
)");
  const auto& items = p.d.items();
  REQUIRE(items.size() == 6);
  CHECK(items[0].message.find("expected 'to'") != std::string::npos);
  CHECK(pos(items[0]) == "2:19");
  CHECK(items[1].message.find("unknown order status 'payed'") != std::string::npos);
  CHECK(items[1].hint == "did you mean 'paid'?");
  CHECK(items[2].message.find("takes only 'to ID' and 'on DATE'") != std::string::npos);
  CHECK(items[3].code == "E-duplicate-clause");
  CHECK(items[4].message.find("takes no 'times'") != std::string::npos);
  CHECK(items[5].message.find("after 'expect'") != std::string::npos);
  CHECK(pos(items[5]) == "13:1");
}

TEST_CASE("test blocks: the checker's errors") {
  Checked c({{"main.crm", std::string(kScript) + R"(
test "t" {
  customer 1 { plan "gold" purchase_count 2 email_opt_in "yes" }
  customer 1 { plan 3 }
  customer 2 { order 2026-01-01 id 4 order 2026-01-02 id 4 line_opt_in true line_opt_in false }
  on 2026-04-02
  expect send hj to 1
  expect coupon c1 to 3
  expect send hi rule bak
  expect tag seen via email
  expect send hi on 2026-05-01
}
test "t" { from 2026-04-02 to 2026-04-01 }
test "u" { expect no actions }
test "v" { on 2026-04-01 from 2026-04-01 to 2026-04-02 }
)"}});
  CHECK(c.find("E-test-column", "'purchase_count' is a built-in attribute"));
  CHECK(c.find("E-type", "'email_opt_in' is bool, not string"));
  CHECK(c.find("E-duplicate-customer", "customer 1 is declared twice"));
  CHECK(c.find("E-test-column", "column 'plan' is int here but string"));
  CHECK(c.find("E-duplicate-fact", "two orders have id 4"));
  CHECK(c.find("E-duplicate-fact", "'line_opt_in' is given twice"));
  const Diagnostic* m = c.find("E-unknown-message", "'hj'");
  REQUIRE(m);
  CHECK(m->hint == "did you mean 'hi'?");
  const Diagnostic* cu = c.find("E-unknown-target", "no rule grants coupon 'c1'");
  REQUIRE(cu);
  CHECK(cu->hint == "did you mean 'c10'?");
  const Diagnostic* who = c.find("E-unknown-customer", "customer 3");
  REQUIRE(who);
  CHECK(who->hint == "the test declares customers 1, 2");
  const Diagnostic* r = c.find("E-unknown-rule", "'bak'");
  REQUIRE(r);
  CHECK(r->hint == "did you mean 'w.back'?");
  CHECK(c.find("E-syntax", "'via' applies to send only"));
  CHECK(c.find("E-test-dates", "outside the test's days"));
  CHECK(c.find("E-duplicate-test", "two tests are named \"t\""));
  CHECK(c.find("E-test-dates", "the range ends (2026-04-01) before it starts"));
  CHECK(c.find("E-test-dates", "test \"u\" has no day"));
  CHECK(c.find("E-test-dates", "test \"v\" has more than one"));
}

TEST_CASE("test blocks: fixture columns are attributes of the script; tests of imports are ignored") {
  Checked ok({{"lib.crm", std::string(kScript) + "test \"broken but imported\" { expect send nope to 9 }\n"},
              {"main.crm", R"(import "lib.crm"
message gold_news via email
rule gold: when plan == "gold" and score > 1 then send gold_news
test "gold" {
  customer 1 { plan "gold" score 2 }
  customer 2 { plan "silver" score 2.5 }
  on 2026-04-01
  expect send gold_news to 1
  expect send hi rule greet times 0
}
)"}});
  CHECK_MESSAGE(!ok.d.has_errors(), render_all(ok.d));
  CHECK(ok.find("W-times-zero"));
  // Without the fixture, `plan` is an unknown name.
  Checked bad({{"main.crm", std::string("message m via email\nrule r: when plan == \"gold\" then send m\n")}});
  CHECK(bad.d.has_errors());
}

TEST_CASE("test blocks: the formatter is canonical and idempotent") {
  auto p = parse_text("test \"x\"{customer 1{order 2026-01-02 id 3 total 5 email_opt_in true}\n"
                      "expect no send hi to 1\non 2026-01-03 expect send hi times 2 to 1}\n");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  std::string out = format_module(p.m);
  CHECK(out ==
        "test \"x\" {\n"
        "  customer 1 {\n"
        "    order 2026-01-02 total 5 id 3\n"
        "    email_opt_in true\n"
        "  }\n"
        "  expect no send hi to 1 on 2026-01-03\n"
        "  expect send hi to 1 times 2\n"
        "}\n");
  auto again = parse_text(out);
  CHECK(format_module(again.m) == out);
  CHECK(same_module(p.m, again.m));
  CHECK(dump_ast(again.m).find("(expect no send hi to 1 on 2026-01-03)") != std::string::npos);
}
