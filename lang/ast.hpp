// The abstract syntax tree of a .crm module (SPEC §2-3), with byte-offset spans.
// Produced by parser.cpp, annotated with types by checker.cpp, printed by formatter.cpp.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lang/source.hpp"
#include "lang/types.hpp"

namespace crm::lang {

// ---------------------------------------------------------------- expressions

enum class UnOp : uint8_t { Not, Neg };
enum class BinOp : uint8_t { Or, And, Eq, Ne, Lt, Le, Gt, Ge, In, NotIn, Add, Sub, Mul, Div, Mod };

const char* op_text(BinOp op);  // "or", "==", "not in", ...
const char* op_text(UnOp op);   // "not", "-"

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One flat node type; `kind` says which fields are meaningful.
struct Expr {
  enum class Kind : uint8_t {
    Int,      // ival; `text` keeps the spelling ("100_000")
    Decimal,  // dval; `text` keeps the spelling ("4.50")
    String,   // text = the decoded value (escapes resolved)
    Bool,     // ival = 0 or 1
    Null,
    Date,     // ival = days since 1970-01-01
    List,     // args = elements
    Name,     // text = dotted path: "purchase_count", "subscription.months", "event.reason"
    Call,     // text = function name, args = arguments; `today` without parens is a Call with no args
    Unary,    // uop, args[0]
    Binary,   // bop, args[0], args[1]
    IsNull,   // args[0]; negated = `is not null`
  };
  Kind kind = Kind::Null;
  Span span;
  int64_t ival = 0;
  double dval = 0;
  std::string text;
  std::vector<ExprPtr> args;
  UnOp uop = UnOp::Not;
  BinOp bop = BinOp::Or;
  bool negated = false;
  bool parenthesized = false;  // written inside ( ); the formatter keeps needed parentheses only

  Type type;  // set by the checker

  ExprPtr clone() const;
};

// Structural equality ignoring spans, spelling and types (for "fmt output parses to the same AST").
bool same_expr(const Expr* a, const Expr* b);

// ---------------------------------------------------------------- actions and options

enum class Channel : uint8_t { Email, Line, Sms, Push, Dm };
constexpr int kChannelCount = 5;
const char* channel_name(Channel c);                    // "email", "line", ...
std::optional<Channel> channel_from_name(std::string_view s);

enum class ActionKind : uint8_t { Send, Coupon, Points, Offer, Tag, Untag };
const char* action_name(ActionKind k);  // JSON `action`: "send", "coupon", "points", "offer", "tag", "untag"

struct Action {
  ActionKind kind = ActionKind::Send;
  Span span;
  std::string name;  // message, coupon, offer or tag name (empty for points)
  Span name_span;
  std::optional<Channel> channel;  // `send X via CHANNEL`
  Span channel_span;
  ExprPtr points;  // `grant points EXPR`
};

enum class OptionKind : uint8_t {
  Once,      // once
  OncePer,   // once per EXPR         (expr)
  Every,     // every N days          (n)
  Priority,  // priority N            (n, may be negative)
  After,     // after RULE [N days]   (name, n = days or -1)
  From,      // from DATE             (date)
  Until,     // until DATE            (date)
  Holdout,   // holdout N%            (pct, 0..100; `text` keeps the spelling)
};
const char* option_name(OptionKind k);

struct Option {
  OptionKind kind = OptionKind::Once;
  Span span;
  ExprPtr expr;
  int64_t n = -1;
  double pct = 0;
  std::string text;  // holdout spelling
  std::string name;  // after: rule name as written (may be qualified "campaign.rule")
  Span name_span;
  int32_t date = 0;  // from / until, days since epoch
};

// ---------------------------------------------------------------- declarations

struct Import {
  Span span;
  std::string path;  // as written: "std/lifecycle" or "../shared/segments.crm"
  Span path_span;
};

struct Definition {  // let NAME = EXPR  |  segment NAME = EXPR
  bool segment = false;
  Span span;
  std::string name;
  Span name_span;
  ExprPtr expr;
};

struct Message {  // message NAME [via CHANNEL] [subject STRING] [cost NUMBER] [transactional]
  Span span;
  std::string name;
  Span name_span;
  std::optional<Channel> channel;
  std::optional<std::string> subject;  // decoded text with {attr} placeholders
  Span subject_span;
  std::optional<double> cost;
  std::string cost_text;  // spelling of the cost
  bool transactional = false;
};

struct Rule {  // rule [NAME:] [on EVENT] when EXPR then ACTION {, ACTION} {OPTION}
  Span span;
  std::string name;  // as written; empty for an unnamed rule
  Span name_span;
  std::string event;  // empty, or "purchase", "first_purchase", "signup", ... (any events.type)
  Span event_span;
  ExprPtr when;
  std::vector<Action> actions;
  std::vector<Option> options;
  // Filled by the checker: "name", "campaign.name" or "<stem>:<line>".
  std::string qualified;
};

struct JourneyStep {  // day N: ACTION {, ACTION} [unless EXPR]
  Span span;
  int64_t day = 0;
  std::vector<Action> actions;
  ExprPtr unless;
};

struct Journey {  // journey NAME on EVENT [when EXPR] { steps... [exit when EXPR] } {OPTION}
  Span span;
  std::string name;
  Span name_span;
  std::string event;
  Span event_span;
  ExprPtr when;
  std::vector<JourneyStep> steps;
  ExprPtr exit_when;
  std::vector<Option> options;  // written inside the braces after the steps: priority, holdout, ...
  std::string qualified;        // filled by the checker
};

struct Limit {  // limit N message per M days | limit N CHANNEL per M days
  Span span;
  int64_t count = 0;
  std::optional<Channel> channel;  // nullopt = all messages
  int64_t days = 0;
};

struct Timezone {  // timezone "Asia/Tokyo"
  Span span;
  std::string name;
};

struct Campaign;
struct Item;

struct Campaign {  // campaign NAME [when EXPR] { items }
  Span span;
  std::string name;
  Span name_span;
  ExprPtr when;
  std::vector<Item> items;  // Rule, Journey, Option (defaults), Limit, Timezone, Definition, Message
};

// ---------------------------------------------------------------- tests (docs/testing.md)

// One fact of a fixture customer.
struct TestFact {
  enum class Kind : uint8_t { Column, Order, Subscription, Survey, Referral, Tag, Event };
  Kind kind = Kind::Column;
  Span span;
  std::string name;  // Column: the column; Tag: the tag; Event: the event type
  Span name_span;
  ExprPtr value;     // Column: the literal (Int, Decimal, String, Bool or Date)
  std::optional<int32_t> date;  // the fact's day (Tag: optional)
  // order: total, status, items, id;  subscription: status, cycles, cancelled, reason, product
  ExprPtr total;       // a number literal
  std::string status;  // "" = the default
  Span status_span;
  std::vector<std::string> items;  // SKUs
  std::optional<int64_t> id;
  std::optional<int64_t> cycles;
  std::optional<int32_t> cancelled;
  std::optional<std::string> reason, product;
  int64_t satisfaction = 0;  // survey
  int64_t referee = 0;       // referral: the customer referred
  Span referee_span;
  std::vector<std::pair<std::string, ExprPtr>> fields;  // event payload
};

struct TestCustomer {  // customer ID { FACT... }
  Span span;
  int64_t id = 0;
  Span id_span;
  std::vector<TestFact> facts;
};

struct TestDates {  // on DATE | from DATE to DATE
  Span span;
  bool range = false;
  int32_t from = 0, to = 0;  // `on D`: from == to == D
};

// expect [no] ACTION TARGET [to ID] [via CHANNEL] [on DATE] [rule NAME] [STATUS] [times N]
// expect no actions [to ID] [on DATE]
struct TestExpect {
  Span span;
  bool absent = false;      // expect no ...
  bool no_actions = false;  // expect no actions
  ActionKind action = ActionKind::Send;
  std::string target;  // message, coupon, offer or tag name; points: the number as written
  Span target_span;
  double points = 0;
  std::optional<int64_t> to;
  Span to_span;
  std::optional<Channel> via;
  std::optional<int32_t> on;
  std::string rule;  // "" = any
  Span rule_span;
  std::string status;  // "" = written without one (matches "sent")
  std::optional<int64_t> times;
  Span times_span;
  std::optional<std::string> subject;  // a send's rendered subject, exactly
};

struct Test {  // test "NAME" { customers, dates, expectations in any order }
  Span span;
  std::string name;
  Span name_span;
  std::vector<TestCustomer> customers;
  std::vector<TestDates> dates;  // exactly one is valid (the checker says so)
  std::vector<TestExpect> expects;
};

struct Item {
  std::variant<Import, Definition, Message, Rule, Journey, Campaign, Option, Limit, Timezone, Test> node;
};

struct Comment {
  Span span;         // covers the '#' to the end of the line (newline excluded)
  std::string text;  // including the leading '#'
};

struct Module {
  SourcePtr file;
  std::vector<Item> items;
  std::vector<Comment> comments;  // in source order
  // Names of `let`/`segment` declarations that failed to parse: their error is reported once,
  // and the checker does not add "unknown attribute" errors for their uses.
  std::vector<std::string> unparsed_definitions;
};

// Structural equality of two modules (ignoring spans, comments and literal spelling).
bool same_module(const Module& a, const Module& b);

}  // namespace crm::lang
