// Internals of the parser (parser.cpp; parse_expr.cpp for literals and expressions,
// test_blocks.cpp for `test` blocks): the PEGTL control that turns must<> failures into
// SyntaxError, the parse-tree selector, and the Parser class that converts one declaration's
// tree at a time to the AST. Not part of lang's interface.
#pragma once
#include <tao/pegtl/contrib/parse_tree.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "lang/ast.hpp"
#include "lang/date.hpp"
#include "lang/diagnostic.hpp"
#include "lang/grammar.hpp"
#include "lang/grammar_errors.hpp"
#include "lang/parser.hpp"
#include "lang/source.hpp"

namespace crm::lang::parser_detail {

namespace g = grammar;
namespace pt = tao::pegtl::parse_tree;
using Node = pt::node;

// ---------------------------------------------------------------- PEGTL control

// Thrown by the control at a must<> failure, or when nesting passes kMaxNestingDepth.
struct SyntaxError {
  const char* at;
  const g::ErrorText* text;
};
struct TooDeep {
  const char* at;
};

struct ParseState {
  int depth = 0;
};

// Rules that nest (recursion through an expression) are counted against kMaxNestingDepth.
template <typename Rule>
inline constexpr bool kNests = std::is_same_v<Rule, g::paren_expr> || std::is_same_v<Rule, g::list_lit> ||
                               std::is_same_v<Rule, g::negation> || std::is_same_v<Rule, g::negative> ||
                               std::is_same_v<Rule, g::call>;

template <typename Rule>
struct control : tao::pegtl::normal<Rule> {
  template <typename Input>
  static void start(const Input& in, ParseState& ps) {
    if constexpr (kNests<Rule>) {
      if (ps.depth >= kMaxNestingDepth) throw TooDeep{in.current()};
      ++ps.depth;
    }
  }
  template <typename Input>
  static void success(const Input&, ParseState& ps) {
    if constexpr (kNests<Rule>) --ps.depth;
  }
  template <typename Input>
  static void failure(const Input&, ParseState& ps) {
    if constexpr (kNests<Rule>) --ps.depth;
  }
  template <typename Input>
  static void unwind(const Input&, ParseState& ps) {
    if constexpr (kNests<Rule>) --ps.depth;
  }
  template <typename Input, typename... States>
  [[noreturn]] static void raise(const Input& in, States&&...) {
    throw SyntaxError{in.current(), &g::error_message<Rule>};
  }
};

template <typename Rule>
using selector = pt::selector<
    Rule,
    pt::store_content::on<g::date_lit, g::number, g::int_lit, g::signed_int, g::string_lit, g::true_lit, g::false_lit,
                          g::null_lit, g::list_lit, g::paren_expr, g::call, g::func_name, g::dotted_name, g::negative,
                          g::negation, g::op_mul, g::op_div, g::op_mod, g::op_add, g::op_sub, g::op_eq, g::op_ne,
                          g::op_le, g::op_lt, g::op_ge, g::op_gt, g::op_in, g::op_not_in, g::op_or, g::op_and,
                          g::is_null, g::is_not, g::channel, g::all_messages, g::send_target, g::coupon_name,
                          g::offer_name, g::tag_name, g::untag_name, g::def_name, g::event, g::rule_name,
                          g::journey_name, g::campaign_name, g::campaign_open, g::journey_open, g::send_action,
                          g::coupon_grant, g::points_grant, g::offer_action, g::tag_action, g::untag_action, g::once_opt,
                          g::every_opt, g::priority_opt, g::after_opt, g::from_opt, g::until_opt, g::holdout_opt,
                          g::import_decl, g::let_decl, g::segment_decl, g::message_decl, g::via_clause,
                          g::subject_clause, g::cost_clause, g::transactional_flag, g::rule_decl, g::unnamed_rule,
                          g::journey_decl, g::journey_step, g::step_unless, g::exit_when, g::limit_decl,
                          g::timezone_decl, g::campaign_head, g::test_decl, g::customer_decl, g::order_fact,
                          g::order_total, g::order_status, g::order_id, g::subscription_fact, g::sub_status,
                          g::sub_cycles, g::sub_cancelled, g::sub_reason, g::sub_product, g::survey_fact,
                          g::referral_fact, g::tag_fact, g::event_fact, g::event_type, g::event_field, g::field_name,
                          g::column_fact, g::column_name, g::status_value, g::test_on, g::test_range, g::expect_decl,
                          g::expect_no, g::no_actions, g::expect_send, g::expect_coupon, g::expect_points,
                          g::expect_offer, g::expect_tag, g::expect_untag, g::q_to, g::q_via, g::q_on, g::q_rule,
                          g::q_status, g::q_times, g::q_subject, g::order_items>,
    pt::fold_one::on<g::or_expr, g::and_expr, g::cmp_expr, g::add_expr, g::mul_expr>>;

// ---------------------------------------------------------------- the parser

class Parser {
 public:
  Parser(SourcePtr file, Diagnostics& diags) : file_(std::move(file)), text_(file_->text()), diags_(diags) {}
  bool prepare(size_t& pos);

  Module parse_module();
  ExprPtr parse_expr();

 private:
  // Bounds the E-bad-utf8 errors of one file (a binary file would otherwise give one per byte).
  static constexpr size_t kMaxUtf8Errors = 10;

  template <typename Rule>
  std::unique_ptr<Node> run(size_t& pos) {
    tao::pegtl::memory_input<tao::pegtl::tracking_mode::eager, tao::pegtl::eol::lf_crlf, const char*> in(
        text_.data() + pos, text_.data() + text_.size(), "");
    ParseState ps;
    auto root = pt::parse<Rule, selector, tao::pegtl::nothing, control>(in, ps);
    pos = static_cast<size_t>(in.current() - text_.data());
    return root;
  }

  uint32_t offset(const char* p) const { return static_cast<uint32_t>(p - text_.data()); }
  uint32_t begin(const Node& n) const { return offset(n.m_begin.data); }
  Span span(const Node& n) const { return {begin(n), offset(n.m_end.data)}; }
  // The span of the identifier (or dotted name) at the start of a node whose content may
  // carry trailing space.
  Span word_span(const Node& n) const;
  std::string word(const Node& n) const;

  // ------------------------------------------------------------ campaigns
  void parse_campaign(const Node& head, size_t start, size_t& pos, std::vector<Item>& out);

  // ------------------------------------------------------------ errors and recovery
  void report(const SyntaxError& e, size_t item_start, const std::string& item_desc);

  void report_too_deep(uint32_t at);
  void note_unparsed(size_t item_start);

  size_t recover(uint32_t error_at, size_t item_start, bool in_campaign) const;

  // ------------------------------------------------------------ items
  static bool is_action(const Node& n);
  static bool is_option(const Node& n);
  static bool is_expr(const Node& n);
  uint32_t last_end(const Node& n, uint32_t fallback) const;

  void convert_item(const Node& n, std::vector<Item>& out, bool in_campaign);
  Message message(const Node& n, Span sp);

  Journey journey(const Node& n, Span sp);

  // ------------------------------------------------------------ tests (docs/testing.md)
  Test test(const Node& n, Span sp);

  // The children's literals of a clause node: the first child, or null.
  const Node* first_child(const Node& n) const { return n.children.empty() ? nullptr : n.children.front().get(); }
  int32_t child_date(const Node& n);

  // Checks a status word against the values the store knows; reports a did-you-mean.
  std::string status_word(const Node& n, const std::vector<std::string>& allowed, const char* what);
  TestFact test_fact(const Node& n);

  TestExpect test_expect(const Node& n, Span sp);
  Action action(const Node& n);

  // `grant coupon x`: the selected node starts at 'coupon'; the action's span starts at 'grant'.
  uint32_t grant_start(uint32_t at) const;
  Option option(const Node& n);

  std::optional<Channel> channel(const Node& n, bool in_limit);

  // ------------------------------------------------------------ literals
  int64_t int_value(const Node& n);

  int64_t signed_value(const Node& n);
  double decimal_value(const Node& n);

  Days date_value(const Node& n);
  std::string decode_string(const Node& n);

  // ------------------------------------------------------------ expressions
  ExprPtr make(Expr::Kind k, Span sp);

  ExprPtr expr(const Node& n);

  // Builds an Expr; `depth` receives its height, bounded by kMaxNestingDepth (long operator chains
  // would otherwise make a left-deep tree that overflows the stack of later recursive passes).
  ExprPtr expr(const Node& n, int& depth);
  ExprPtr check_depth(ExprPtr e, int depth);

  static BinOp binop(const Node& n);
  SourcePtr file_;
  const std::string& text_;
  Diagnostics& diags_;
  std::unordered_set<uint32_t> bad_utf8_;
  bool too_deep_reported_ = false;
  std::vector<std::string> unparsed_;  // let/segment declarations that failed to parse
};

}  // namespace crm::lang::parser_detail
