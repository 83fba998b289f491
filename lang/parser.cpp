// The parser: runs grammar.hpp with PEGTL's parse_tree one declaration at a time, converts each
// tree to the AST of ast.hpp, and turns must<> failures into Diagnostics, recovering at the next
// declaration so that several errors are reported in one pass.
#include "lang/parser.hpp"

#include <tao/pegtl/contrib/parse_tree.hpp>

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <unordered_set>

#include "lang/date.hpp"
#include "lang/diagnostic_codes.hpp"
#include "lang/grammar.hpp"
#include "lang/grammar_errors.hpp"
#include "lang/parser_support.hpp"

namespace crm::lang {
namespace {

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
                          g::q_status, g::q_times, g::order_items>,
    pt::fold_one::on<g::or_expr, g::and_expr, g::cmp_expr, g::add_expr, g::mul_expr>>;

// ---------------------------------------------------------------- the parser

class Parser {
 public:
  Parser(SourcePtr file, Diagnostics& diags) : file_(std::move(file)), text_(file_->text()), diags_(diags) {}

  bool prepare(size_t& pos) {
    if (text_.size() > kMaxSourceBytes) {
      diags_.error(file_, {0, 0}, code::too_large,
                   fmt::format("source is too large ({} bytes; the limit is {} bytes)", text_.size(), kMaxSourceBytes));
      return false;
    }
    pos = has_bom(text_) ? 3 : 0;
    for (uint32_t bad : invalid_utf8_offsets(text_, pos, kMaxUtf8Errors)) {
      bad_utf8_.insert(bad);
      diags_.error(file_, {bad, bad + 1}, code::bad_utf8,
                   "invalid UTF-8 byte " + hex_byte(static_cast<unsigned char>(text_[bad])), "the source must be UTF-8");
    }
    return true;
  }

  Module parse_module() {
    Module mod;
    mod.file = file_;
    size_t pos = 0;
    if (!prepare(pos)) return mod;
    mod.comments = collect_comments(text_, pos);
    pos = skip_space(text_, pos);
    while (pos < text_.size()) {
      size_t start = pos;
      try {
        auto root = run<g::top_item>(pos);
        const Node& n = *root->children.at(0);
        if (n.is_type<g::campaign_head>())
          parse_campaign(n, start, pos, mod.items);
        else
          convert_item(n, mod.items, false);
      } catch (const SyntaxError& e) {
        report(e, start, describe_item(text_, start));
        note_unparsed(start);
        pos = recover(offset(e.at), start, false);
      } catch (const TooDeep& e) {
        report_too_deep(offset(e.at));
        note_unparsed(start);
        pos = recover(offset(e.at), start, false);
      }
      pos = skip_space(text_, pos);
    }
    mod.unparsed_definitions = std::move(unparsed_);
    return mod;
  }

  ExprPtr parse_expr() {
    size_t pos = 0;
    if (!prepare(pos)) return nullptr;
    try {
      auto root = run<g::expression_only>(pos);
      if (!root || root->children.empty()) return nullptr;
      return expr(*root->children.front());
    } catch (const SyntaxError& e) {
      report(e, pos, "the expression");
    } catch (const TooDeep& e) {
      report_too_deep(offset(e.at));
    }
    return nullptr;
  }

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
  Span word_span(const Node& n) const {
    uint32_t b = begin(n), e = b;
    while (e < text_.size() && (is_ident_char(text_[e]) || text_[e] == '.')) ++e;
    return {b, e};
  }
  std::string word(const Node& n) const {
    Span s = word_span(n);
    return text_.substr(s.begin, s.end - s.begin);
  }

  // ------------------------------------------------------------ campaigns

  void parse_campaign(const Node& head, size_t start, size_t& pos, std::vector<Item>& out) {
    Campaign c;
    Span brace{};
    for (const auto& ch : head.children) {
      if (ch->is_type<g::campaign_name>()) {
        c.name = word(*ch);
        c.name_span = word_span(*ch);
      } else if (ch->is_type<g::campaign_open>()) {
        brace = {begin(*ch), begin(*ch) + 1};
      } else if (is_expr(*ch)) {
        c.when = expr(*ch);
      }
    }
    std::string desc = "campaign '" + c.name + "'";
    for (;;) {
      pos = skip_space(text_, pos);
      if (pos >= text_.size()) {
        uint32_t at = end_of_last_token(text_, static_cast<uint32_t>(pos));
        auto& d = diags_.error(file_, {at, at}, code::syntax, "expected '}' to close " + desc);
        d.notes.push_back({file_, brace, desc + " opened here"});
        break;
      }
      if (text_[pos] == '}') {
        ++pos;
        break;
      }
      size_t member = pos;
      try {
        auto root = run<g::campaign_item>(pos);
        convert_item(*root->children.at(0), c.items, true);
      } catch (const SyntaxError& e) {
        report(e, member, e.text == &g::error_message<g::campaign_member> ? desc : describe_item(text_, member));
        note_unparsed(member);
        pos = recover(offset(e.at), member, true);
      } catch (const TooDeep& e) {
        report_too_deep(offset(e.at));
        note_unparsed(member);
        pos = recover(offset(e.at), member, true);
      }
    }
    c.span = {static_cast<uint32_t>(start), static_cast<uint32_t>(pos)};
    out.push_back(Item{std::move(c)});
  }

  // ------------------------------------------------------------ errors and recovery

  void report(const SyntaxError& e, size_t item_start, const std::string& item_desc) {
    uint32_t at = offset(e.at);
    if (at >= text_.size()) at = end_of_last_token(text_, at);
    if (bad_utf8_.count(at)) return;  // already reported as E-bad-utf8
    const g::ErrorText& t = *e.text;
    Token tok = token_at(text_, offset(e.at));
    std::string code = t.code, message = t.message, hint = t.hint;
    bool operand_error = message.rfind("expected an expression", 0) == 0 || message.rfind("expected a condition", 0) == 0;
    if (tok.is_keyword && (t.wants_name || (operand_error && !tok.starts_expression))) {
      if (t.wants_name) {
        code = code::keyword_as_name;
        message = "'" + tok.text + "' is a keyword and cannot be used as a name";
      } else {
        hint = "'" + tok.text + "' is a keyword and cannot be used as a name";
      }
    }
    if (e.text == &g::error_message<g::rule_end> && tok.is_keyword &&
        (tok.text == "send" || tok.text == "grant" || tok.text == "offer" || tok.text == "tag" || tok.text == "untag")) {
      message = "expected ',' before another action in {item}";
      hint = "write 'then send a, send b'";
    }
    if (e.text == &g::error_message<g::string_close> && tok.kind == Token::Control) {
      message = "control character in string";
      hint = "use an escape such as \\n or \\t";
    }
    replace_all(message, "{item}", item_desc);
    replace_all(message, "{tok}", tok.describe());
    replace_all(message, "{kw}", token_at(text_, static_cast<uint32_t>(item_start)).text);
    if (std::string h = token_hint(tok); !h.empty()) hint = h;
    else if (tok.kind == Token::Word && !tok.is_keyword && t.message != nullptr &&
             std::string_view(t.message).find("{tok}") != std::string_view::npos) {
      std::string m = closest_match(tok.text, keyword_list());
      if (!m.empty() && m != tok.text) hint = "did you mean '" + m + "'?";
    }
    Span sp{at, at + std::max<uint32_t>(1, std::min<uint32_t>(tok.length, static_cast<uint32_t>(text_.size() - at)))};
    if (at >= text_.size()) sp = {at, at};
    // "expected X" when X is missing at the end of a line: point just after the last token, not at
    // the start of the next line (messages that name the token found keep pointing at it).
    std::string_view tm(t.message);
    bool says_expected = tm.rfind("expected", 0) == 0 || tm.rfind("unclosed", 0) == 0 || tm.rfind("unterminated", 0) == 0;
    if (code != code::keyword_as_name && says_expected && tm.find("{tok}") == std::string_view::npos &&
        at < text_.size()) {
      uint32_t prev = end_of_last_token(text_, at);
      if (prev < at && text_.find('\n', prev) < at) sp = {prev, prev};
    }
    auto& d = diags_.error(file_, sp, code, message, hint);
    // Point at the unclosed opener.
    auto opener = [&](char open, const char* what) {
      if (auto o = find_unclosed(text_, item_start, offset(e.at), open))
        d.notes.push_back({file_, {*o, *o + 1}, what});
    };
    if (e.text == &g::error_message<g::paren_close> || e.text == &g::error_message<g::call_close>)
      opener('(', "'(' opened here");
    else if (e.text == &g::error_message<g::list_close>)
      opener('[', "'[' opened here");
    else if (e.text == &g::error_message<g::journey_close>)
      opener('{', (item_desc + " opened here").c_str());
    else if (e.text == &g::error_message<g::string_close>)
      opener('"', "the string starts here");
  }

  void report_too_deep(uint32_t at) {
    diags_.error(file_, {at, at + 1}, code::too_deep,
                 "expression nested too deeply (more than " + std::to_string(kMaxNestingDepth) + " levels)",
                 "split it into smaller parts with 'let'");
  }

  void note_unparsed(size_t item_start) {
    std::string name = definition_name_at(text_, item_start);
    if (!name.empty()) unparsed_.push_back(std::move(name));
  }

  size_t recover(uint32_t error_at, size_t item_start, bool in_campaign) const {
    return recover_position(text_, item_start, error_at, in_campaign);
  }

  // ------------------------------------------------------------ items

  static bool is_action(const Node& n) {
    return n.is_type<g::send_action>() || n.is_type<g::coupon_grant>() || n.is_type<g::points_grant>() ||
           n.is_type<g::offer_action>() || n.is_type<g::tag_action>() || n.is_type<g::untag_action>();
  }
  static bool is_option(const Node& n) {
    return n.is_type<g::once_opt>() || n.is_type<g::every_opt>() || n.is_type<g::priority_opt>() ||
           n.is_type<g::after_opt>() || n.is_type<g::from_opt>() || n.is_type<g::until_opt>() ||
           n.is_type<g::holdout_opt>();
  }
  static bool is_expr(const Node& n) {
    return n.is_type<g::date_lit>() || n.is_type<g::number>() || n.is_type<g::string_lit>() ||
           n.is_type<g::true_lit>() || n.is_type<g::false_lit>() || n.is_type<g::null_lit>() ||
           n.is_type<g::list_lit>() || n.is_type<g::paren_expr>() || n.is_type<g::call>() ||
           n.is_type<g::dotted_name>() || n.is_type<g::negative>() || n.is_type<g::negation>() ||
           n.is_type<g::mul_expr>() || n.is_type<g::add_expr>() || n.is_type<g::cmp_expr>() ||
           n.is_type<g::and_expr>() || n.is_type<g::or_expr>();
  }

  uint32_t last_end(const Node& n, uint32_t fallback) const {
    // The end of a declaration: the end of its last token, without trailing space.
    return end_of_last_token(text_, std::max(fallback, offset(n.m_end.data)));
  }

  void convert_item(const Node& n, std::vector<Item>& out, bool in_campaign) {
    Span sp{begin(n), last_end(n, begin(n))};
    if (n.is_type<g::import_decl>()) {
      Import im;
      im.span = sp;
      if (!n.children.empty()) {
        im.path = decode_string(*n.children[0]);
        im.path_span = span(*n.children[0]);
      }
      if (in_campaign) {
        diags_.error(file_, sp, code::syntax, "'import' is only allowed at the top level of a file");
        return;
      }
      out.push_back(Item{std::move(im)});
    } else if (n.is_type<g::let_decl>() || n.is_type<g::segment_decl>()) {
      Definition d;
      d.segment = n.is_type<g::segment_decl>();
      d.span = sp;
      for (const auto& ch : n.children) {
        if (ch->is_type<g::def_name>()) {
          d.name = word(*ch);
          d.name_span = word_span(*ch);
        } else if (is_expr(*ch)) {
          d.expr = expr(*ch);
        }
      }
      out.push_back(Item{std::move(d)});
    } else if (n.is_type<g::message_decl>()) {
      out.push_back(Item{message(n, sp)});
    } else if (n.is_type<g::rule_decl>() || n.is_type<g::unnamed_rule>()) {
      Rule r;
      r.span = sp;
      for (const auto& ch : n.children) {
        if (ch->is_type<g::rule_name>()) {
          r.name = word(*ch);
          r.name_span = word_span(*ch);
        } else if (ch->is_type<g::event>()) {
          r.event = word(*ch);
          r.event_span = word_span(*ch);
        } else if (is_action(*ch)) {
          r.actions.push_back(action(*ch));
        } else if (is_option(*ch)) {
          r.options.push_back(option(*ch));
        } else if (is_expr(*ch)) {
          r.when = expr(*ch);
        }
      }
      out.push_back(Item{std::move(r)});
    } else if (n.is_type<g::journey_decl>()) {
      out.push_back(Item{journey(n, sp)});
    } else if (n.is_type<g::test_decl>()) {
      out.push_back(Item{test(n, sp)});
    } else if (is_option(n)) {
      if (!in_campaign) {
        diags_.error(file_, sp, code::syntax, "option outside a rule or campaign",
                     "options follow the actions of a rule, or set defaults inside a campaign");
        return;
      }
      out.push_back(Item{option(n)});
    } else if (n.is_type<g::limit_decl>()) {
      Limit l;
      l.span = sp;
      int ints = 0;
      for (const auto& ch : n.children) {
        if (ch->is_type<g::int_lit>()) (ints++ == 0 ? l.count : l.days) = int_value(*ch);
        else if (ch->is_type<g::channel>()) l.channel = channel(*ch, true);
      }
      out.push_back(Item{std::move(l)});
    } else if (n.is_type<g::timezone_decl>()) {
      Timezone tz;
      tz.span = sp;
      if (!n.children.empty()) tz.name = decode_string(*n.children[0]);
      out.push_back(Item{std::move(tz)});
    }
  }

  Message message(const Node& n, Span sp) {
    Message m;
    m.span = sp;
    std::unordered_set<std::string> seen;
    for (const auto& ch : n.children) {
      if (ch->is_type<g::def_name>()) {
        m.name = word(*ch);
        m.name_span = word_span(*ch);
        continue;
      }
      std::string clause = word(*ch);
      if (!seen.insert(clause).second) {
        diags_.error(file_, word_span(*ch), code::duplicate_clause,
                     "'" + clause + "' is given twice in message '" + m.name + "'");
        continue;
      }
      if (ch->is_type<g::via_clause>() && !ch->children.empty()) {
        m.channel = channel(*ch->children[0], false);
      } else if (ch->is_type<g::subject_clause>() && !ch->children.empty()) {
        m.subject = decode_string(*ch->children[0]);
        m.subject_span = span(*ch->children[0]);
      } else if (ch->is_type<g::cost_clause>() && !ch->children.empty()) {
        const Node& num = *ch->children[0];
        m.cost_text = std::string(num.string_view());
        m.cost = decimal_value(num);
      } else if (ch->is_type<g::transactional_flag>()) {
        m.transactional = true;
      }
    }
    return m;
  }

  Journey journey(const Node& n, Span sp) {
    Journey j;
    j.span = sp;
    for (const auto& ch : n.children) {
      if (ch->is_type<g::journey_name>()) {
        j.name = word(*ch);
        j.name_span = word_span(*ch);
      } else if (ch->is_type<g::event>()) {
        j.event = word(*ch);
        j.event_span = word_span(*ch);
      } else if (ch->is_type<g::journey_step>()) {
        JourneyStep s;
        s.span = {begin(*ch), last_end(*ch, begin(*ch))};
        for (const auto& c : ch->children) {
          if (c->is_type<g::int_lit>()) s.day = int_value(*c);
          else if (is_action(*c)) s.actions.push_back(action(*c));
          else if (c->is_type<g::step_unless>() && !c->children.empty()) s.unless = expr(*c->children[0]);
        }
        j.steps.push_back(std::move(s));
      } else if (ch->is_type<g::exit_when>()) {
        if (!ch->children.empty()) j.exit_when = expr(*ch->children[0]);
      } else if (is_option(*ch)) {
        j.options.push_back(option(*ch));
      } else if (is_expr(*ch)) {
        j.when = expr(*ch);
      }
    }
    return j;
  }

  // ------------------------------------------------------------ tests (docs/testing.md)

  Test test(const Node& n, Span sp) {
    Test t;
    t.span = sp;
    for (const auto& ch : n.children) {
      const Node& c = *ch;
      Span csp{begin(c), last_end(c, begin(c))};
      if (c.is_type<g::string_lit>()) {
        t.name = decode_string(c);
        t.name_span = span(c);
      } else if (c.is_type<g::customer_decl>()) {
        TestCustomer cu;
        cu.span = csp;
        for (const auto& f : c.children) {
          if (f->is_type<g::int_lit>()) {
            cu.id = int_value(*f);
            cu.id_span = span(*f);
          } else {
            cu.facts.push_back(test_fact(*f));
          }
        }
        t.customers.push_back(std::move(cu));
      } else if (c.is_type<g::test_on>() || c.is_type<g::test_range>()) {
        TestDates d;
        d.span = csp;
        d.range = c.is_type<g::test_range>();
        std::vector<int32_t> days;
        for (const auto& f : c.children) days.push_back(static_cast<int32_t>(date_value(*f)));
        if (!days.empty()) d.from = d.to = days.front();
        if (days.size() > 1) d.to = days[1];
        t.dates.push_back(d);
      } else if (c.is_type<g::expect_decl>()) {
        t.expects.push_back(test_expect(c, csp));
      }
    }
    return t;
  }

  // The children's literals of a clause node: the first child, or null.
  const Node* first_child(const Node& n) const { return n.children.empty() ? nullptr : n.children.front().get(); }

  int32_t child_date(const Node& n) {
    const Node* c = first_child(n);
    return c ? static_cast<int32_t>(date_value(*c)) : 0;
  }

  // Checks a status word against the values the store knows; reports a did-you-mean.
  std::string status_word(const Node& n, const std::vector<std::string>& allowed, const char* what) {
    std::string w = word(n);
    if (std::find(allowed.begin(), allowed.end(), w) == allowed.end()) {
      std::string m = closest_match(w, allowed);
      std::string list;
      for (size_t i = 0; i < allowed.size(); ++i) list += (i ? (i + 1 == allowed.size() ? " or " : ", ") : "") + allowed[i];
      diags_.error(file_, word_span(n), code::syntax, fmt::format("unknown {} status '{}'; it is {}", what, w, list),
                   m.empty() ? "" : "did you mean '" + m + "'?");
    }
    return w;
  }

  TestFact test_fact(const Node& n) {
    TestFact f;
    f.span = {begin(n), last_end(n, begin(n))};
    static const std::vector<std::string> kOrderStatus = {"paid", "cancelled", "refunded"};
    static const std::vector<std::string> kSubStatus = {"active", "paused", "cancelled"};
    if (n.is_type<g::column_fact>()) {
      f.kind = TestFact::Kind::Column;
      for (const auto& c : n.children) {
        if (c->is_type<g::column_name>()) {
          f.name = word(*c);
          f.name_span = word_span(*c);
        } else if (is_expr(*c)) {
          f.value = expr(*c);
        }
      }
    } else if (n.is_type<g::order_fact>()) {
      f.kind = TestFact::Kind::Order;
      for (const auto& c : n.children) {
        if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
        else if (c->is_type<g::order_total>() && first_child(*c)) f.total = expr(*first_child(*c));
        else if (c->is_type<g::order_status>() && first_child(*c)) {
          f.status = status_word(*first_child(*c), kOrderStatus, "order");
          f.status_span = word_span(*first_child(*c));
        } else if (c->is_type<g::order_items>()) {
          for (const auto& sku : c->children) f.items.push_back(decode_string(*sku));
        } else if (c->is_type<g::order_id>() && first_child(*c)) {
          f.id = int_value(*first_child(*c));
        }
      }
    } else if (n.is_type<g::subscription_fact>()) {
      f.kind = TestFact::Kind::Subscription;
      for (const auto& c : n.children) {
        const Node* v = first_child(*c);
        if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
        else if (!v) continue;
        else if (c->is_type<g::sub_status>()) {
          f.status = status_word(*v, kSubStatus, "subscription");
          f.status_span = word_span(*v);
        } else if (c->is_type<g::sub_cycles>()) f.cycles = int_value(*v);
        else if (c->is_type<g::sub_cancelled>()) f.cancelled = static_cast<int32_t>(date_value(*v));
        else if (c->is_type<g::sub_reason>()) f.reason = decode_string(*v);
        else if (c->is_type<g::sub_product>()) f.product = decode_string(*v);
      }
    } else if (n.is_type<g::survey_fact>()) {
      f.kind = TestFact::Kind::Survey;
      for (const auto& c : n.children) {
        if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
        else if (c->is_type<g::int_lit>()) f.satisfaction = int_value(*c);
      }
    } else if (n.is_type<g::referral_fact>()) {
      f.kind = TestFact::Kind::Referral;
      for (const auto& c : n.children) {
        if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
        else if (c->is_type<g::int_lit>()) {
          f.referee = int_value(*c);
          f.referee_span = span(*c);
        }
      }
    } else if (n.is_type<g::tag_fact>()) {
      f.kind = TestFact::Kind::Tag;
      for (const auto& c : n.children) {
        if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
        else if (c->is_type<g::tag_name>()) {
          f.name = word(*c);
          f.name_span = word_span(*c);
        }
      }
    } else if (n.is_type<g::event_fact>()) {
      f.kind = TestFact::Kind::Event;
      for (const auto& c : n.children) {
        if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
        else if (c->is_type<g::event_type>()) {
          f.name = word(*c);
          f.name_span = word_span(*c);
        } else if (c->is_type<g::event_field>()) {
          std::string field;
          ExprPtr value;
          for (const auto& fc : c->children) {
            if (fc->is_type<g::field_name>()) field = word(*fc);
            else if (is_expr(*fc)) value = expr(*fc);
          }
          f.fields.emplace_back(std::move(field), std::move(value));
        }
      }
    }
    return f;
  }

  TestExpect test_expect(const Node& n, Span sp) {
    TestExpect e;
    e.span = sp;
    std::set<std::string> seen;
    for (const auto& ch : n.children) {
      const Node& c = *ch;
      if (c.is_type<g::expect_no>()) {
        e.absent = true;
        continue;
      }
      if (c.is_type<g::no_actions>()) {
        e.absent = e.no_actions = true;
        continue;
      }
      if (c.is_type<g::expect_send>() || c.is_type<g::expect_coupon>() || c.is_type<g::expect_points>() ||
          c.is_type<g::expect_offer>() || c.is_type<g::expect_tag>() || c.is_type<g::expect_untag>()) {
        e.action = c.is_type<g::expect_send>()     ? ActionKind::Send
                   : c.is_type<g::expect_coupon>() ? ActionKind::Coupon
                   : c.is_type<g::expect_points>() ? ActionKind::Points
                   : c.is_type<g::expect_offer>()  ? ActionKind::Offer
                   : c.is_type<g::expect_tag>()    ? ActionKind::Tag
                                                   : ActionKind::Untag;
        if (const Node* v = first_child(c)) {
          if (v->is_type<g::number>()) {
            e.target = std::string(v->string_view());
            e.target_span = span(*v);
            e.points = decimal_value(*v);
          } else {
            e.target = word(*v);
            e.target_span = word_span(*v);
          }
        }
        continue;
      }
      // A qualifier: each at most once.
      std::string q = c.is_type<g::q_status>() ? "status" : word(c);
      if (!seen.insert(q).second) {
        diags_.error(file_, word_span(c), code::duplicate_clause, fmt::format("'{}' is given twice in the expectation", q == "status" ? word(c) : q),
                     "each qualifier (to, via, on, rule, status, times) is written at most once");
        continue;
      }
      const Node* v = first_child(c);
      if (e.no_actions && !c.is_type<g::q_to>() && !c.is_type<g::q_on>()) {
        diags_.error(file_, word_span(c), code::syntax, fmt::format("'expect no actions' takes only 'to ID' and 'on DATE', not '{}'", word(c)),
                     "write expect no actions to 2 on 2026-04-02");
        continue;
      }
      if (c.is_type<g::q_status>()) {
        e.status = word(c);
      } else if (!v) {
        continue;
      } else if (c.is_type<g::q_to>()) {
        e.to = int_value(*v);
        e.to_span = span(*v);
      } else if (c.is_type<g::q_via>()) {
        e.via = channel(*v, false);
      } else if (c.is_type<g::q_on>()) {
        e.on = static_cast<int32_t>(date_value(*v));
      } else if (c.is_type<g::q_rule>()) {
        e.rule = std::string(v->string_view());
        e.rule_span = span(*v);
      } else if (c.is_type<g::q_times>()) {
        e.times = int_value(*v);
        e.times_span = span(*v);
        if (e.absent)
          diags_.error(file_, word_span(c), code::syntax, "'expect no' takes no 'times'",
                       "an absence means zero times; write 'expect ... times 0' or drop 'times'");
      }
    }
    return e;
  }

  Action action(const Node& n) {
    Action a;
    a.span = {begin(n), last_end(n, begin(n))};
    if (n.is_type<g::send_action>()) a.kind = ActionKind::Send;
    else if (n.is_type<g::coupon_grant>()) a.kind = ActionKind::Coupon;
    else if (n.is_type<g::points_grant>()) a.kind = ActionKind::Points;
    else if (n.is_type<g::offer_action>()) a.kind = ActionKind::Offer;
    else if (n.is_type<g::tag_action>()) a.kind = ActionKind::Tag;
    else a.kind = ActionKind::Untag;
    if (n.is_type<g::coupon_grant>()) a.span.begin = grant_start(a.span.begin);  // include 'grant'
    if (n.is_type<g::points_grant>()) a.span.begin = grant_start(a.span.begin);
    for (const auto& ch : n.children) {
      if (ch->is_type<g::channel>()) {
        a.channel = channel(*ch, false);
        a.channel_span = word_span(*ch);
      } else if (is_expr(*ch)) {
        a.points = expr(*ch);
      } else {
        a.name = word(*ch);
        a.name_span = word_span(*ch);
      }
    }
    return a;
  }

  // `grant coupon x`: the selected node starts at 'coupon'; the action's span starts at 'grant'.
  uint32_t grant_start(uint32_t at) const {
    size_t p = text_.rfind("grant", at);
    return p == std::string::npos ? at : static_cast<uint32_t>(p);
  }

  Option option(const Node& n) {
    Option o;
    o.span = {begin(n), last_end(n, begin(n))};
    if (n.is_type<g::once_opt>()) {
      o.kind = OptionKind::Once;
      for (const auto& ch : n.children)
        if (is_expr(*ch)) {
          o.kind = OptionKind::OncePer;
          o.expr = expr(*ch);
        }
    } else if (n.is_type<g::every_opt>()) {
      o.kind = OptionKind::Every;
      if (!n.children.empty()) o.n = int_value(*n.children[0]);
    } else if (n.is_type<g::priority_opt>()) {
      o.kind = OptionKind::Priority;
      if (!n.children.empty()) o.n = signed_value(*n.children[0]);
    } else if (n.is_type<g::after_opt>()) {
      o.kind = OptionKind::After;
      for (const auto& ch : n.children) {
        if (ch->is_type<g::dotted_name>()) {
          o.name = std::string(ch->string_view());
          o.name_span = span(*ch);
        } else if (ch->is_type<g::int_lit>()) {
          o.n = int_value(*ch);
        }
      }
    } else if (n.is_type<g::from_opt>() || n.is_type<g::until_opt>()) {
      o.kind = n.is_type<g::from_opt>() ? OptionKind::From : OptionKind::Until;
      if (!n.children.empty()) o.date = static_cast<int32_t>(date_value(*n.children[0]));
    } else if (n.is_type<g::holdout_opt>()) {
      o.kind = OptionKind::Holdout;
      if (!n.children.empty()) {
        const Node& num = *n.children[0];
        o.text = std::string(num.string_view());
        o.pct = decimal_value(num);
        if (o.pct > 100)
          diags_.error(file_, span(num), code::syntax, "holdout must be between 0% and 100%, not " + o.text + "%");
      }
    }
    return o;
  }

  std::optional<Channel> channel(const Node& n, bool in_limit) {
    std::string name = word(n);
    if (auto c = channel_from_name(name)) return c;
    std::vector<std::string> names = {"email", "line", "sms", "push", "dm"};
    if (in_limit) names.push_back("message");
    std::string m = closest_match(name, names);
    diags_.error(file_, word_span(n), code::unknown_channel,
                 "unknown channel '" + name + "'; the channels are email, line, sms, push and dm" +
                     (in_limit ? " (or 'message' for all of them)" : ""),
                 m.empty() ? "" : "did you mean '" + m + "'?");
    return std::nullopt;
  }

  // ------------------------------------------------------------ literals

  int64_t int_value(const Node& n) {
    std::string_view s = n.string_view();
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') continue;
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (static_cast<uint64_t>(INT64_MAX) - d) / 10) {
        diags_.error(file_, span(n), code::int_overflow,
                     "integer literal " + std::string(s) + " does not fit in 64 bits", "the largest integer is 9223372036854775807");
        return 0;
      }
      v = v * 10 + d;
    }
    return static_cast<int64_t>(v);
  }

  int64_t signed_value(const Node& n) {
    std::string_view s = n.string_view();
    bool neg = !s.empty() && s[0] == '-';
    int64_t v = int_value(n);
    return neg ? -v : v;
  }

  double decimal_value(const Node& n) {
    std::string clean;
    for (char c : n.string_view())
      if (c != '_') clean += c;
    double d = 0;
    std::from_chars(clean.data(), clean.data() + clean.size(), d);
    return d;
  }

  Days date_value(const Node& n) {
    std::string_view s = n.string_view();
    if (auto d = parse_date(s)) return *d;
    bool shape = s.size() == 10 && s[4] == '-' && s[7] == '-';
    diags_.error(file_, span(n), code::bad_date,
                 shape ? "'" + std::string(s) + "' is not a valid calendar date"
                       : "invalid date literal '" + std::string(s) + "'",
                 shape ? "" : "write dates as YYYY-MM-DD, e.g. 2026-12-01; write 'a - b' with spaces to subtract");
    return 0;
  }

  std::string decode_string(const Node& n) {
    std::string out;
    std::string_view s = n.string_view();
    uint32_t base = begin(n);
    if (s.size() < 2) return out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] != '\\') {
        out += s[i];
        continue;
      }
      char c = s[++i];
      if (c == 'n') out += '\n';
      else if (c == 't') out += '\t';
      else if (c == '"' || c == '\\') out += c;
      else if (c == 'u') {
        size_t close = s.find('}', i);
        uint32_t cp = 0;
        for (size_t k = i + 2; k < close; ++k) cp = cp * 16 + hex_value(s[k]);
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          diags_.error(file_, {base + static_cast<uint32_t>(i - 1), base + static_cast<uint32_t>(close + 1)},
                       code::bad_escape, "\\u{...} escape is not a valid Unicode code point",
                       "code points go up to 10FFFF and exclude the surrogates D800-DFFF");
        } else {
          append_utf8(out, cp);
        }
        i = close;
      }
    }
    return out;
  }

  // ------------------------------------------------------------ expressions

  ExprPtr make(Expr::Kind k, Span sp) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->span = sp;
    return e;
  }

  ExprPtr expr(const Node& n) {
    too_deep_reported_ = false;
    int depth = 0;
    return expr(n, depth);
  }

  // Builds an Expr; `depth` receives its height, bounded by kMaxNestingDepth (long operator chains
  // would otherwise make a left-deep tree that overflows the stack of later recursive passes).
  ExprPtr expr(const Node& n, int& depth) {
    depth = 1;
    Span sp = span(n);
    if (n.is_type<g::number>()) {
      std::string_view s = n.string_view();
      bool dec = s.find('.') != std::string_view::npos;
      auto e = make(dec ? Expr::Kind::Decimal : Expr::Kind::Int, sp);
      e->text = std::string(s);
      if (dec) e->dval = decimal_value(n);
      else e->ival = int_value(n);
      return e;
    }
    if (n.is_type<g::date_lit>()) {
      auto e = make(Expr::Kind::Date, sp);
      e->ival = date_value(n);
      e->text = std::string(n.string_view());
      return e;
    }
    if (n.is_type<g::string_lit>()) {
      auto e = make(Expr::Kind::String, sp);
      e->text = decode_string(n);
      return e;
    }
    if (n.is_type<g::true_lit>() || n.is_type<g::false_lit>()) {
      auto e = make(Expr::Kind::Bool, sp);
      e->ival = n.is_type<g::true_lit>();
      return e;
    }
    if (n.is_type<g::null_lit>()) return make(Expr::Kind::Null, sp);
    if (n.is_type<g::dotted_name>()) {
      std::string t(n.string_view());
      auto e = make(t == "today" ? Expr::Kind::Call : Expr::Kind::Name, sp);
      e->text = std::move(t);
      return e;
    }
    if (n.is_type<g::list_lit>() || n.is_type<g::call>()) {
      bool call = n.is_type<g::call>();
      auto e = make(call ? Expr::Kind::Call : Expr::Kind::List, sp);
      for (const auto& ch : n.children) {
        if (ch->is_type<g::func_name>()) {
          e->text = std::string(ch->string_view());
          continue;
        }
        int d = 0;
        e->args.push_back(expr(*ch, d));
        depth = std::max(depth, d + 1);
      }
      return check_depth(std::move(e), depth);
    }
    if (n.is_type<g::paren_expr>()) {
      if (n.children.empty()) return make(Expr::Kind::Null, sp);
      int d = 0;
      auto inner = expr(*n.children[0], d);
      depth = d + 1;  // counted so that '((((x))))' is bounded like other nesting
      inner->parenthesized = true;
      inner->span = sp;
      return check_depth(std::move(inner), depth);
    }
    if (n.is_type<g::negative>() || n.is_type<g::negation>()) {
      auto e = make(Expr::Kind::Unary, sp);
      e->uop = n.is_type<g::negative>() ? UnOp::Neg : UnOp::Not;
      int d = 0;
      if (!n.children.empty()) {
        e->args.push_back(expr(*n.children[0], d));
        e->span.end = e->args[0]->span.end;
      }
      depth = d + 1;
      return check_depth(std::move(e), depth);
    }
    if (n.is_type<g::cmp_expr>() && n.children.size() == 2 && n.children[1]->is_type<g::is_null>()) {
      int d = 0;
      auto lhs = expr(*n.children[0], d);
      auto e = make(Expr::Kind::IsNull, {lhs->span.begin, offset(n.children[1]->m_end.data)});
      e->negated = !n.children[1]->children.empty();
      e->args.push_back(std::move(lhs));
      depth = d + 1;
      return check_depth(std::move(e), depth);
    }
    // A binary chain: operand { op operand }, folded to the left.
    if (n.children.empty()) return make(Expr::Kind::Null, sp);
    int d = 0;
    ExprPtr acc = expr(*n.children[0], d);
    depth = d;
    for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
      int rd = 0;
      ExprPtr rhs = expr(*n.children[i + 1], rd);
      auto e = make(Expr::Kind::Binary, {acc->span.begin, rhs->span.end});
      e->bop = binop(*n.children[i]);
      e->args.push_back(std::move(acc));
      e->args.push_back(std::move(rhs));
      depth = std::max(depth, rd) + 1;
      acc = check_depth(std::move(e), depth);
      if (acc->kind == Expr::Kind::Null && depth > kMaxNestingDepth) return acc;
    }
    return acc;
  }

  ExprPtr check_depth(ExprPtr e, int depth) {
    if (depth <= kMaxNestingDepth) return e;
    if (!too_deep_reported_) {
      diags_.error(file_, e->span, code::too_deep,
                   "expression nested too deeply (more than " + std::to_string(kMaxNestingDepth) + " levels)",
                   "split it into smaller parts with 'let'");
      too_deep_reported_ = true;
    }
    return make(Expr::Kind::Null, e->span);
  }

  static BinOp binop(const Node& n) {
    if (n.is_type<g::op_or>()) return BinOp::Or;
    if (n.is_type<g::op_and>()) return BinOp::And;
    if (n.is_type<g::op_eq>()) return BinOp::Eq;
    if (n.is_type<g::op_ne>()) return BinOp::Ne;
    if (n.is_type<g::op_lt>()) return BinOp::Lt;
    if (n.is_type<g::op_le>()) return BinOp::Le;
    if (n.is_type<g::op_gt>()) return BinOp::Gt;
    if (n.is_type<g::op_ge>()) return BinOp::Ge;
    if (n.is_type<g::op_in>()) return BinOp::In;
    if (n.is_type<g::op_not_in>()) return BinOp::NotIn;
    if (n.is_type<g::op_add>()) return BinOp::Add;
    if (n.is_type<g::op_sub>()) return BinOp::Sub;
    if (n.is_type<g::op_mul>()) return BinOp::Mul;
    if (n.is_type<g::op_div>()) return BinOp::Div;
    return BinOp::Mod;
  }

  SourcePtr file_;
  const std::string& text_;
  Diagnostics& diags_;
  std::unordered_set<uint32_t> bad_utf8_;
  bool too_deep_reported_ = false;
  std::vector<std::string> unparsed_;  // let/segment declarations that failed to parse
};

}  // namespace

Module parse(SourcePtr file, Diagnostics& diags) {
  Parser p(file, diags);
  return p.parse_module();
}

ExprPtr parse_expression(SourcePtr file, Diagnostics& diags) {
  Parser p(file, diags);
  return p.parse_expr();
}

}  // namespace crm::lang
