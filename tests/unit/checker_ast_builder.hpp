// Test helper: builds small ASTs by hand, to test the checker through `check()` (the embedding
// path) independently of the parser.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lang/ast.hpp"

namespace crm::lang::test {

// Every node gets a distinct fake span so that diagnostics can be told apart.
inline Span fake_span() {
  static uint32_t next = 0;
  next += 2;
  return {next, next + 1};
}

inline ExprPtr node(Expr::Kind k) {
  auto e = std::make_unique<Expr>();
  e->kind = k;
  e->span = fake_span();
  return e;
}
inline ExprPtr int_(int64_t v) {
  auto e = node(Expr::Kind::Int);
  e->ival = v;
  return e;
}
inline ExprPtr dec(double v) {
  auto e = node(Expr::Kind::Decimal);
  e->dval = v;
  return e;
}
inline ExprPtr str(std::string s) {
  auto e = node(Expr::Kind::String);
  e->text = std::move(s);
  return e;
}
inline ExprPtr boolean(bool b) {
  auto e = node(Expr::Kind::Bool);
  e->ival = b;
  return e;
}
inline ExprPtr null_() { return node(Expr::Kind::Null); }
inline ExprPtr date(int32_t days) {
  auto e = node(Expr::Kind::Date);
  e->ival = days;
  return e;
}
inline ExprPtr name(std::string n) {
  auto e = node(Expr::Kind::Name);
  e->text = std::move(n);
  return e;
}
template <class... A>
ExprPtr call(std::string f, A&&... args) {
  auto e = node(Expr::Kind::Call);
  e->text = std::move(f);
  (e->args.push_back(std::forward<A>(args)), ...);
  return e;
}
template <class... A>
ExprPtr list(A&&... args) {
  auto e = node(Expr::Kind::List);
  (e->args.push_back(std::forward<A>(args)), ...);
  return e;
}
inline ExprPtr bin(BinOp op, ExprPtr a, ExprPtr b) {
  auto e = node(Expr::Kind::Binary);
  e->bop = op;
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}
inline ExprPtr un(UnOp op, ExprPtr a) {
  auto e = node(Expr::Kind::Unary);
  e->uop = op;
  e->args.push_back(std::move(a));
  return e;
}
inline ExprPtr is_null(ExprPtr a, bool negated = false) {
  auto e = node(Expr::Kind::IsNull);
  e->negated = negated;
  e->args.push_back(std::move(a));
  return e;
}

inline Action send(std::string msg) {
  Action a;
  a.kind = ActionKind::Send;
  a.span = fake_span();
  a.name = std::move(msg);
  a.name_span = fake_span();
  return a;
}
inline Action tag(std::string t, ActionKind k = ActionKind::Tag) {
  Action a;
  a.kind = k;
  a.span = fake_span();
  a.name = std::move(t);
  a.name_span = fake_span();
  return a;
}
template <class... A>
std::vector<Action> acts(A&&... a) {
  std::vector<Action> v;
  (v.push_back(std::forward<A>(a)), ...);
  return v;
}
inline Option opt(OptionKind k, int64_t n = -1) {
  Option o;
  o.kind = k;
  o.span = fake_span();
  o.n = n;
  return o;
}

inline Item rule(std::string nm, ExprPtr when, std::vector<Action> actions, std::vector<Option> options = {},
                 std::string event = "") {
  Rule r;
  r.span = fake_span();
  r.name = std::move(nm);
  r.name_span = fake_span();
  r.event = std::move(event);
  r.when = std::move(when);
  r.actions = std::move(actions);
  r.options = std::move(options);
  return Item{std::move(r)};
}
inline Item let(std::string nm, ExprPtr e, bool segment = false) {
  Definition d;
  d.segment = segment;
  d.span = fake_span();
  d.name = std::move(nm);
  d.name_span = fake_span();
  d.expr = std::move(e);
  return Item{std::move(d)};
}
inline Item message(std::string nm, std::optional<Channel> ch = Channel::Email) {
  Message m;
  m.span = fake_span();
  m.name = std::move(nm);
  m.name_span = fake_span();
  m.channel = ch;
  return Item{std::move(m)};
}

inline Item campaign(std::string nm, ExprPtr when, std::vector<Item> items) {
  Campaign c;
  c.span = fake_span();
  c.name = std::move(nm);
  c.name_span = fake_span();
  c.when = std::move(when);
  c.items = std::move(items);
  return Item{std::move(c)};
}
inline JourneyStep step(int64_t day, std::vector<Action> actions, ExprPtr unless = nullptr) {
  JourneyStep s;
  s.span = fake_span();
  s.day = day;
  s.actions = std::move(actions);
  s.unless = std::move(unless);
  return s;
}
inline Item journey(std::string nm, std::string event, ExprPtr when, std::vector<JourneyStep> steps,
                    ExprPtr exit_when = nullptr, std::vector<Option> options = {}) {
  Journey j;
  j.span = fake_span();
  j.name = std::move(nm);
  j.name_span = fake_span();
  j.event = std::move(event);
  j.event_span = fake_span();
  j.when = std::move(when);
  j.steps = std::move(steps);
  j.exit_when = std::move(exit_when);
  j.options = std::move(options);
  return Item{std::move(j)};
}
inline Item import_(std::string path) {
  Import i;
  i.span = fake_span();
  i.path = std::move(path);
  i.path_span = fake_span();
  return Item{std::move(i)};
}
inline Item limit(int64_t count, int64_t days, std::optional<Channel> ch = std::nullopt) {
  Limit l;
  l.span = fake_span();
  l.count = count;
  l.days = days;
  l.channel = ch;
  return Item{std::move(l)};
}
inline Item timezone_(std::string nm) {
  Timezone t;
  t.span = fake_span();
  t.name = std::move(nm);
  return Item{std::move(t)};
}
template <class T>
std::vector<T> vec() { return {}; }
template <class T, class... A>
std::vector<T> vec(T first, A... rest) {
  std::vector<T> v;
  v.push_back(std::move(first));
  (v.push_back(std::move(rest)), ...);
  return v;
}

inline Module module(std::string path, std::string text = std::string(200, ' ')) {
  Module m;
  m.file = std::make_shared<SourceFile>(std::move(path), std::move(text));
  return m;
}

}  // namespace crm::lang::test
