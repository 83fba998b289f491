// Checker tests on hand-built ASTs (the `check()` embedding path): expression types, names,
// scopes, definitions and options, independent of the parser.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "lang/checker.hpp"
#include "checker_ast_builder.hpp"

using namespace crm::lang;
using namespace crm::lang::test;

namespace {

struct Typed {
  CheckedProgram prog;
  Diagnostics diags;
  Type type;
};

bool has(const Diagnostics& ds, const std::string& code, const std::string& text = "") {
  for (const auto& d : ds.items())
    if (d.code == code && d.message.find(text) != std::string::npos) return true;
  return false;
}

std::string all(const Diagnostics& ds) {
  std::string s;
  for (const auto& d : ds.items()) s += d.code + ": " + d.message + " | " + d.hint + "\n";
  return s;
}

// `let probe = e`, read by one rule; returns the type of e.
Typed type_of(ExprPtr e, CheckOptions options = {}) {
  Typed t;
  Module m = module("/tmp/probe.crm");
  m.items.push_back(let("probe", std::move(e)));
  m.items.push_back(rule("r", is_null(name("probe")), acts(tag("t"))));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  t.prog = check(std::move(ms), options, t.diags);
  const auto* d = t.prog.find_definition("probe");
  if (d) t.type = d->expr->type;
  return t;
}

// One rule `on event` with condition e.
Typed rule_with(ExprPtr e, std::string event = "", std::vector<Option> options = {}) {
  Typed t;
  Module m = module("/tmp/rules.crm");
  m.items.push_back(rule("r", std::move(e), acts(tag("t")), std::move(options), std::move(event)));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  t.prog = check(std::move(ms), {}, t.diags);
  return t;
}

}  // namespace

TEST_CASE("checker: literal and attribute types") {
  CHECK(type_of(int_(1)).type == Type::integer());
  CHECK(type_of(dec(1.5)).type == Type::decimal());
  CHECK(type_of(str("a")).type == Type::string());
  CHECK(type_of(date(100)).type == Type::date());
  CHECK(type_of(name("purchase_count")).type == Type::integer());
  CHECK(type_of(name("subscription.status")).type == Type::string());
  CHECK(type_of(list(str("a"), str("b"))).type == Type::list(TypeKind::String));
  CHECK(type_of(list()).type == Type::list(TypeKind::Error));
  CHECK(type_of(list(int_(1), dec(2.5))).type == Type::list(TypeKind::Decimal));
  auto bad = type_of(list(str("a"), int_(1)));
  CHECK(has(bad.diags, "E-type", "list elements must all have one type: expected string, got int"));
}

TEST_CASE("checker: arithmetic types") {
  CHECK(type_of(bin(BinOp::Add, int_(1), int_(2))).type == Type::integer());
  CHECK(type_of(bin(BinOp::Add, int_(1), dec(2))).type == Type::decimal());
  CHECK(type_of(bin(BinOp::Div, int_(1), int_(2))).type == Type::decimal());
  CHECK(type_of(bin(BinOp::Mul, int_(3), int_(2))).type == Type::integer());
  CHECK(type_of(bin(BinOp::Mod, int_(3), int_(2))).type == Type::integer());
  CHECK(type_of(bin(BinOp::Add, date(1), int_(2))).type == Type::date());
  CHECK(type_of(bin(BinOp::Sub, date(1), int_(2))).type == Type::date());
  CHECK(type_of(bin(BinOp::Sub, call("today"), name("birthday"))).type == Type::integer());
  CHECK(type_of(un(UnOp::Neg, dec(2))).type == Type::decimal());
  CHECK(has(type_of(bin(BinOp::Mod, dec(3), int_(2))).diags, "E-type", "'%' needs int operands, got decimal"));
  CHECK(has(type_of(bin(BinOp::Add, str("a"), int_(2))).diags, "E-type", "'+' needs numbers"));
  CHECK(has(type_of(bin(BinOp::Add, date(1), date(2))).diags, "E-type", "cannot add two dates"));
  CHECK(has(type_of(bin(BinOp::Mul, date(1), int_(2))).diags, "E-type", "'*' needs numbers, got date"));
  CHECK(has(type_of(un(UnOp::Neg, str("x"))).diags, "E-type", "unary '-' needs a number, got string"));
}

TEST_CASE("checker: logic and comparison types") {
  CHECK(type_of(bin(BinOp::And, boolean(true), name("email_opt_in"))).type == Type::boolean());
  auto t = type_of(bin(BinOp::And, int_(1), boolean(true)));
  CHECK(has(t.diags, "E-type", "'and' needs bool operands, got int"));
  CHECK(has(type_of(un(UnOp::Not, int_(1))).diags, "E-type", "'not' needs a bool operand, got int"));
  CHECK(!type_of(bin(BinOp::Eq, name("purchase_count"), dec(1.5))).diags.has_errors());
  CHECK(!type_of(bin(BinOp::Lt, name("birthday"), date(3))).diags.has_errors());
  CHECK(has(type_of(bin(BinOp::Eq, name("purchase_count"), str("1"))).diags, "E-type",
            "'==' cannot compare int with string"));
  CHECK(has(type_of(bin(BinOp::Lt, name("email_opt_in"), boolean(true))).diags, "E-type", "cannot order bool"));
  CHECK(has(type_of(bin(BinOp::Eq, name("tags"), list())).diags, "E-type", "cannot compare lists"));
  auto n = type_of(bin(BinOp::Eq, name("birthday"), null_()));
  CHECK(has(n.diags, "W-null-comparison", "comparison with null is always unknown; use 'is null'"));
  CHECK(!n.diags.has_errors());
  CHECK(type_of(is_null(name("birthday"))).type == Type::boolean());
}

TEST_CASE("checker: membership types") {
  CHECK(!type_of(bin(BinOp::In, str("vip"), name("tags"))).diags.has_errors());
  CHECK(!type_of(bin(BinOp::NotIn, name("satisfaction"), list(int_(1), int_(2)))).diags.has_errors());
  CHECK(has(type_of(bin(BinOp::In, int_(1), name("tags"))).diags, "E-type", "'in' cannot look for int in list<string>"));
  CHECK(has(type_of(bin(BinOp::In, str("a"), str("abc"))).diags, "E-type", "'in' needs a list on the right"));
  CHECK(has(type_of(bin(BinOp::In, name("tags"), name("tags"))).diags, "E-type", "single value on the left"));
}

TEST_CASE("checker: function types and arity") {
  CHECK(type_of(call("today")).type == Type::date());
  CHECK(type_of(call("year", call("today"))).type == Type::integer());
  CHECK(type_of(call("days_between", name("birthday"), call("today"))).type == Type::integer());
  CHECK(type_of(call("coalesce", name("age"), int_(0))).type == Type::integer());
  CHECK(type_of(call("coalesce", name("total_spent"), int_(0))).type == Type::decimal());
  CHECK(type_of(call("min", int_(1), dec(2))).type == Type::decimal());
  CHECK(type_of(call("max", name("birthday"), call("today"))).type == Type::date());
  CHECK(type_of(call("abs", dec(-2))).type == Type::decimal());
  CHECK(type_of(call("len", name("tags"))).type == Type::integer());
  CHECK(type_of(call("len", str("abc"))).type == Type::integer());
  CHECK(type_of(call("has_tag", str("vip"))).type == Type::boolean());
  CHECK(type_of(call("lower", name("email"))).type == Type::string());
  auto ar = type_of(call("year"));
  CHECK(has(ar.diags, "E-arity", "'year' takes 1 argument, got 0 arguments"));
  CHECK(ar.diags.items()[0].hint == "year(date) -> int");
  CHECK(has(type_of(call("min", int_(1))).diags, "E-arity", "at least 2 arguments"));
  CHECK(has(type_of(call("year", str("x"))).diags, "E-type", "'year' needs a date argument, got string"));
  CHECK(has(type_of(call("coalesce", int_(1), str("x"))).diags, "E-type", "'coalesce' needs arguments of one type"));
  CHECK(has(type_of(call("min", str("a"), str("b"))).diags, "E-type", "int, decimal or date"));
  CHECK(has(type_of(call("min", int_(1), date(2))).diags, "E-type", "arguments of one type"));
  CHECK(has(type_of(call("len", int_(1))).diags, "E-type", "a list or string"));
  CHECK(has(type_of(call("has_tag", int_(1))).diags, "E-type", "a string argument"));
  auto unk = type_of(call("yaer", call("today")));
  CHECK(has(unk.diags, "E-unknown-function", "unknown function 'yaer'"));
  CHECK(unk.diags.items()[0].hint == "did you mean 'year'?");
}

TEST_CASE("checker: unknown names, suggestions and store hint") {
  auto t = type_of(name("purchse_count"));
  REQUIRE(has(t.diags, "E-unknown-name", "unknown attribute 'purchse_count'"));
  CHECK(t.diags.items()[0].hint == "did you mean 'purchase_count'?");
  auto p = type_of(name("plan"));
  CHECK(p.diags.items()[0].hint == "if 'plan' is a column of your customers table, check with --db STORE");
  CheckOptions with_store;
  with_store.extra_attributes.push_back({"plan", Type::string()});
  CHECK(type_of(name("plan"), with_store).type == Type::string());
  CHECK(!type_of(name("plan"), with_store).diags.has_errors());
}

TEST_CASE("checker: order and event attributes are scoped") {
  auto daily = rule_with(bin(BinOp::Gt, name("order.total"), int_(100)));
  CHECK(has(daily.diags, "E-scope", "'order.total' is only available in rules and journeys 'on purchase'"));
  CHECK(!rule_with(bin(BinOp::Gt, name("order.total"), int_(100)), "purchase").diags.has_errors());
  CHECK(!rule_with(bin(BinOp::Gt, name("order.total"), int_(100)), "first_purchase").diags.has_errors());
  CHECK(has(rule_with(bin(BinOp::Eq, name("event.reason"), str("x"))).diags, "E-scope",
            "'event.reason' is only available in event rules"));
  CHECK(has(rule_with(bin(BinOp::Eq, name("event.type"), str("x")), "purchase").diags, "E-scope", "event rules"));
  auto ev = rule_with(bin(BinOp::Eq, name("event.reason"), str("x")), "cancel_request");
  CHECK(!ev.diags.has_errors());
  CHECK(ev.prog.rules[0].rule->when->args[0]->type == Type::any());
}

TEST_CASE("checker: conditions and segments must be bool") {
  auto t = rule_with(name("purchase_count"));
  CHECK(has(t.diags, "E-type", "a rule's 'when' must be bool, got int"));
  Module m = module("/tmp/seg.crm");
  m.items.push_back(let("big", name("total_spent"), true));
  m.items.push_back(rule("r", name("big"), acts(tag("t"))));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  Diagnostics d;
  check(std::move(ms), {}, d);
  CHECK(has(d, "E-type", "segment 'big' must be bool, got decimal"));
}

TEST_CASE("checker: definitions are ordered, cycles reported") {
  Module m = module("/tmp/defs.crm");
  m.items.push_back(let("b", bin(BinOp::Add, name("a"), int_(1))));
  m.items.push_back(let("a", name("purchase_count")));
  m.items.push_back(let("x", name("y")));
  m.items.push_back(let("y", name("x")));
  m.items.push_back(rule("r", bin(BinOp::And, bin(BinOp::Gt, name("b"), int_(1)), is_null(name("x"))), acts(tag("t"))));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  Diagnostics d;
  auto p = check(std::move(ms), {}, d);
  CHECK(has(d, "E-definition-cycle", "definition cycle: x -> y -> x"));
  REQUIRE(p.definitions.size() == 4);
  CHECK(p.definitions[0]->name == "a");
  CHECK(p.definitions[1]->name == "b");
  CHECK(p.find_definition("b")->expr->type == Type::integer());
  CHECK(p.rules[0].uses_definitions == std::vector<std::string>{"b", "x"});
}

TEST_CASE("checker: duplicate definitions and messages have a note") {
  Module m = module("/tmp/dup.crm");
  m.items.push_back(let("a", int_(1)));
  m.items.push_back(let("a", int_(2)));
  m.items.push_back(message("m"));
  m.items.push_back(message("m"));
  m.items.push_back(let("age", int_(2)));
  m.items.push_back(rule("r", bin(BinOp::Gt, name("a"), int_(0)), acts(send("m"))));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  Diagnostics d;
  check(std::move(ms), {}, d);
  CHECK(has(d, "E-duplicate-definition", "'a' is defined more than once"));
  CHECK(has(d, "E-duplicate-message", "message 'm' is declared more than once"));
  CHECK(has(d, "E-duplicate-definition", "'age' is a built-in attribute"));
  for (const auto& x : d.items())
    if (x.code == "E-duplicate-message" || x.message.find("more than once") != std::string::npos) {
      REQUIRE(x.notes.size() == 1);
      CHECK(x.notes[0].message == "previous definition here");
    }
}

TEST_CASE("checker: sends, channels and messages") {
  Module m = module("/tmp/send.crm");
  m.items.push_back(message("thanks"));
  m.items.push_back(message("bare", std::nullopt));
  m.items.push_back(message("unused"));
  Action via = send("bare");
  via.channel = Channel::Line;
  m.items.push_back(rule("a", boolean(true), acts(send("thnaks"), send("bare"), std::move(via), send("thanks"))));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  Diagnostics d;
  check(std::move(ms), {}, d);
  CHECK(has(d, "E-unknown-message", "unknown message 'thnaks'"));
  CHECK(has(d, "E-no-channel", "message 'bare' has no channel"));
  CHECK(d.error_count() == 2);
  CHECK(has(d, "W-unused-message", "message 'unused' is never sent"));
  for (const auto& x : d.items()) {
    if (x.code == "E-unknown-message") CHECK(x.hint == "did you mean 'thanks'?");
    if (x.code == "E-no-channel") CHECK(x.hint == "add 'via email' to the message or the send");
  }
}

TEST_CASE("checker: option validation") {
  auto t = rule_with(boolean(true), "", [] {
    std::vector<Option> o;
    o.push_back(opt(OptionKind::Once));
    o.push_back(opt(OptionKind::Every, 0));
    o.push_back(opt(OptionKind::Priority, 1));
    o.push_back(opt(OptionKind::Priority, 2));
    Option h = opt(OptionKind::Holdout);
    h.pct = 120;
    h.text = "120";
    o.push_back(std::move(h));
    Option from = opt(OptionKind::From), until = opt(OptionKind::Until);
    from.date = 100;
    until.date = 50;
    o.push_back(std::move(from));
    o.push_back(std::move(until));
    Option after = opt(OptionKind::After);
    after.name = "r";
    o.push_back(std::move(after));
    return o;
  }());
  CHECK(has(t.diags, "E-option-conflict", "'once' and 'every' cannot be combined"));
  CHECK(has(t.diags, "E-option-range", "'every' needs at least 1 day, got 0"));
  CHECK(has(t.diags, "E-duplicate-option", "option 'priority' is given more than once"));
  CHECK(has(t.diags, "E-option-range", "holdout must be between 0% and 100%, got 120%"));
  CHECK(has(t.diags, "E-option-range", "'until 1970-02-20' is before 'from 1970-04-11'"));
  CHECK(has(t.diags, "E-after-self", "rule 'r' cannot wait for itself"));
}

TEST_CASE("checker: tags read and written") {
  Module m = module("/tmp/tags.crm");
  m.items.push_back(let("is_vip", call("has_tag", str("vip")), true));
  m.items.push_back(rule("a", bin(BinOp::And, name("is_vip"), bin(BinOp::NotIn, str("lapsed"), name("tags"))),
                         acts(tag("welcomed"), tag("new", ActionKind::Untag))));
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  Diagnostics d;
  auto p = check(std::move(ms), {}, d);
  CHECK(!d.has_errors());
  REQUIRE(p.rules.size() == 1);
  CHECK(p.rules[0].reads_tags == std::vector<std::string>{"lapsed", "vip"});
  CHECK(p.rules[0].writes_tags == std::vector<std::string>{"new", "welcomed"});
  CHECK(p.rules[0].uses_definitions == std::vector<std::string>{"is_vip"});
}

TEST_CASE("checker: never-fires warnings") {
  auto neg = rule_with(bin(BinOp::Lt, name("purchase_count"), int_(0)));
  CHECK(has(neg.diags, "W-never-fires", "rule 'r' can never fire: purchase_count is never negative"));
  auto sat = rule_with(bin(BinOp::And, name("email_opt_in"), bin(BinOp::Gt, name("satisfaction"), int_(5))));
  CHECK(has(sat.diags, "W-never-fires", "satisfaction is always between 1 and 5"));
  CHECK(has(rule_with(bin(BinOp::Eq, call("month", call("today")), int_(13))).diags, "W-never-fires", "month()"));
  CHECK(has(rule_with(bin(BinOp::Gt, int_(0), call("len", name("tags")))).diags, "W-never-fires", "len()"));
  CHECK(has(rule_with(bin(BinOp::And, boolean(false), name("email_opt_in"))).diags, "W-never-fires", "always false"));
  CHECK(has(rule_with(bin(BinOp::Gt, int_(1), int_(2))).diags, "W-never-fires", "always false"));
  CHECK(!has(rule_with(bin(BinOp::Or, name("email_opt_in"), bin(BinOp::Lt, name("age"), int_(0)))).diags,
             "W-never-fires"));
  CHECK(!has(rule_with(bin(BinOp::Ge, name("days_until_birthday"), int_(365))).diags, "W-never-fires"));
  CHECK(has(rule_with(bin(BinOp::Gt, name("days_until_birthday"), int_(365))).diags, "W-never-fires"));
}

TEST_CASE("checker: deep expressions are refused, not crashed on") {
  ExprPtr e = int_(1);
  for (int i = 0; i < 5000; ++i) e = bin(BinOp::Add, std::move(e), int_(1));
  auto t = type_of(std::move(e));
  CHECK(has(t.diags, "E-too-deep"));
}

namespace {

CheckedProgram check_one(Module m, Diagnostics& d, CheckOptions options = {}) {
  std::vector<Module> ms;
  ms.push_back(std::move(m));
  return check(std::move(ms), options, d);
}

Option holdout(double pct) {
  Option h = opt(OptionKind::Holdout);
  h.pct = pct;
  return h;
}

Option after(std::string rule_name, int64_t days = -1) {
  Option o = opt(OptionKind::After, days);
  o.name = std::move(rule_name);
  o.name_span = fake_span();
  return o;
}

}  // namespace

TEST_CASE("checker: qualified names of rules, campaign rules and unnamed rules") {
  Module m = module("/tmp/shop/welcome.crm", "\n\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
  Item unnamed = rule("", boolean(true), acts(tag("a")));
  std::get<Rule>(unnamed.node).span = {2, 10};  // line 3
  m.items.push_back(std::move(unnamed));
  m.items.push_back(rule("named", boolean(true), acts(tag("b"))));
  Item inner = rule("", boolean(true), acts(tag("c")));
  std::get<Rule>(inner.node).span = {2, 10};
  m.items.push_back(campaign("winback", nullptr, vec<Item>(rule("dormant_90", boolean(true), acts(tag("d"))),
                                                            std::move(inner))));
  Diagnostics d;
  auto p = check_one(std::move(m), d);
  CHECK(!d.has_errors());
  REQUIRE(p.rules.size() == 4);
  CHECK(p.rules[0].name == "welcome:3");
  CHECK(p.rules[1].name == "named");
  CHECK(p.rules[2].name == "winback.dormant_90");
  CHECK(p.rules[3].name == "winback.welcome:3");
  CHECK(p.rules[2].campaigns == std::vector<std::string>{"winback"});
  CHECK(p.find_rule("winback.dormant_90") == &p.rules[2]);
  CHECK(p.rules[2].rule->qualified == "winback.dormant_90");
  CHECK(p.rules[3].order == 3);
}

TEST_CASE("checker: duplicate rule names warn with a note") {
  Module m = module("/tmp/dups.crm");
  m.items.push_back(rule("same", boolean(true), acts(tag("a"))));
  m.items.push_back(rule("same", boolean(true), acts(tag("b"))));
  Diagnostics d;
  check_one(std::move(m), d);
  CHECK(!d.has_errors());
  REQUIRE(has(d, "W-duplicate-rule", "two rules are named 'same'"));
  for (const auto& x : d.items())
    if (x.code == "W-duplicate-rule") {
      REQUIRE(x.notes.size() == 1);
      CHECK(x.notes[0].message == "previous definition here");
    }
}

TEST_CASE("checker: campaign options are defaults, the rule's own override") {
  Module m = module("/tmp/camp.crm");
  std::vector<Item> items;
  items.push_back(Item{opt(OptionKind::Priority, 5)});
  items.push_back(Item{holdout(10)});
  items.push_back(Item{opt(OptionKind::Every, 30)});
  items.push_back(rule("plain", name("email_opt_in"), acts(tag("a"))));
  items.push_back(rule("own", boolean(true), acts(tag("b")),
                       vec<Option>(opt(OptionKind::Priority, 9), holdout(50), opt(OptionKind::Once))));
  items.push_back(limit(2, 7, Channel::Email));
  m.items.push_back(campaign("vip", bin(BinOp::Gt, name("total_spent"), int_(1000)), std::move(items)));
  m.items.push_back(limit(5, 30));
  Diagnostics d;
  auto p = check_one(std::move(m), d);
  CHECK_MESSAGE(!d.has_errors(), all(d));
  const FlatRule* plain = p.find_rule("vip.plain");
  const FlatRule* own = p.find_rule("vip.own");
  REQUIRE(plain);
  REQUIRE(own);
  CHECK(plain->priority == 5);
  CHECK(plain->dedupe == FlatRule::Dedupe::Every);
  CHECK(plain->every_days == 30);
  CHECK(plain->holdout_pct == 10);
  CHECK(plain->holdout_key == "vip");
  REQUIRE(plain->conditions.size() == 2);
  CHECK(plain->conditions[0]->kind == Expr::Kind::Binary);  // the campaign's audience first
  CHECK(plain->conditions[1]->kind == Expr::Kind::Name);
  CHECK(plain->uses_definitions.empty());
  CHECK(own->priority == 9);
  CHECK(own->dedupe == FlatRule::Dedupe::Once);
  CHECK(own->holdout_pct == 50);
  CHECK(own->holdout_key == "vip.own");
  REQUIRE(p.limits.size() == 2);
  CHECK(p.limits[0].campaign == "vip");
  CHECK(p.limits[1].campaign.empty());
}

TEST_CASE("checker: after resolves inside the campaign first, then globally") {
  Module m = module("/tmp/after.crm");
  m.items.push_back(rule("first", boolean(true), acts(tag("a"))));
  m.items.push_back(campaign("c", nullptr,
                             vec<Item>(rule("first", boolean(true), acts(tag("b"))),
                                       rule("second", boolean(true), acts(tag("c")), vec<Option>(after("first", 3))),
                                       rule("third", boolean(true), acts(tag("d")), vec<Option>(after("c.second"))),
                                       rule("bad", boolean(true), acts(tag("e")), vec<Option>(after("secnod"))))));
  m.items.push_back(rule("top", boolean(true), acts(tag("f")), vec<Option>(after("first"))));
  Diagnostics d;
  auto p = check_one(std::move(m), d);
  REQUIRE(p.find_rule("c.second"));
  REQUIRE(p.find_rule("c.second")->after.size() == 1);
  CHECK(p.find_rule("c.second")->after[0].rule == "c.first");
  CHECK(p.find_rule("c.second")->after[0].days == 3);
  CHECK(p.find_rule("c.third")->after[0].rule == "c.second");
  CHECK(p.find_rule("top")->after[0].rule == "first");
  REQUIRE(has(d, "E-unknown-rule", "unknown rule 'secnod' in 'after'"));
  for (const auto& x : d.items())
    if (x.code == "E-unknown-rule") CHECK(x.hint == "did you mean 'second'?");
  CHECK(d.error_count() == 1);
}

TEST_CASE("checker: journeys flatten to one rule per step") {
  Module m = module("/tmp/j.crm");
  m.items.push_back(message("thanks"));
  m.items.push_back(message("tips"));
  m.items.push_back(campaign(
      "care", nullptr,
      vec<Item>(journey("aftercare", "first_purchase", bin(BinOp::Gt, name("order.total"), int_(0)),
                        vec<JourneyStep>(step(0, acts(send("thanks"))),
                                         step(7, acts(send("tips")), call("has_tag", str("unsubscribed")))),
                        bin(BinOp::Gt, name("purchase_count"), int_(1)), vec<Option>(opt(OptionKind::Priority, 3))))));
  Diagnostics d;
  auto p = check_one(std::move(m), d);
  CHECK_MESSAGE(!d.has_errors(), all(d));
  REQUIRE(p.rules.size() == 2);
  CHECK(p.rules[0].name == "care.aftercare.day_0");
  CHECK(p.rules[1].name == "care.aftercare.day_7");
  CHECK(p.rules[1].journey_day == 7);
  CHECK(p.rules[1].step == 1);
  CHECK(p.rules[1].event == "first_purchase");
  CHECK(p.rules[1].priority == 3);
  CHECK(p.rules[1].unless != nullptr);
  CHECK(p.rules[1].exit_when != nullptr);
  CHECK(p.rules[1].reads_tags == std::vector<std::string>{"unsubscribed"});
  CHECK(p.rules[0].reads_tags.empty());
  CHECK(p.rules[1].journey->qualified == "care.aftercare");
  CHECK(!has(d, "W-unused-message"));
}

TEST_CASE("checker: limits and time zones") {
  Module m = module("/tmp/pol.crm");
  m.items.push_back(limit(0, 7));
  m.items.push_back(limit(1, 0));
  m.items.push_back(timezone_("Asia/Tokyo"));
  m.items.push_back(timezone_("Asia/Tokyo"));
  m.items.push_back(timezone_("Europe/Paris"));
  m.items.push_back(timezone_("Mars/Olympus_Mons"));
  m.items.push_back(timezone_("../etc/passwd"));
  Diagnostics d;
  auto p = check_one(std::move(m), d);
  CHECK(has(d, "E-option-range", "a limit needs a count of at least 1, got 0"));
  CHECK(has(d, "E-option-range", "a limit needs a period of at least 1 day, got 0"));
  CHECK(has(d, "E-timezone-conflict", "conflicting time zones 'Asia/Tokyo' and 'Europe/Paris'"));
  CHECK(has(d, "W-timezone-unknown", "time zone 'Mars/Olympus_Mons' is not in /usr/share/zoneinfo"));
  CHECK(has(d, "E-timezone", "'../etc/passwd' is not a time zone name"));
  CHECK(p.timezone == std::optional<std::string>("Asia/Tokyo"));
}

TEST_CASE("checker: unused definitions warn only in given files") {
  Module m = module("/tmp/unused.crm");
  m.items.push_back(let("spare", int_(1)));
  m.items.push_back(let("used", bin(BinOp::Gt, name("age"), int_(20)), true));
  m.items.push_back(rule("r", name("used"), acts(tag("t"))));
  Diagnostics d;
  check_one(std::move(m), d);
  CHECK(has(d, "W-unused-definition", "let 'spare' is never used"));
  CHECK(!has(d, "W-unused-definition", "'used'"));
}

TEST_CASE("checker: points and once per types") {
  Module m = module("/tmp/pts.crm");
  Action pts;
  pts.kind = ActionKind::Points;
  pts.span = fake_span();
  pts.points = str("ten");
  Option per = opt(OptionKind::OncePer);
  per.expr = name("tags");
  m.items.push_back(rule("r", boolean(true), acts(std::move(pts)), vec<Option>(std::move(per))));
  Action ok;
  ok.kind = ActionKind::Points;
  ok.span = fake_span();
  ok.points = bin(BinOp::Mul, name("total_spent"), dec(0.01));
  Option per2 = opt(OptionKind::OncePer);
  per2.expr = call("year", call("today"));
  m.items.push_back(rule("s", boolean(true), acts(std::move(ok)), vec<Option>(std::move(per2))));
  Diagnostics d;
  auto p = check_one(std::move(m), d);
  CHECK(has(d, "E-type", "points must be an int or decimal, got string"));
  CHECK(has(d, "E-type", "'once per' needs a single value, got list<string>"));
  CHECK(d.error_count() == 2);
  CHECK(p.find_rule("s")->dedupe == FlatRule::Dedupe::OncePer);
  CHECK(p.find_rule("s")->once_per->type == Type::integer());
}

namespace {

// A fresh folder under the system temp dir, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() /
           ("crm_checker_" + tag + "_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& rel, const std::string& text) const {
    auto p = path / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

}  // namespace

TEST_CASE("checker: imports of given modules are ordered imports-first, cycles reported") {
  TempDir dir("given");
  std::string a = dir.write("a.crm", "");
  std::string b = dir.write("b.crm", "");
  std::string c = dir.write("c.crm", "");
  SUBCASE("order") {
    Module ma = module(a);
    ma.items.push_back(import_("b"));
    Module mb = module(b);
    std::vector<Module> ms;
    ms.push_back(std::move(ma));
    ms.push_back(std::move(mb));
    Diagnostics d;
    auto p = check(std::move(ms), {}, d);
    CHECK(!d.has_errors());
    REQUIRE(p.modules.size() == 2);
    CHECK(p.modules[0].file->path() == b);
    CHECK(p.modules[1].file->path() == a);
  }
  SUBCASE("cycle") {
    Module ma = module(a), mb = module(b), mc = module(c);
    ma.items.push_back(import_("b.crm"));
    mb.items.push_back(import_("c"));
    mc.items.push_back(import_("./a"));
    std::vector<Module> ms;
    ms.push_back(std::move(ma));
    ms.push_back(std::move(mb));
    ms.push_back(std::move(mc));
    Diagnostics d;
    auto p = check(std::move(ms), {}, d);
    CHECK(has(d, "E-import-cycle", "import cycle: a.crm -> b.crm -> c.crm -> a.crm"));
    CHECK(p.modules.size() == 3);
  }
}

TEST_CASE("checker: missing imports are errors at the import with a hint") {
  TempDir dir("missing");
  TempDir std_dir("stdlib");
  std_dir.write("lifecycle.crm", "");
  std::string a = dir.write("a.crm", "");
  Module ma = module(a);
  ma.items.push_back(import_("shared/nothere"));
  ma.items.push_back(import_("std/lifecycel"));
  ma.items.push_back(import_("std/lifecycle"));
  std::vector<Module> ms;
  ms.push_back(std::move(ma));
  CheckOptions options;
  options.stdlib_dirs = {(dir.path / "no_such_dir").string(), std_dir.path.string()};
  Diagnostics d;
  auto p = check(std::move(ms), options, d);
  REQUIRE(has(d, "E-import-not-found", "cannot find module 'shared/nothere'"));
  REQUIRE(has(d, "E-import-not-found", "unknown standard module 'std/lifecycel'"));
  for (const auto& x : d.items()) {
    if (x.message.find("nothere") != std::string::npos)
      CHECK(x.hint.find("shared/nothere.crm") != std::string::npos);
    if (x.message.find("lifecycel") != std::string::npos) CHECK(x.hint == "did you mean 'std/lifecycle'?");
  }
  CHECK(d.error_count() == 2);
  REQUIRE(p.modules.size() == 2);
  CHECK(p.modules[0].file->path() == (std_dir.path / "lifecycle.crm").string());
}

TEST_CASE("checker: load_and_check reports unreadable files") {
  Diagnostics d;
  auto p = load_and_check({"/nonexistent/dir/x.crm"}, {}, d);
  CHECK(has(d, "E-io", "cannot open '/nonexistent/dir/x.crm'"));
  CHECK(p.modules.empty());
}
