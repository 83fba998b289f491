// The parser: runs grammar.hpp with PEGTL's parse_tree one declaration at a time, converts each
// tree to the AST of ast.hpp, and turns must<> failures into Diagnostics, recovering at the next
// declaration so that several errors are reported in one pass. Literals and expressions:
// parse_expr.cpp; `test` blocks: test_blocks.cpp.
#include "lang/parser.hpp"

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <unordered_set>

#include "lang/diagnostic_codes.hpp"
#include "lang/parser_impl.hpp"
#include "lang/parser_support.hpp"

namespace crm::lang {
namespace parser_detail {

bool Parser::prepare(size_t& pos) {
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

Module Parser::parse_module() {
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

ExprPtr Parser::parse_expr() {
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

Span Parser::word_span(const Node& n) const {
  uint32_t b = begin(n), e = b;
  while (e < text_.size() && (is_ident_char(text_[e]) || text_[e] == '.')) ++e;
  return {b, e};
}

std::string Parser::word(const Node& n) const {
  Span s = word_span(n);
  return text_.substr(s.begin, s.end - s.begin);
}

void Parser::parse_campaign(const Node& head, size_t start, size_t& pos, std::vector<Item>& out) {
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

void Parser::report(const SyntaxError& e, size_t item_start, const std::string& item_desc) {
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

void Parser::report_too_deep(uint32_t at) {
  diags_.error(file_, {at, at + 1}, code::too_deep,
               "expression nested too deeply (more than " + std::to_string(kMaxNestingDepth) + " levels)",
               "split it into smaller parts with 'let'");
}

void Parser::note_unparsed(size_t item_start) {
  std::string name = definition_name_at(text_, item_start);
  if (!name.empty()) unparsed_.push_back(std::move(name));
}

size_t Parser::recover(uint32_t error_at, size_t item_start, bool in_campaign) const {
  return recover_position(text_, item_start, error_at, in_campaign);
}

bool Parser::is_action(const Node& n) {
  return n.is_type<g::send_action>() || n.is_type<g::coupon_grant>() || n.is_type<g::points_grant>() ||
         n.is_type<g::offer_action>() || n.is_type<g::tag_action>() || n.is_type<g::untag_action>();
}

bool Parser::is_option(const Node& n) {
  return n.is_type<g::once_opt>() || n.is_type<g::every_opt>() || n.is_type<g::priority_opt>() ||
         n.is_type<g::after_opt>() || n.is_type<g::from_opt>() || n.is_type<g::until_opt>() ||
         n.is_type<g::holdout_opt>();
}

bool Parser::is_expr(const Node& n) {
  return n.is_type<g::date_lit>() || n.is_type<g::number>() || n.is_type<g::string_lit>() ||
         n.is_type<g::true_lit>() || n.is_type<g::false_lit>() || n.is_type<g::null_lit>() ||
         n.is_type<g::list_lit>() || n.is_type<g::paren_expr>() || n.is_type<g::call>() ||
         n.is_type<g::dotted_name>() || n.is_type<g::negative>() || n.is_type<g::negation>() ||
         n.is_type<g::mul_expr>() || n.is_type<g::add_expr>() || n.is_type<g::cmp_expr>() ||
         n.is_type<g::and_expr>() || n.is_type<g::or_expr>();
}

uint32_t Parser::last_end(const Node& n, uint32_t fallback) const {
  // The end of a declaration: the end of its last token, without trailing space.
  return end_of_last_token(text_, std::max(fallback, offset(n.m_end.data)));
}

void Parser::convert_item(const Node& n, std::vector<Item>& out, bool in_campaign) {
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

Message Parser::message(const Node& n, Span sp) {
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

Journey Parser::journey(const Node& n, Span sp) {
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

Action Parser::action(const Node& n) {
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

uint32_t Parser::grant_start(uint32_t at) const {
  size_t p = text_.rfind("grant", at);
  return p == std::string::npos ? at : static_cast<uint32_t>(p);
}

Option Parser::option(const Node& n) {
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

std::optional<Channel> Parser::channel(const Node& n, bool in_limit) {
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

}  // namespace parser_detail

Module parse(SourcePtr file, Diagnostics& diags) {
  parser_detail::Parser p(file, diags);
  return p.parse_module();
}

ExprPtr parse_expression(SourcePtr file, Diagnostics& diags) {
  parser_detail::Parser p(file, diags);
  return p.parse_expr();
}

}  // namespace crm::lang
