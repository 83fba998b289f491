// Unit tests of the parser (lang/parser.cpp, lang/grammar.hpp): AST shapes, spans, literals,
// diagnostics with positions and hints, recovery in one pass, and the nesting and size limits.
#include <doctest/doctest.h>

#include <chrono>

#include "lang/ast_printer.hpp"
#include "lang/date.hpp"
#include "lang/parser.hpp"
#include "parse_text.hpp"

using namespace crm::lang;
using crm::lang::testing::Parsed;
using crm::lang::testing::parse_text;

namespace {

// The S-expression of an expression that must parse without errors.
std::string ex(const std::string& src) {
  Diagnostics d;
  auto e = parse_expression(std::make_shared<SourceFile>("e.crm", src), d);
  CHECK_MESSAGE(!d.has_errors(), render_all(d));
  return dump_expr(e.get());
}

ExprPtr expr_of(const std::string& src) {
  Diagnostics d;
  auto e = parse_expression(std::make_shared<SourceFile>("e.crm", src), d);
  REQUIRE_MESSAGE(!d.has_errors(), render_all(d));
  REQUIRE(e);
  return e;
}

std::string at(const Diagnostic& d) {
  LineCol lc = d.file->line_col(d.span.begin);
  return std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

template <typename T>
const T& item(const Parsed& p, size_t i) {
  REQUIRE(i < p.m.items.size());
  REQUIRE(std::holds_alternative<T>(p.m.items[i].node));
  return std::get<T>(p.m.items[i].node);
}

}  // namespace

// ---------------------------------------------------------------- expressions

TEST_CASE("parser: operator precedence, loosest first") {
  CHECK(ex("a or b and not c == 1 + 2 * -3") == "(or a (and b (not (== c (+ 1 (* 2 (- 3)))))))");
  CHECK(ex("a and b or c and d") == "(or (and a b) (and c d))");
  CHECK(ex("not not a") == "(not (not a))");
  CHECK(ex("not a in b") == "(not (in a b))");
  CHECK(ex("-a * b") == "(* (- a) b)");
  CHECK(ex("(a + b) * c") == "(* (+ a b) c)");
}

TEST_CASE("parser: binary operators are left-associative") {
  CHECK(ex("a - b - c") == "(- (- a b) c)");
  CHECK(ex("a / b % c * d") == "(* (% (/ a b) c) d)");
  CHECK(ex("a or b or c") == "(or (or a b) c)");
  auto e = expr_of("a - b - c");
  CHECK(e->kind == Expr::Kind::Binary);
  CHECK(e->bop == BinOp::Sub);
  CHECK(e->args[0]->bop == BinOp::Sub);
}

TEST_CASE("parser: comparisons, in, not in, is null") {
  CHECK(ex("a != 1") == "(!= a 1)");
  CHECK(ex("a <= 1") == "(<= a 1)");
  CHECK(ex("a >= 1") == "(>= a 1)");
  CHECK(ex("a < 1") == "(< a 1)");
  CHECK(ex("a > 1") == "(> a 1)");
  CHECK(ex("\"vip\" in tags") == "(in \"vip\" tags)");
  CHECK(ex("x not in [1, 2]") == "(not in x [1 2])");
  auto e = expr_of("birthday is not null");
  CHECK(e->kind == Expr::Kind::IsNull);
  CHECK(e->negated);
  CHECK(e->args[0]->text == "birthday");
  auto f = expr_of("birthday is null");
  CHECK(f->kind == Expr::Kind::IsNull);
  CHECK_FALSE(f->negated);
}

TEST_CASE("parser: literals") {
  auto i = expr_of("100_000");
  CHECK(i->kind == Expr::Kind::Int);
  CHECK(i->ival == 100000);
  CHECK(i->text == "100_000");
  auto big = expr_of("9223372036854775807");
  CHECK(big->ival == INT64_MAX);
  auto d = expr_of("4.50");
  CHECK(d->kind == Expr::Kind::Decimal);
  CHECK(d->dval == doctest::Approx(4.5));
  CHECK(d->text == "4.50");
  auto s = expr_of(R"("a\"b\\c\n\t\u{41}\u{3042}{name}")");
  CHECK(s->kind == Expr::Kind::String);
  CHECK(s->text == "a\"b\\c\n\tA\xE3\x81\x82{name}");
  auto u = expr_of("\"ご購入\"");
  CHECK(u->text == "ご購入");
  auto dt = expr_of("2026-12-01");
  CHECK(dt->kind == Expr::Kind::Date);
  CHECK(dt->ival == crm::days_from_civil(2026, 12, 1));
  CHECK(expr_of("true")->ival == 1);
  CHECK(expr_of("false")->kind == Expr::Kind::Bool);
  CHECK(expr_of("null")->kind == Expr::Kind::Null);
  CHECK(ex("2026 - 12 - 1") == "(- (- 2026 12) 1)");
  CHECK(ex("[\"a\", \"b\"]") == "[\"a\" \"b\"]");
  CHECK(ex("[3, 6, 12]") == "[3 6 12]");
  auto l = expr_of("[]");
  CHECK(l->kind == Expr::Kind::List);
  CHECK(l->args.empty());
}

TEST_CASE("parser: names, calls, today and day()") {
  auto n = expr_of("subscription.months");
  CHECK(n->kind == Expr::Kind::Name);
  CHECK(n->text == "subscription.months");
  auto t = expr_of("today");
  CHECK(t->kind == Expr::Kind::Call);
  CHECK(t->text == "today");
  CHECK(t->args.empty());
  auto t2 = expr_of("today()");
  CHECK(t2->kind == Expr::Kind::Call);
  CHECK(t2->args.empty());
  auto c = expr_of("coalesce(a, b, 3)");
  CHECK(c->kind == Expr::Kind::Call);
  CHECK(c->text == "coalesce");
  CHECK(c->args.size() == 3);
  CHECK(ex("day(last_purchase_date) == 1") == "(== (call day last_purchase_date) 1)");
  CHECK(ex("year(today)") == "(call year (call today))");
}

TEST_CASE("parser: spans and parentheses") {
  //                0123456789012345678
  auto e = expr_of("a + (bb * 3)");
  CHECK(e->span.begin == 0);
  CHECK(e->span.end == 12);
  CHECK(e->args[0]->span.begin == 0);
  CHECK(e->args[0]->span.end == 1);
  const Expr& rhs = *e->args[1];
  CHECK(rhs.parenthesized);
  CHECK(rhs.span.begin == 4);
  CHECK(rhs.span.end == 12);
  CHECK(rhs.args[0]->span.begin == 5);
  CHECK(rhs.args[0]->span.end == 7);
  CHECK_FALSE(e->parenthesized);
  auto s = expr_of("  \"x\\ny\"  ");
  CHECK(s->span.begin == 2);
  CHECK(s->span.end == 8);
}

// ---------------------------------------------------------------- declarations

TEST_CASE("parser: import, let, segment, timezone, limit") {
  auto p = parse_text(
      "import \"std/lifecycle\"\n"
      "let aov = total_spent / purchase_count\n"
      "segment vip = total_spent >= 100_000 or purchase_count >= 10\n"
      "timezone \"Asia/Tokyo\"\n"
      "limit 3 message per 7 days\n"
      "limit 1 dm per 30 days\n");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  REQUIRE(p.m.items.size() == 6);
  auto& im = item<Import>(p, 0);
  CHECK(im.path == "std/lifecycle");
  CHECK(im.span.begin == 0);
  CHECK(im.span.end == 22);
  CHECK(im.path_span.begin == 7);
  auto& let = item<Definition>(p, 1);
  CHECK_FALSE(let.segment);
  CHECK(let.name == "aov");
  CHECK(let.name_span.begin == 27);
  CHECK(let.name_span.end == 30);
  CHECK(dump_expr(let.expr.get()) == "(/ total_spent purchase_count)");
  auto& seg = item<Definition>(p, 2);
  CHECK(seg.segment);
  CHECK(seg.name == "vip");
  CHECK(item<Timezone>(p, 3).name == "Asia/Tokyo");
  auto& l1 = item<Limit>(p, 4);
  CHECK(l1.count == 3);
  CHECK_FALSE(l1.channel);
  CHECK(l1.days == 7);
  auto& l2 = item<Limit>(p, 5);
  CHECK(l2.channel == Channel::Dm);
  CHECK(l2.days == 30);
}

TEST_CASE("parser: messages take their clauses in any order") {
  auto p = parse_text(
      "message thank_you via email subject \"ありがとう、{name}様\"\n"
      "message card cost 120 via dm transactional\n"
      "message bare\n");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  auto& a = item<Message>(p, 0);
  CHECK(a.name == "thank_you");
  CHECK(a.channel == Channel::Email);
  CHECK(a.subject == "ありがとう、{name}様");
  CHECK_FALSE(a.transactional);
  auto& b = item<Message>(p, 1);
  CHECK(b.channel == Channel::Dm);
  CHECK(b.cost == doctest::Approx(120));
  CHECK(b.cost_text == "120");
  CHECK(b.transactional);
  auto& c = item<Message>(p, 2);
  CHECK_FALSE(c.channel);
  CHECK_FALSE(c.subject);

  auto dup = parse_text("message m via email via line\n");
  REQUIRE(dup.d.items().size() == 1);
  CHECK(dup.d.items()[0].code == "E-duplicate-clause");
  auto bad = parse_text("message m via mail\n");
  REQUIRE(bad.d.items().size() == 1);
  CHECK(bad.d.items()[0].code == "E-unknown-channel");
  CHECK(bad.d.items()[0].message.find("email, line, sms, push and dm") != std::string::npos);
  CHECK(bad.d.items()[0].hint == "did you mean 'email'?");
}

TEST_CASE("parser: named and unnamed rules with actions and options") {
  auto p = parse_text(
      "rule check_in:\n"
      "  when purchase_count == 1 and days_since == 7\n"
      "  then send any_concerns via line\n"
      "  priority 10\n"
      "\n"
      "when vip and days_until_birthday == 7\n"
      "  then send birthday_card, grant coupon birthday_10, grant points total_spent / 100\n"
      "  once per year(today)\n"
      "on purchase when order.total > 5000 then tag big, untag small, offer annual_plan\n"
      "  once every 30 days priority -5 after check_in after lifecycle.welcome 3 days\n"
      "  from 2026-01-01 until 2026-12-31 holdout 12.5%\n"
      "rule on first_purchase when true then send thanks\n");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  REQUIRE(p.m.items.size() == 4);

  auto& r = item<Rule>(p, 0);
  CHECK(r.name == "check_in");
  CHECK(r.name_span.begin == 5);
  CHECK(r.name_span.end == 13);
  CHECK(r.span.begin == 0);
  CHECK(r.event.empty());
  CHECK(dump_expr(r.when.get()) == "(and (== purchase_count 1) (== days_since 7))");
  REQUIRE(r.actions.size() == 1);
  CHECK(r.actions[0].kind == ActionKind::Send);
  CHECK(r.actions[0].name == "any_concerns");
  CHECK(r.actions[0].channel == Channel::Line);
  REQUIRE(r.options.size() == 1);
  CHECK(r.options[0].kind == OptionKind::Priority);
  CHECK(r.options[0].n == 10);

  auto& u = item<Rule>(p, 1);
  CHECK(u.name.empty());
  REQUIRE(u.actions.size() == 3);
  CHECK(u.actions[1].kind == ActionKind::Coupon);
  CHECK(u.actions[1].name == "birthday_10");
  CHECK(u.actions[2].kind == ActionKind::Points);
  CHECK(dump_expr(u.actions[2].points.get()) == "(/ total_spent 100)");
  REQUIRE(u.options.size() == 1);
  CHECK(u.options[0].kind == OptionKind::OncePer);
  CHECK(dump_expr(u.options[0].expr.get()) == "(call year (call today))");

  auto& e = item<Rule>(p, 2);
  CHECK(e.event == "purchase");
  REQUIRE(e.actions.size() == 3);
  CHECK(e.actions[0].kind == ActionKind::Tag);
  CHECK(e.actions[1].kind == ActionKind::Untag);
  CHECK(e.actions[2].kind == ActionKind::Offer);
  CHECK(e.actions[2].name == "annual_plan");
  REQUIRE(e.options.size() == 8);
  CHECK(e.options[0].kind == OptionKind::Once);
  CHECK(e.options[1].kind == OptionKind::Every);
  CHECK(e.options[1].n == 30);
  CHECK(e.options[2].n == -5);
  CHECK(e.options[3].kind == OptionKind::After);
  CHECK(e.options[3].name == "check_in");
  CHECK(e.options[3].n == -1);
  CHECK(e.options[4].name == "lifecycle.welcome");
  CHECK(e.options[4].n == 3);
  CHECK(e.options[5].kind == OptionKind::From);
  CHECK(e.options[5].date == crm::days_from_civil(2026, 1, 1));
  CHECK(e.options[6].kind == OptionKind::Until);
  CHECK(e.options[6].date == crm::days_from_civil(2026, 12, 31));
  CHECK(e.options[7].kind == OptionKind::Holdout);
  CHECK(e.options[7].pct == doctest::Approx(12.5));
  CHECK(e.options[7].text == "12.5");

  auto& k = item<Rule>(p, 3);
  CHECK(k.name.empty());
  CHECK(k.event == "first_purchase");
}

TEST_CASE("parser: campaigns and journeys") {
  auto p = parse_text(
      "campaign winback when days_since > 90 {\n"
      "  priority 3\n"
      "  holdout 10%\n"
      "  limit 1 email per 7 days\n"
      "  timezone \"Asia/Tokyo\"\n"
      "  let idle = days_since\n"
      "  segment lapsed = idle > 120\n"
      "  message come_back via email\n"
      "  rule nudge: when lapsed then send come_back\n"
      "  journey steps on cancel_request when subscription.active {\n"
      "    day 0: send sorry\n"
      "    day 7: send skip_offer, grant coupon stay_10 unless purchase_count > 3\n"
      "    exit when subscription.status == \"active\"\n"
      "    priority 2\n"
      "  }\n"
      "}\n"
      "journey welcome on signup { day 1: send hello }\n");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  REQUIRE(p.m.items.size() == 2);
  auto& c = item<Campaign>(p, 0);
  CHECK(c.name == "winback");
  CHECK(dump_expr(c.when.get()) == "(> days_since 90)");
  REQUIRE(c.items.size() == 9);
  CHECK(std::get<Option>(c.items[0].node).kind == OptionKind::Priority);
  CHECK(std::get<Option>(c.items[1].node).kind == OptionKind::Holdout);
  CHECK(std::get<Limit>(c.items[2].node).channel == Channel::Email);
  CHECK(std::holds_alternative<Timezone>(c.items[3].node));
  CHECK(std::holds_alternative<Definition>(c.items[4].node));
  CHECK(std::holds_alternative<Message>(c.items[6].node));
  CHECK(std::get<Rule>(c.items[7].node).name == "nudge");
  auto& j = std::get<Journey>(c.items[8].node);
  CHECK(j.name == "steps");
  CHECK(j.event == "cancel_request");
  CHECK(dump_expr(j.when.get()) == "subscription.active");
  REQUIRE(j.steps.size() == 2);
  CHECK(j.steps[0].day == 0);
  CHECK(j.steps[1].day == 7);
  CHECK(j.steps[1].actions.size() == 2);
  CHECK(dump_expr(j.steps[1].unless.get()) == "(> purchase_count 3)");
  CHECK(dump_expr(j.exit_when.get()) == "(== subscription.status \"active\")");
  REQUIRE(j.options.size() == 1);
  CHECK(j.options[0].n == 2);
  CHECK(c.span.begin == 0);
  CHECK(p.file->text()[c.span.end - 1] == '}');
  auto& w = item<Journey>(p, 1);
  CHECK(w.name == "welcome");
  CHECK(w.steps.size() == 1);
}

TEST_CASE("parser: comments are collected with their spans") {
  auto p = parse_text("# head\nlet a = \"# not a comment\" # tail\r\n#end");
  REQUIRE_MESSAGE(!p.d.has_errors(), render_all(p.d));
  REQUIRE(p.m.comments.size() == 3);
  CHECK(p.m.comments[0].text == "# head");
  CHECK(p.m.comments[0].span.begin == 0);
  CHECK(p.m.comments[0].span.end == 6);
  CHECK(p.m.comments[1].text == "# tail");
  CHECK(p.m.comments[2].text == "#end");
  CHECK(item<Definition>(p, 0).expr->text == "# not a comment");
}

TEST_CASE("parser: dump_ast prints an indented S-expression") {
  auto p = parse_text("let a = 1 + 2\nrule r: on purchase when a > 1 then send m via sms, tag t once\n");
  REQUIRE(!p.d.has_errors());
  CHECK(dump_ast(p.m) ==
        "(module t.crm\n"
        "  (let a (+ 1 2))\n"
        "  (rule r (on purchase)\n"
        "    (when (> a 1))\n"
        "    (send m (via sms))\n"
        "    (tag t)\n"
        "    (once)))\n");
}

// ---------------------------------------------------------------- errors

TEST_CASE("parser: a keyword used as a name") {
  auto p = parse_text("let when = 1\n");
  REQUIRE(p.d.items().size() == 1);
  const auto& d = p.d.items()[0];
  CHECK(d.code == "E-keyword-as-name");
  CHECK(d.message == "'when' is a keyword and cannot be used as a name");
  CHECK(at(d) == "1:5");
  for (const char* src : {"rule when: when a then send m\n", "segment and = 1\n", "message on via email\n",
                          "on send when a then send m\n", "when a then send then\n", "journey day on x {}\n"}) {
    auto q = parse_text(src);
    REQUIRE_MESSAGE(q.d.items().size() == 1, src);
    CHECK_MESSAGE(q.d.items()[0].code == "E-keyword-as-name", src);
  }
  CHECK(render(d) ==
        "t.crm:1:5: error: 'when' is a keyword and cannot be used as a name\n"
        "    1 | let when = 1\n"
        "      |     ^~~~\n");
}

TEST_CASE("parser: '=' instead of '==' names the rule and hints") {
  auto p = parse_text("rule check_in:\n  when purchase_count = 1\n  then send x\n");
  REQUIRE(p.d.items().size() == 1);
  const auto& d = p.d.items()[0];
  CHECK(d.code == "E-syntax");
  CHECK(at(d) == "2:23");
  CHECK(render(d) ==
        "t.crm:2:23: error: expected 'then' after the condition of rule 'check_in'\n"
        "    2 |   when purchase_count = 1\n"
        "      |                       ^\n"
        "help: use '==' to compare\n");
}

TEST_CASE("parser: several errors are reported in one pass") {
  auto p = parse_text(
      "let a = 1 +\n"                     // 1: missing operand
      "segment s = x && y\n"              // 2: &&
      "let t = 'abc'\n"                   // 3: single quotes
      "rule r: when a then send\n"        // 4: missing message name
      "let ok = 2\n"                      // 5: fine
      "when a and then send m\n"          // 6: missing operand after and
      "let good = 3\n");
  const auto& ds = p.d.items();
  REQUIRE(ds.size() == 5);
  CHECK(at(ds[0]) == "1:12");
  CHECK(ds[0].message == "expected an expression after the operator");
  CHECK(at(ds[1]) == "2:15");
  CHECK(ds[1].hint == "use 'and' instead of '&&'");
  CHECK(at(ds[2]) == "3:9");
  CHECK(ds[2].hint == "strings use double quotes: \"...\"");
  CHECK(at(ds[3]) == "5:1");
  CHECK(ds[3].message == "'let' is a keyword and cannot be used as a name");
  CHECK(at(ds[4]) == "6:12");
  CHECK(ds[4].message == "expected an expression after 'and'");
  REQUIRE(p.m.items.size() == 2);
  CHECK(item<Definition>(p, 0).name == "ok");
  CHECK(item<Definition>(p, 1).name == "good");
}

TEST_CASE("parser: unclosed parenthesis points at its opener") {
  auto p = parse_text("let u = (a + (b * 2)\nlet v = 1\n");
  REQUIRE(p.d.items().size() == 1);
  const auto& d = p.d.items()[0];
  CHECK(d.message == "unclosed '(' — expected ')'");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].message == "'(' opened here");
  CHECK(p.file->line_col(d.notes[0].span.begin).column == 9);
  CHECK(item<Definition>(p, 0).name == "v");
}

TEST_CASE("parser: campaign errors recover inside the campaign") {
  auto p = parse_text(
      "campaign winback {\n"
      "  rule a: when x then send y\n"
      "  rule b: when x send y\n"
      "  campaign inner { rule c: when y then send z }\n"
      "  rule d: when x then send y\n");
  const auto& ds = p.d.items();
  REQUIRE(ds.size() == 3);
  CHECK(ds[0].message == "expected 'then' after the condition of rule 'b'");
  CHECK(at(ds[0]) == "3:18");
  CHECK(ds[1].code == "E-nested-campaign");
  CHECK(ds[1].message == "campaigns cannot be nested");
  CHECK(at(ds[1]) == "4:3");
  CHECK(ds[2].message == "expected '}' to close campaign 'winback'");
  REQUIRE(ds[2].notes.size() == 1);
  CHECK(ds[2].notes[0].message == "campaign 'winback' opened here");
  auto& c = item<Campaign>(p, 0);
  REQUIRE(c.items.size() == 2);
  CHECK(std::get<Rule>(c.items[0].node).name == "a");
  CHECK(std::get<Rule>(c.items[1].node).name == "d");
}

TEST_CASE("parser: lexical errors") {
  auto bad_date = parse_text("let d = 2026-02-30\nlet e = 2026-1-5\n");
  REQUIRE(bad_date.d.items().size() == 2);
  CHECK(bad_date.d.items()[0].code == "E-bad-date");
  CHECK(bad_date.d.items()[0].message == "'2026-02-30' is not a valid calendar date");
  CHECK(bad_date.d.items()[1].code == "E-bad-date");

  auto overflow = parse_text("let big = 9_223_372_036_854_775_808\n");
  REQUIRE(overflow.d.items().size() == 1);
  CHECK(overflow.d.items()[0].code == "E-int-overflow");
  CHECK(at(overflow.d.items()[0]) == "1:11");

  auto esc = parse_text("let s = \"ab\\qc\"\nlet t = \"\\u{110000}\"\n");
  REQUIRE(esc.d.items().size() == 2);
  CHECK(esc.d.items()[0].code == "E-bad-escape");
  CHECK(at(esc.d.items()[0]) == "1:13");
  CHECK(esc.d.items()[1].code == "E-bad-escape");

  auto utf = parse_text("let s = \"a\xFF\"\n");
  REQUIRE(utf.d.items().size() == 1);
  CHECK(utf.d.items()[0].code == "E-bad-utf8");
  CHECK(at(utf.d.items()[0]) == "1:11");

  auto unterminated = parse_text("let s = \"abc");
  REQUIRE(unterminated.d.items().size() == 1);
  CHECK(unterminated.d.items()[0].message == "unterminated string: expected a closing '\"'");
  REQUIRE(unterminated.d.items()[0].notes.size() == 1);
  CHECK(unterminated.d.items()[0].notes[0].span.begin == 8);
}

TEST_CASE("parser: a keyword where an expression is expected gets a hint") {
  auto p = parse_text("when day == 1 then send m\n");
  REQUIRE(p.d.items().size() == 1);
  CHECK(p.d.items()[0].message == "expected a condition after 'when' in the rule");
  CHECK(p.d.items()[0].hint == "'day' is a keyword and cannot be used as a name");
  CHECK(at(p.d.items()[0]) == "1:6");
}

TEST_CASE("parser: a missing comma between actions") {
  auto p = parse_text("when a then send x tag y\n");
  REQUIRE(p.d.items().size() == 1);
  CHECK(p.d.items()[0].message == "expected ',' before another action in the rule");
  CHECK(at(p.d.items()[0]) == "1:20");
}

TEST_CASE("parser: comparisons cannot be chained") {
  auto p = parse_text("let e = a < b < c\n");
  REQUIRE(p.d.items().size() == 1);
  CHECK(p.d.items()[0].code == "E-chained-comparison");
  CHECK(at(p.d.items()[0]) == "1:15");
  CHECK(p.d.items()[0].hint.find("'a < b and b < c'") != std::string::npos);
}

TEST_CASE("parser: misspelled option gets a suggestion") {
  auto p = parse_text("rule r: when a then send x prority 3\n");
  REQUIRE(p.d.items().size() == 1);
  CHECK(p.d.items()[0].message == "unexpected 'prority' after the actions of rule 'r'");
  CHECK(p.d.items()[0].hint == "did you mean 'priority'?");
}

TEST_CASE("parser: nesting deeper than the limit is one E-too-deep error") {
  for (int n : {10000, 100000}) {
    auto start = std::chrono::steady_clock::now();
    auto p = parse_text("let x = " + std::string(n, '(') + "a" + std::string(n, ')') + "\nlet y = 1\n");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(secs < 10.0);  // generous: milliseconds in practice, but CI machines are shared
    REQUIRE(p.d.items().size() == 1);
    CHECK(p.d.items()[0].code == "E-too-deep");
    REQUIRE(p.m.items.size() == 1);
    CHECK(item<Definition>(p, 0).name == "y");
  }
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  auto q = parse_text("let x = " + nots + "a\nlet y = " + std::string(5000, '[') + "\nlet z = " + std::string(5000, '-') + "1\n");
  REQUIRE(q.d.items().size() == 3);
  for (const auto& d : q.d.items()) CHECK(d.code == "E-too-deep");
  // Nesting just under the limit is fine.
  int depth = kMaxNestingDepth - 1;
  auto ok = parse_text("let x = " + std::string(depth, '(') + "a" + std::string(depth, ')') + "\n");
  CHECK_MESSAGE(!ok.d.has_errors(), render_all(ok.d));
  // A long flat chain would build a left-deep tree: bounded too, and in linear time.
  std::string chain = "a";
  for (int i = 0; i < 100000; ++i) chain += " + a";
  auto start = std::chrono::steady_clock::now();
  auto c = parse_text("let w = " + chain + "\n");
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 10.0);
  REQUIRE(c.d.items().size() == 1);
  CHECK(c.d.items()[0].code == "E-too-deep");
}

TEST_CASE("parser: odd inputs end in diagnostics, never a crash") {
  CHECK(parse_text("").m.items.empty());
  CHECK_FALSE(parse_text("").d.has_errors());
  CHECK_FALSE(parse_text("  # only a comment").d.has_errors());
  auto bom = parse_text("\xEF\xBB\xBFlet a = 1\n");
  CHECK_FALSE(bom.d.has_errors());
  CHECK(bom.m.items.size() == 1);
  CHECK(parse_text("\"").d.has_errors());
  CHECK(parse_text("let a = \"abc\\").d.has_errors());
  CHECK(parse_text(std::string("let a = \"a\0b\"\nlet \0", 19)).d.has_errors());
  CHECK(parse_text("}}}{{{").d.has_errors());
  CHECK(parse_text("campaign").d.has_errors());
  CHECK(parse_text("campaign c {").d.has_errors());
  CHECK(parse_text("journey j on x { day").d.has_errors());
  CHECK(parse_text("let a = 4.").d.has_errors());
  CHECK(parse_text("let a = 1__0").d.has_errors());
  CHECK(parse_text("let a = event.").d.has_errors());
  auto big = parse_text(std::string(kMaxSourceBytes + 1, ' '));
  REQUIRE(big.d.items().size() == 1);
  CHECK(big.d.items()[0].code == "E-too-large");
}

TEST_CASE("parser: parse_expression reports trailing input") {
  Diagnostics d;
  auto e = parse_expression(std::make_shared<SourceFile>("e.crm", "a == 1 then"), d);
  CHECK_FALSE(e);
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].message == "unexpected 'then' after the expression");
  CHECK(d.items()[0].span.begin == 7);
}

TEST_CASE("parser: declaration spans end at their last token, not at a trailing comment") {
  auto p = parse_text("let a = 1 # one\n# two\nrule r: when a then send m # three\n");
  REQUIRE(!p.d.has_errors());
  CHECK(item<Definition>(p, 0).span.end == 9);
  auto& r = item<Rule>(p, 1);
  CHECK(p.file->text().substr(r.span.begin, r.span.end - r.span.begin) == "rule r: when a then send m");
  CHECK(r.actions[0].span.end == r.span.end);
}
