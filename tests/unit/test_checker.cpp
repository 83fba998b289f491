// Checker tests from .crm text (parser + loader + checker): scripts written to a temporary
// folder, std imports from a temporary stdlib folder, diagnostics with messages, hints and spans.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "lang/checker.hpp"

using namespace crm::lang;
namespace fs = std::filesystem;

namespace {

// A temporary project: files under <tmp>/crm_checker_text_N/, the stdlib under .../std/.
struct Project {
  fs::path root;
  Project() {
    static int n = 0;
    root = fs::temp_directory_path() / ("crm_checker_text_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
    fs::remove_all(root);
    fs::create_directories(root / "std");
  }
  ~Project() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  CheckedProgram check(const std::vector<std::string>& rels, Diagnostics& d, CheckOptions options = {}) const {
    std::vector<std::string> paths;
    for (const auto& r : rels) paths.push_back((root / r).string());
    options.stdlib_dirs.push_back((root / "std").string());
    return load_and_check(paths, options, d);
  }
};

struct Result {
  Project project;
  Diagnostics diags;
  CheckedProgram prog;
};

// Checks one script (main.crm).
std::unique_ptr<Result> run(const std::string& text, CheckOptions options = {}) {
  auto r = std::make_unique<Result>();
  r->project.write("main.crm", text);
  r->prog = r->project.check({"main.crm"}, r->diags, options);
  return r;
}

const Diagnostic* find(const Diagnostics& ds, const std::string& code, const std::string& text = "") {
  for (const auto& d : ds.items())
    if (d.code == code && d.message.find(text) != std::string::npos) return &d;
  return nullptr;
}

std::string all(const Diagnostics& ds) { return render_all(ds); }

// The source text a diagnostic points at.
std::string at(const Diagnostic& d) {
  return d.file ? d.file->text().substr(d.span.begin, d.span.end - d.span.begin) : std::string();
}

// Errors of `when EXPR` in a daily rule (or `on EVENT`).
std::unique_ptr<Result> when(const std::string& expr, const std::string& event = "") {
  return run("rule r: " + (event.empty() ? "" : "on " + event + " ") + "when " + expr + " then tag t\n");
}

bool ok(const std::string& expr, const std::string& event = "") {
  auto r = when(expr, event);
  if (r->diags.has_errors()) MESSAGE(expr, ": ", all(r->diags));
  return !r->diags.has_errors();
}

// The first E-type error of `when EXPR`, rendered as "message @ offending text".
std::string type_error(const std::string& expr, const std::string& event = "") {
  auto r = when(expr, event);
  for (const auto& d : r->diags.items())
    if (d.severity == Severity::Error) return d.message + " @ " + at(d);
  return "";
}

}  // namespace

TEST_CASE("checker: a clean script") {
  auto r = run(R"crm(
let aov = total_spent / purchase_count
segment vip = total_spent >= 100_000 or purchase_count >= 10
message thank_you via email subject "ご購入ありがとうございます、{name|'お客'}様 ({aov|'-'})"
message birthday_card via dm cost 120

rule check_in:
  when purchase_count == 1 and days_since == 7 and aov > 0
  then send thank_you via line
  priority 10

when vip and days_until_birthday == 7
  then send birthday_card, grant coupon birthday_10
  once per year(today)
)crm");
  CHECK_MESSAGE(r->diags.items().empty(), all(r->diags));
  REQUIRE(r->prog.rules.size() == 2);
  CHECK(r->prog.rules[0].name == "check_in");
  CHECK(r->prog.rules[1].name == "main:12");
  CHECK(r->prog.rules[1].dedupe == FlatRule::Dedupe::OncePer);
  CHECK(r->prog.rules[0].uses_definitions == std::vector<std::string>{"aov"});
  CHECK(r->prog.definitions.size() == 2);
  CHECK(r->prog.messages.size() == 2);
}

TEST_CASE("checker: type rules from text, positive") {
  CHECK(ok("purchase_count == 1.5"));
  CHECK(ok("birthday < today - 30"));
  CHECK(ok("today - birthday > 365"));
  CHECK(ok("name == \"x\" and email_opt_in == true"));
  CHECK(ok("\"vip\" in tags and satisfaction not in [1, 2]"));
  CHECK(ok("purchase_count * 2 % 3 == 0"));
  CHECK(ok("-total_spent < 0 and abs(-3) == 3"));
  CHECK(ok("birthday is null or age is not null"));
  CHECK(ok("event.reason == \"too_expensive\" and event.type == \"cancel\"", "cancel_request"));
  CHECK(ok("order.total > 5000 and \"SKU1\" in order.skus", "purchase"));
  CHECK(ok("days_between(first_purchase_date, today) > 30 and month(today) == 12 and day(today) == 1"));
  CHECK(ok("coalesce(age, 0) > 20 and min(total_spent, 100) > 0 and max(birthday, created_at) < today"));
  CHECK(ok("len(purchased) > 2 and len(name) > 1 and lower(name) == upper(name)"));
  CHECK(ok("has_tag(\"vip\") and not email_opt_in"));
}

TEST_CASE("checker: type rules from text, negative with positions") {
  CHECK(type_error("purchase_count and email_opt_in") == "'and' needs bool operands, got int @ purchase_count");
  CHECK(type_error("email_opt_in or 1") == "'or' needs bool operands, got int @ 1");
  CHECK(type_error("not age") == "'not' needs a bool operand, got int @ age");
  CHECK(type_error("purchase_count == \"1\"") == "'==' cannot compare int with string @ \"1\"");
  CHECK(type_error("birthday == 3") == "'==' cannot compare date with int @ 3");
  CHECK(type_error("email_opt_in < true") == "'<' cannot order bool values @ email_opt_in");
  CHECK(type_error("tags == [\"a\"]") == "'==' cannot compare lists, got list<string> @ tags");
  CHECK(type_error("1 in tags") == "'in' cannot look for int in list<string> @ 1");
  CHECK(type_error("\"a\" in name") == "'in' needs a list on the right, got string @ name");
  CHECK(type_error("name + 1 == 2") == "'+' needs numbers (or a date and an int of days), got string @ name");
  CHECK(type_error("birthday + birthday == today") == "'+' cannot add two dates @ birthday");
  CHECK(type_error("birthday * 2 == 1") == "'*' needs numbers, got date @ birthday");
  CHECK(type_error("total_spent % 2 == 0") == "'%' needs int operands, got decimal @ total_spent");
  CHECK(type_error("purchase_count / 2 % 1 == 0") == "'%' needs int operands, got decimal @ purchase_count / 2");
  CHECK(type_error("-name == 1") == "unary '-' needs a number, got string @ name");
  CHECK(type_error("len([1, \"a\"]) == 1").find("list elements must all have one type: expected int, got string @ \"a\"") == 0);
  CHECK(type_error("year(name) == 1") == "'year' needs a date argument, got string @ name");
  CHECK(type_error("days_between(today) == 1") == "'days_between' takes 2 arguments, got 1 argument @ days_between(today)");
  CHECK(type_error("coalesce(age, \"x\") == 1") == "'coalesce' needs arguments of one type: expected int, got string @ \"x\"");
  CHECK(type_error("min(name, email) == 1") == "'min' needs an int, decimal or date argument, got string @ name");
  CHECK(type_error("abs(name) == 1") == "'abs' needs an int or decimal argument, got string @ name");
  CHECK(type_error("len(age) == 1") == "'len' needs a list or string argument, got int @ age");
  CHECK(type_error("has_tag(1)") == "'has_tag' needs a string argument, got int @ 1");
  CHECK(type_error("lower(1) == \"a\"") == "'lower' needs a string argument, got int @ 1");
  CHECK(type_error("purchase_count") == "a rule's 'when' must be bool, got int @ purchase_count");
}

TEST_CASE("checker: arity errors name the signature") {
  auto r = when("year(today, today) == 1");
  const Diagnostic* d = find(r->diags, "E-arity");
  REQUIRE(d);
  CHECK(d->message == "'year' takes 1 argument, got 2 arguments");
  CHECK(d->hint == "year(date) -> int");
}

TEST_CASE("checker: unknown names and functions suggest, or point at --db") {
  auto r = when("purchse_count > 1");
  const Diagnostic* d = find(r->diags, "E-unknown-name", "unknown attribute 'purchse_count'");
  REQUIRE(d);
  CHECK(d->hint == "did you mean 'purchase_count'?");
  CHECK(at(*d) == "purchse_count");
  auto plan = when("plan == \"gold\"");
  REQUIRE(find(plan->diags, "E-unknown-name", "'plan'"));
  CHECK(find(plan->diags, "E-unknown-name")->hint == "if 'plan' is a column of your customers table, check with --db STORE");
  CheckOptions store;
  store.has_store = true;
  auto with_store = run("rule r: when plan == \"gold\" then tag t\n", store);
  CHECK(find(with_store->diags, "E-unknown-name")->hint.empty());
  store.extra_attributes.push_back({"plan", Type::string()});
  CHECK(!run("rule r: when plan == \"gold\" then tag t\n", store)->diags.has_errors());
  auto f = when("yaer(today) == 2026");
  REQUIRE(find(f->diags, "E-unknown-function", "unknown function 'yaer'"));
  CHECK(find(f->diags, "E-unknown-function")->hint == "did you mean 'year'?");
}

TEST_CASE("checker: order and event attributes only where they exist") {
  auto daily = when("order.total > 100");
  const Diagnostic* d = find(daily->diags, "E-scope");
  REQUIRE(d);
  CHECK(d->message == "'order.total' is only available in rules and journeys 'on purchase' or 'on first_purchase'");
  CHECK(find(when("event.reason == \"x\"", "purchase")->diags, "E-scope", "only available in event rules"));
  CHECK(find(when("event.type == \"x\"")->diags, "E-scope", "'event.type'"));
  CHECK(find(when("order.id > 1", "signup")->diags, "E-scope", "'order.id'"));
  CHECK(ok("order.total > 1", "first_purchase"));
}

TEST_CASE("checker: null comparison warns") {
  auto r = when("birthday == null");
  CHECK(!r->diags.has_errors());
  const Diagnostic* d = find(r->diags, "W-null-comparison");
  REQUIRE(d);
  CHECK(d->message == "comparison with null is always unknown; use 'is null'");
  CHECK(d->severity == Severity::Warning);
}

TEST_CASE("checker: duplicate and cyclic definitions") {
  auto r = run(R"crm(let a = b + 1
let b = c * 2
let c = a
let d = 1
let d = 2
rule r: when a > 0 and d > 0 then tag t
)crm");
  const Diagnostic* cyc = find(r->diags, "E-definition-cycle");
  REQUIRE(cyc);
  CHECK(cyc->message == "definition cycle: a -> b -> c -> a");
  const Diagnostic* dup = find(r->diags, "E-duplicate-definition");
  REQUIRE(dup);
  CHECK(dup->message == "'d' is defined more than once");
  REQUIRE(dup->notes.size() == 1);
  CHECK(dup->notes[0].message == "previous definition here");
  CHECK(dup->file->line_col(dup->notes[0].span.begin).line == 4);
}

TEST_CASE("checker: definitions in dependency order across modules") {
  Result r;
  r.project.write("std/lifecycle.crm", "segment dormant = days_since > 90\nlet spend = total_spent\n");
  r.project.write("main.crm", "import \"std/lifecycle\"\nlet rich = spend2 > 1\nlet spend2 = spend * 2\n"
                              "rule r: when dormant and rich then tag t\n");
  r.prog = r.project.check({"main.crm"}, r.diags);
  CHECK_MESSAGE(!r.diags.has_errors(), all(r.diags));
  CHECK(!find(r.diags, "W-unused-definition", "spend'"));  // imported std definitions never warn
  std::vector<std::string> order;
  for (const auto* d : r.prog.definitions) order.push_back(d->name);
  auto pos = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  CHECK(pos("spend") < pos("spend2"));
  CHECK(pos("spend2") < pos("rich"));
  CHECK(r.prog.modules.size() == 2);
  CHECK(r.prog.modules[0].file->stem() == "lifecycle");
}

TEST_CASE("checker: messages: unknown, channel, subject placeholders, duplicates, unused") {
  auto r = run(R"crm(message thanks via email subject "Hi {nmae}, {name}"
message bare
message bare
message spare via sms
rule a: when true then send thnaks
rule b: when true then send bare
rule c: when true then send bare via line, send thanks
)crm");
  const Diagnostic* unk = find(r->diags, "E-unknown-message");
  REQUIRE(unk);
  CHECK(unk->message == "unknown message 'thnaks'");
  CHECK(unk->hint == "did you mean 'thanks'?");
  const Diagnostic* nochan = find(r->diags, "E-no-channel");
  REQUIRE(nochan);
  CHECK(nochan->message == "message 'bare' has no channel");
  CHECK(nochan->hint == "add 'via email' to the message or the send");
  CHECK(nochan->file->line_col(nochan->span.begin).line == 6);
  const Diagnostic* ph = find(r->diags, "E-unknown-name", "'nmae' in the subject");
  REQUIRE(ph);
  CHECK(at(*ph) == "{nmae}");
  CHECK(ph->hint == "did you mean 'name'?");
  const Diagnostic* dup = find(r->diags, "E-duplicate-message");
  REQUIRE(dup);
  CHECK(dup->notes.size() == 1);
  CHECK(find(r->diags, "W-unused-message", "message 'spare' is never sent"));
  CHECK(r->diags.error_count() == 4);
}

TEST_CASE("checker: qualified names: campaigns, unnamed rules, journeys") {
  auto r = run(R"crm(message m via email
rule named: when true then send m
when true then tag a
campaign winback when days_since > 90 {
  rule dormant: when true then send m
  when true then tag b
  journey care on purchase {
    day 0: send m
    day 7: tag c unless has_tag("x")
    exit when purchase_count > 2
  }
}
)crm");
  CHECK_MESSAGE(!r->diags.has_errors(), all(r->diags));
  std::vector<std::string> names;
  for (const auto& f : r->prog.rules) names.push_back(f.name);
  CHECK(names == std::vector<std::string>{"named", "main:3", "winback.dormant", "winback.main:6",
                                          "winback.care.day_0", "winback.care.day_7"});
  const FlatRule* step = r->prog.find_rule("winback.care.day_7");
  REQUIRE(step);
  CHECK(step->journey_day == 7);
  CHECK(step->conditions.size() == 1);  // the campaign's audience; the journey has no `when`
  CHECK(step->unless);
  CHECK(step->exit_when);
  CHECK(step->reads_tags == std::vector<std::string>{"x"});
  CHECK(step->writes_tags == std::vector<std::string>{"c"});
  CHECK(step->campaigns == std::vector<std::string>{"winback"});
}

TEST_CASE("checker: duplicate qualified rule names warn") {
  auto r = run("rule x: when true then tag a\nrule x: when true then tag b\n");
  CHECK(!r->diags.has_errors());
  const Diagnostic* d = find(r->diags, "W-duplicate-rule");
  REQUIRE(d);
  CHECK(d->message == "two rules are named 'x': they share one firing history");
  REQUIRE(d->notes.size() == 1);
  CHECK(d->notes[0].message == "previous definition here");
}

TEST_CASE("checker: options: merging from campaigns and validation") {
  auto r = run(R"crm(campaign vip when total_spent > 1000 {
  priority 5
  holdout 10%
  every 30 days
  from 2026-01-01
  rule plain: when true then tag a
  rule own: when true then tag b priority 9 holdout 50% once until 2026-06-30
  limit 2 email per 7 days
}
limit 3 message per 30 days
timezone "Asia/Tokyo"
)crm");
  CHECK_MESSAGE(!r->diags.has_errors(), all(r->diags));
  const FlatRule* plain = r->prog.find_rule("vip.plain");
  const FlatRule* own = r->prog.find_rule("vip.own");
  REQUIRE(plain);
  REQUIRE(own);
  CHECK(plain->priority == 5);
  CHECK(plain->holdout_pct == 10);
  CHECK(plain->holdout_key == "vip");
  CHECK(plain->dedupe == FlatRule::Dedupe::Every);
  CHECK(plain->every_days == 30);
  CHECK(own->priority == 9);
  CHECK(own->holdout_key == "vip.own");
  CHECK(own->dedupe == FlatRule::Dedupe::Once);
  CHECK(own->from == plain->from);
  CHECK(own->until.has_value());
  REQUIRE(r->prog.limits.size() == 2);
  CHECK(r->prog.limits[0].campaign == "vip");
  CHECK(r->prog.timezone == std::optional<std::string>("Asia/Tokyo"));

  auto bad = run(R"crm(rule a: when true then tag x once every 0 days priority 1 priority 2 holdout 101% from 2026-02-01 until 2026-01-01
rule b: when true then tag y after b
rule c: when true then tag z after aa
)crm");
  CHECK(find(bad->diags, "E-option-conflict", "'once' and 'every' cannot be combined"));
  CHECK(find(bad->diags, "E-option-range", "'every' needs at least 1 day, got 0"));
  CHECK(find(bad->diags, "E-duplicate-option", "option 'priority' is given more than once"));
  CHECK(find(bad->diags, "E-option-range", "holdout must be between 0% and 100%, got 101%"));
  CHECK(find(bad->diags, "E-option-range", "'until 2026-01-01' is before 'from 2026-02-01'"));
  CHECK(find(bad->diags, "E-after-self", "rule 'b' cannot wait for itself"));
  const Diagnostic* unk = find(bad->diags, "E-unknown-rule", "unknown rule 'aa' in 'after'");
  REQUIRE(unk);
  CHECK(unk->hint == "did you mean 'a'?");
}

TEST_CASE("checker: after resolves the campaign's rule before the global one") {
  auto r = run(R"crm(rule first: when true then tag a
campaign c {
  rule first: when true then tag b
  rule second: when true then tag c after first 3 days
}
rule third: when true then tag d after c.second
)crm");
  CHECK_MESSAGE(!r->diags.has_errors(), all(r->diags));
  REQUIRE(r->prog.find_rule("c.second")->after.size() == 1);
  CHECK(r->prog.find_rule("c.second")->after[0].rule == "c.first");
  CHECK(r->prog.find_rule("c.second")->after[0].days == 3);
  CHECK(r->prog.find_rule("third")->after[0].rule == "c.second");
}

TEST_CASE("checker: limits and time zones") {
  auto r = run(R"crm(limit 0 message per 7 days
limit 1 sms per 0 days
timezone "Asia/Tokyo"
timezone "Europe/Paris"
timezone "Mars/Base"
)crm");
  CHECK(find(r->diags, "E-option-range", "a limit needs a count of at least 1, got 0"));
  CHECK(find(r->diags, "E-option-range", "a limit needs a period of at least 1 day, got 0"));
  const Diagnostic* tz = find(r->diags, "E-timezone-conflict");
  REQUIRE(tz);
  CHECK(tz->notes.size() == 1);
  CHECK(find(r->diags, "W-timezone-unknown", "'Mars/Base'"));
}

TEST_CASE("checker: graph data: definitions and tags") {
  auto r = run(R"crm(segment lapsed = has_tag("lapsed") and days_since > 90
rule a: when lapsed and "vip" not in tags then tag winback_sent, untag vip
)crm");
  CHECK_MESSAGE(!r->diags.has_errors(), all(r->diags));
  const FlatRule& a = r->prog.rules.at(0);
  CHECK(a.uses_definitions == std::vector<std::string>{"lapsed"});
  CHECK(a.reads_tags == std::vector<std::string>{"lapsed", "vip"});
  CHECK(a.writes_tags == std::vector<std::string>{"vip", "winback_sent"});
}

TEST_CASE("checker: rules that can never fire") {
  auto neg = when("purchase_count < 0");
  const Diagnostic* d = find(neg->diags, "W-never-fires");
  REQUIRE(d);
  CHECK(d->message == "rule 'r' can never fire: purchase_count is never negative");
  CHECK(at(*d) == "purchase_count < 0");
  CHECK(find(when("email_opt_in and satisfaction >= 6")->diags, "W-never-fires", "satisfaction is always between 1 and 5"));
  CHECK(find(when("days_until_birthday == 400")->diags, "W-never-fires", "days_until_birthday is always between 0 and 365"));
  CHECK(find(when("0 > subscription.months")->diags, "W-never-fires", "subscription.months is never negative"));
  CHECK(find(when("day(today) > 31")->diags, "W-never-fires", "day() is always between 1 and 31"));
  CHECK(find(when("1 > 2")->diags, "W-never-fires", "its condition is always false"));
  CHECK(find(when("null")->diags, "W-never-fires", "always null"));
  CHECK(find(when("false and email_opt_in")->diags, "W-never-fires"));
  CHECK(!find(when("email_opt_in or age < 0")->diags, "W-never-fires"));
  CHECK(!find(when("satisfaction == 5")->diags, "W-never-fires"));
  CHECK(!find(when("days_since >= 0")->diags, "W-never-fires"));
}

TEST_CASE("checker: unused definitions warn only in the files given") {
  Result r;
  r.project.write("lib/shared.crm", "let shared_spare = 1\n");
  r.project.write("main.crm", "import \"lib/shared\"\nlet spare = 2\nsegment used = age > 20\n"
                              "rule r: when used then tag t\n");
  r.prog = r.project.check({"main.crm"}, r.diags);
  CHECK(find(r.diags, "W-unused-definition", "let 'spare' is never used"));
  CHECK(!find(r.diags, "W-unused-definition", "shared_spare"));
  CHECK(!find(r.diags, "W-unused-definition", "'used'"));
}

TEST_CASE("checker: imports: relative, std, loaded once, order") {
  Result r;
  r.project.write("std/lifecycle.crm", "segment dormant = days_since > 90\n");
  r.project.write("shared/segs.crm", "import \"std/lifecycle\"\nsegment loyal = purchase_count > 5\n");
  r.project.write("campaigns/a.crm", "import \"../shared/segs\"\nimport \"std/lifecycle\"\n"
                                     "rule a: when loyal and dormant then tag t\n");
  r.project.write("campaigns/b.crm", "import \"../shared/segs.crm\"\nrule b: when loyal then tag u\n");
  // A sibling folder (../shared) is outside campaigns/: allowed with the option (from the
  // project's folder, crm allows it as the current folder's tree).
  CheckOptions outside;
  outside.allow_imports_outside = true;
  r.prog = r.project.check({"campaigns/a.crm", "campaigns/b.crm"}, r.diags, outside);
  CHECK_MESSAGE(!r.diags.has_errors(), all(r.diags));
  std::vector<std::string> stems;
  for (const auto& m : r.prog.modules) stems.push_back(m.file->stem());
  CHECK(stems == std::vector<std::string>{"lifecycle", "segs", "a", "b"});
  Diagnostics confined;
  r.project.check({"campaigns/a.crm"}, confined);
  CHECK(find(confined, "E-import-outside", "reaches outside the script's folder"));
}

TEST_CASE("checker: imports: missing files and cycles") {
  Result r;
  r.project.write("std/lifecycle.crm", "");
  r.project.write("a.crm", "import \"b\"\nimport \"nothere\"\nimport \"std/lifecycel\"\n");
  r.project.write("b.crm", "import \"a.crm\"\n");
  r.prog = r.project.check({"a.crm"}, r.diags);
  const Diagnostic* cyc = find(r.diags, "E-import-cycle");
  REQUIRE(cyc);
  CHECK(cyc->message == "import cycle: a.crm -> b.crm -> a.crm");
  CHECK(at(*cyc) == "\"a.crm\"");
  const Diagnostic* missing = find(r.diags, "E-import-not-found", "cannot find module 'nothere'");
  REQUIRE(missing);
  CHECK(at(*missing) == "\"nothere\"");
  CHECK(missing->hint.find("nothere.crm") != std::string::npos);
  const Diagnostic* std_missing = find(r.diags, "E-import-not-found", "unknown standard module 'std/lifecycel'");
  REQUIRE(std_missing);
  CHECK(std_missing->hint == "did you mean 'std/lifecycle'?");
}

TEST_CASE("checker: diagnostics are sorted by position") {
  auto r = run("rule a: when nope1 > 1 then tag t\nrule b: when nope2 > 1 then tag t\n");
  REQUIRE(r->diags.items().size() == 2);
  CHECK(r->diags.items()[0].span.begin < r->diags.items()[1].span.begin);
}

TEST_CASE("checker: mutated scripts never crash") {
  const std::string base = R"crm(import "std/lifecycle"
let aov = total_spent / purchase_count
segment vip = total_spent >= 100_000 or "vip" in tags
message thanks via email subject "Hi {name} {aov}"
campaign c when vip {
  priority 3
  holdout 5%
  rule a: on purchase when order.total > 10 and coalesce(age, 1) > 0 then send thanks, grant points order.total * 0.1 once per order.id
  journey j on signup when event.source == "ad" {
    day 0: send thanks
    day 3: tag x unless has_tag("y")
    exit when purchase_count > 0
  }
  limit 1 message per 7 days
}
rule b: when days_since - 1 > 3 and month(today) in [1, 2] then untag x after c.a 2 days every 3 days
timezone "Asia/Tokyo"
)crm";
  Project p;
  p.write("std/lifecycle.crm", "segment dormant = days_since > 90\n");
  uint64_t seed = 12345;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  const std::string alphabet = " \n()[]{}\"=<>+-*/%.,:#0123456789abcdefghijklmnopqrstuvwxyz_";
  for (int i = 0; i < 300; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rnd(4));
    for (int k = 0; k < edits && !s.empty(); ++k) {
      size_t at = rnd(s.size());
      switch (rnd(3)) {
        case 0: s.erase(at, 1 + rnd(8)); break;
        case 1: s.insert(at, 1, alphabet[rnd(alphabet.size())]); break;
        default: s[at] = alphabet[rnd(alphabet.size())];
      }
    }
    p.write("m.crm", s);
    Diagnostics d;
    auto prog = p.check({"m.crm"}, d);
    CHECK(prog.modules.size() >= 1);
  }
}

TEST_CASE("checker: an unknown 'after' rule without a close match lists the rules") {
  auto r = run("rule first: when true then tag a\nrule second: when true then tag b after zzzzzz\n");
  const Diagnostic* d = find(r->diags, "E-unknown-rule", "unknown rule 'zzzzzz' in 'after'");
  REQUIRE(d);
  CHECK(d->hint == "the rules are: first, second");
  CHECK(at(*d) == "zzzzzz");
}

TEST_CASE("checker: a file with syntax errors gets no lint warnings") {
  auto r = run("message m via email\nrule b on purchase: when true then send m\nrule c: when null then tag x\n");
  CHECK(r->diags.has_errors());
  CHECK(!find(r->diags, "W-unused-message"));
  CHECK(!find(r->diags, "W-never-fires"));
}

TEST_CASE("checker: find_* use the index, and still work after the program is changed") {
  auto r = run("let a = 1\nmessage m via email\nrule x: when a > 0 then send m\nrule x: when true then tag t\n");
  CHECK(!r->diags.has_errors());
  REQUIRE(r->prog.find_rule("x"));
  CHECK(r->prog.find_rule("x") == &r->prog.rules[0]);  // the first of duplicates
  CHECK(r->prog.find_definition("a") == r->prog.definitions[0]);
  CHECK(r->prog.find_message("m") == r->prog.messages[0]);
  CHECK(!r->prog.find_rule("nope"));
  CHECK(!r->prog.find_message("nope"));
  FlatRule extra;
  extra.name = "added";
  r->prog.rules.push_back(extra);
  CHECK(r->prog.find_rule("added") == &r->prog.rules.back());
}

TEST_CASE("checker: event payload fields (any) combine with every type") {
  CHECK(ok("event.amount + 1 > 2 and event.when - today > 0 and today - event.when > 0", "refund"));
  CHECK(ok("event.plan in [\"a\", \"b\"] and coalesce(event.n, 0) > 1 and event.flag", "refund"));
}

// Module parameters (docs/language.md): a `let`/`segment` in an importing file replaces the
// definition of the same name in a module it imports, directly or not; the type must fit.
TEST_CASE("checker: an importing file overrides a module's parameters") {
  Result r;
  r.project.write("std/shop.crm", "let shop_min = 100\nlet shop_rate = 1.5\nsegment shop_vip = total_spent >= shop_min\n"
                                  "rule r: when shop_vip then tag vip\n");
  r.project.write("mid.crm", "import \"std/shop\"\nlet shop_rate = 2\n");
  r.project.write("main.crm", "import \"mid.crm\"\nlet shop_min = 50_000\nlet shop_rate = 3\n"
                              "segment shop_vip = total_spent >= shop_min * shop_rate\n");
  r.prog = r.project.check({"main.crm"}, r.diags);
  CHECK_MESSAGE(!r.diags.has_errors(), all(r.diags));
  const Definition* min = r.prog.find_definition("shop_min");
  REQUIRE(min);
  REQUIRE(min->expr);
  CHECK(min->expr->text.find("50") != std::string::npos);
  // Every name has one definition in the program: the one closest to the root file.
  size_t count = 0;
  for (const auto* d : r.prog.definitions) count += d->name == "shop_rate";
  CHECK(count == 1);
  const Definition* vip = r.prog.find_definition("shop_vip");
  REQUIRE(vip);
  CHECK(vip->expr->kind == Expr::Kind::Binary);
  CHECK(vip->expr->args.size() == 2);
  CHECK(vip->expr->args[1]->kind == Expr::Kind::Binary);  // shop_min * shop_rate: main's version
}

TEST_CASE("checker: an override of another type is an error that points at both definitions") {
  Result r;
  r.project.write("std/shop.crm", "let shop_min = 100\nsegment shop_vip = total_spent >= shop_min\n"
                                  "rule r: when shop_vip then tag vip\n");
  r.project.write("main.crm", "import \"std/shop\"\nlet shop_min = \"many\"\nlet shop_vip = 3\n");
  r.prog = r.project.check({"main.crm"}, r.diags);
  const Diagnostic* d = find(r.diags, "E-override-type", "shop_min");
  REQUIRE(d);
  CHECK(d->message == "'shop_min' overrides a definition of type int with one of type string");
  CHECK(d->hint == "the imported module uses 'shop_min' as int: keep that type");
  CHECK(at(*d) == "\"many\"");
  REQUIRE(d->notes.size() == 1);
  CHECK(d->notes[0].message == "overridden definition here");
  CHECK(d->notes[0].file->stem() == "shop");
  CHECK(find(r.diags, "E-override-type", "'shop_vip' overrides a definition of type bool with one of type int"));
}

TEST_CASE("checker: duplicates that are not overrides stay errors") {
  Result r;
  r.project.write("a.crm", "let twice = 1\n");
  r.project.write("b.crm", "let twice = 2\n");
  r.project.write("main.crm", "import \"a.crm\"\nimport \"b.crm\"\nlet dup = 1\nlet dup = 2\n");
  r.prog = r.project.check({"main.crm"}, r.diags);
  // Two modules, neither importing the other.
  CHECK(find(r.diags, "E-duplicate-definition", "'twice' is defined more than once"));
  // Twice in one file.
  CHECK(find(r.diags, "E-duplicate-definition", "'dup' is defined more than once"));
  CHECK(!find(r.diags, "E-override-type"));
}

TEST_CASE("checker: an imported module cannot override its importer") {
  // Two files given on the command line: main.crm does not import other.crm, nor the reverse.
  Result r;
  r.project.write("std/shop.crm", "let shop_min = 100\n");
  r.project.write("main.crm", "import \"std/shop\"\nlet shop_min = 1\n");
  r.project.write("other.crm", "import \"std/shop\"\nlet shop_min = 2\n");
  r.prog = r.project.check({"main.crm", "other.crm"}, r.diags);
  CHECK(find(r.diags, "E-duplicate-definition", "'shop_min' is defined more than once"));
}

TEST_CASE("checker: an int may override a decimal, null anything") {
  Result r;
  r.project.write("std/shop.crm", "let rate = 1.5\nlet since = 2026-01-01\nrule r: when rate > 1 and since < today then tag t\n");
  r.project.write("main.crm", "import \"std/shop\"\nlet rate = 2\nlet since = null\n");
  r.prog = r.project.check({"main.crm"}, r.diags);
  CHECK_MESSAGE(!r.diags.has_errors(), all(r.diags));
}
