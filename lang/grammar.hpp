// The PEGTL grammar of the .crm language (SPEC §2-3), one struct per rule with its EBNF.
// parser.cpp runs it through PEGTL's parse_tree and converts the tree to lang/ast.hpp;
// error messages for every must<> point are in grammar_errors.hpp. Full EBNF: docs/grammar.md.
#pragma once
#include <tao/pegtl.hpp>

namespace crm::lang::grammar {

namespace p = tao::pegtl;

// ================================================================ lexical

// comment = '#' { any byte but newline } ;
struct comment : p::seq<p::one<'#'>, p::star<p::not_one<'\n'>>> {};
// sp = { ' ' | '\t' | '\r' | '\n' | '\f' | '\v' | comment } ;   (trailing space after every token)
struct sp : p::star<p::sor<p::one<' ', '\t', '\r', '\n', '\f', '\v'>, comment>> {};

// keyword = 'import' | 'let' | ... | 'false' ;   (a whole word: not followed by [A-Za-z0-9_])
struct keyword
    : p::sor<TAO_PEGTL_KEYWORD("import"), TAO_PEGTL_KEYWORD("let"), TAO_PEGTL_KEYWORD("segment"),
             TAO_PEGTL_KEYWORD("message"), TAO_PEGTL_KEYWORD("rule"), TAO_PEGTL_KEYWORD("when"),
             TAO_PEGTL_KEYWORD("then"), TAO_PEGTL_KEYWORD("on"), TAO_PEGTL_KEYWORD("once"), TAO_PEGTL_KEYWORD("per"),
             TAO_PEGTL_KEYWORD("every"), TAO_PEGTL_KEYWORD("days"), TAO_PEGTL_KEYWORD("priority"),
             TAO_PEGTL_KEYWORD("after"), TAO_PEGTL_KEYWORD("from"), TAO_PEGTL_KEYWORD("until"),
             TAO_PEGTL_KEYWORD("journey"), TAO_PEGTL_KEYWORD("day"), TAO_PEGTL_KEYWORD("unless"),
             TAO_PEGTL_KEYWORD("exit"), TAO_PEGTL_KEYWORD("campaign"), TAO_PEGTL_KEYWORD("limit"),
             TAO_PEGTL_KEYWORD("timezone"), TAO_PEGTL_KEYWORD("holdout"), TAO_PEGTL_KEYWORD("transactional"),
             TAO_PEGTL_KEYWORD("send"), TAO_PEGTL_KEYWORD("via"), TAO_PEGTL_KEYWORD("grant"),
             TAO_PEGTL_KEYWORD("coupon"), TAO_PEGTL_KEYWORD("points"), TAO_PEGTL_KEYWORD("offer"),
             TAO_PEGTL_KEYWORD("tag"), TAO_PEGTL_KEYWORD("untag"), TAO_PEGTL_KEYWORD("and"), TAO_PEGTL_KEYWORD("or"),
             TAO_PEGTL_KEYWORD("not"), TAO_PEGTL_KEYWORD("in"), TAO_PEGTL_KEYWORD("is"), TAO_PEGTL_KEYWORD("null"),
             TAO_PEGTL_KEYWORD("true"), TAO_PEGTL_KEYWORD("false")> {};

// name = identifier - keyword ;   identifier = [A-Za-z_] { [A-Za-z0-9_] } ;
struct name : p::seq<p::not_at<keyword>, p::identifier> {};
// name_tok = name sp ;
struct name_tok : p::seq<name, sp> {};

// Keyword tokens: the word, then trailing space.
#define CRM_KW(rule, word) \
  struct rule : p::seq<TAO_PEGTL_KEYWORD(word), sp> {}
CRM_KW(kw_import, "import");
CRM_KW(kw_let, "let");
CRM_KW(kw_segment, "segment");
CRM_KW(kw_message, "message");
CRM_KW(kw_rule, "rule");
CRM_KW(kw_when, "when");
CRM_KW(kw_then, "then");
CRM_KW(kw_on, "on");
CRM_KW(kw_once, "once");
CRM_KW(kw_per, "per");
CRM_KW(kw_every, "every");
CRM_KW(kw_days, "days");
CRM_KW(kw_priority, "priority");
CRM_KW(kw_after, "after");
CRM_KW(kw_from, "from");
CRM_KW(kw_until, "until");
CRM_KW(kw_journey, "journey");
CRM_KW(kw_day, "day");
CRM_KW(kw_unless, "unless");
CRM_KW(kw_exit, "exit");
CRM_KW(kw_campaign, "campaign");
CRM_KW(kw_limit, "limit");
CRM_KW(kw_timezone, "timezone");
CRM_KW(kw_holdout, "holdout");
CRM_KW(kw_transactional, "transactional");
CRM_KW(kw_send, "send");
CRM_KW(kw_via, "via");
CRM_KW(kw_grant, "grant");
CRM_KW(kw_coupon, "coupon");
CRM_KW(kw_points, "points");
CRM_KW(kw_offer, "offer");
CRM_KW(kw_tag, "tag");
CRM_KW(kw_untag, "untag");
CRM_KW(kw_is, "is");
CRM_KW(kw_null, "null");
#undef CRM_KW

// test_word = 'test' ;   test_start = 'test' string ;   (lookahead: `test` is a contextual
// keyword that starts a test declaration only before a string; elsewhere it is a name)
struct test_word : TAO_PEGTL_KEYWORD("test") {};
struct test_start : p::at<test_word, sp, p::one<'"'>> {};

// Punctuation tokens.
struct comma : p::seq<p::one<','>, sp> {};
struct colon : p::seq<p::one<':'>, sp> {};
struct open_brace : p::seq<p::one<'{'>, sp> {};
struct close_brace : p::seq<p::one<'}'>, sp> {};

// ================================================================ literals

// digits = digit { ['_'] digit } ;
struct digits : p::seq<p::digit, p::star<p::opt<p::one<'_'>>, p::digit>> {};
// fraction = digits ;   (after the '.')
struct fraction : digits {};
// number_end = (not followed by [A-Za-z0-9_]) ;
struct number_end : p::not_at<p::identifier_other> {};
// number = digits [ '.' fraction ] ;   an Int or a Decimal
struct number : p::seq<digits, p::opt<p::one<'.'>, p::must<fraction>>, p::must<number_end>> {};
// int_lit = digits ;   (options, limits and journey days take whole numbers)
struct int_lit : p::seq<digits, p::must<number_end>> {};
// date_lit = digit{4} '-' digit{1,} '-' digit{1,} ;   exactly 4-2-2 and a real date, checked in parser.cpp
struct date_lit : p::seq<p::rep<4, p::digit>, p::one<'-'>, p::plus<p::digit>, p::one<'-'>, p::plus<p::digit>,
                         p::not_at<p::identifier_other>> {};

// escape_code = '"' | '\' | 'n' | 't' | 'u{' hex{1,6} '}' ;
struct escape_code : p::sor<p::one<'"', '\\', 'n', 't'>,
                            p::seq<p::one<'u'>, p::one<'{'>, p::rep_min_max<1, 6, p::xdigit>, p::one<'}'>>> {};
// escape = '\' escape_code ;
struct escape : p::seq<p::one<'\\'>, p::must<escape_code>> {};
// string_char = escape | any byte but '"', '\', newline and control characters (tab allowed) ;
struct string_char
    : p::sor<escape, p::seq<p::not_at<p::one<'"', '\\'>>, p::sor<p::one<'\t'>, p::not_range<'\0', '\x1f'>>>> {};
// string_close = '"' ;
struct string_close : p::one<'"'> {};
// string_lit = '"' { string_char } '"' ;
struct string_lit : p::seq<p::one<'"'>, p::star<string_char>, p::must<string_close>> {};

// ================================================================ expressions

struct expression;

// field = identifier ;   (after a '.', keywords are allowed: event.from)
struct field : p::identifier {};
// dotted_name = name { '.' field } ;
struct dotted_name : p::seq<name, p::star<p::one<'.'>, p::must<field>>> {};
// func_name = name | 'day' ;   (`day(d)` is a call although `day` is a keyword)
struct func_name : p::sor<name, TAO_PEGTL_KEYWORD("day")> {};
// call_arg = expression ;
struct call_arg : p::seq<expression> {};
// call_close = ')' ;
struct call_close : p::one<')'> {};
// call = func_name '(' [ expression { ',' call_arg } ] ')' ;
struct call : p::seq<func_name, sp, p::one<'('>, sp, p::opt<expression, p::star<comma, p::must<call_arg>>>,
                     p::must<call_close>> {};
// paren_inner = expression ;
struct paren_inner : p::seq<expression> {};
// paren_close = ')' ;
struct paren_close : p::one<')'> {};
// paren_expr = '(' paren_inner ')' ;
struct paren_expr : p::seq<p::one<'('>, sp, p::must<paren_inner>, p::must<paren_close>> {};
// list_elem = expression ;
struct list_elem : p::seq<expression> {};
// list_close = ']' ;
struct list_close : p::one<']'> {};
// list_lit = '[' [ expression { ',' list_elem } ] ']' ;
struct list_lit : p::seq<p::one<'['>, sp, p::opt<expression, p::star<comma, p::must<list_elem>>>, p::must<list_close>> {};
// true_lit = 'true' ;  false_lit = 'false' ;  null_lit = 'null' ;
struct true_lit : TAO_PEGTL_KEYWORD("true") {};
struct false_lit : TAO_PEGTL_KEYWORD("false") {};
struct null_lit : TAO_PEGTL_KEYWORD("null") {};

// primary = date_lit | number | string_lit | true_lit | false_lit | null_lit | list_lit | paren_expr
//         | call | dotted_name ;
struct primary : p::sor<date_lit, number, string_lit, true_lit, false_lit, null_lit, list_lit, paren_expr, call,
                        dotted_name> {};

struct unary;
// neg_operand = unary ;
struct neg_operand : p::seq<unary> {};
// negative = '-' neg_operand ;
struct negative : p::seq<p::one<'-'>, sp, p::must<neg_operand>> {};
// unary = negative | primary ;
struct unary : p::sor<negative, p::seq<primary, sp>> {};

// Operators (bare, their trailing space is outside so their spans are exact).
struct op_mul : p::one<'*'> {};
struct op_div : p::one<'/'> {};
struct op_mod : p::one<'%'> {};
struct op_add : p::one<'+'> {};
struct op_sub : p::one<'-'> {};
struct op_eq : TAO_PEGTL_STRING("==") {};
struct op_ne : TAO_PEGTL_STRING("!=") {};
struct op_le : TAO_PEGTL_STRING("<=") {};
struct op_lt : p::one<'<'> {};
struct op_ge : TAO_PEGTL_STRING(">=") {};
struct op_gt : p::one<'>'> {};
struct op_in : TAO_PEGTL_KEYWORD("in") {};
struct op_not_in : p::seq<TAO_PEGTL_KEYWORD("not"), sp, TAO_PEGTL_KEYWORD("in")> {};
struct op_or : TAO_PEGTL_KEYWORD("or") {};
struct op_and : TAO_PEGTL_KEYWORD("and") {};

// mul_operand = unary ;
struct mul_operand : p::seq<unary> {};
// mul_expr = unary { ('*' | '/' | '%') mul_operand } ;
struct mul_expr : p::seq<unary, p::star<p::sor<op_mul, op_div, op_mod>, sp, p::must<mul_operand>>> {};
// add_operand = mul_expr ;
struct add_operand : p::seq<mul_expr> {};
// add_expr = mul_expr { ('+' | '-') add_operand } ;
struct add_expr : p::seq<mul_expr, p::star<p::sor<op_add, op_sub>, sp, p::must<add_operand>>> {};

// cmp_op = '==' | '!=' | '<=' | '<' | '>=' | '>' | 'in' | 'not' 'in' ;
struct cmp_op : p::sor<op_eq, op_ne, op_le, op_lt, op_ge, op_gt, op_in, op_not_in> {};
// cmp_operand = add_expr ;
struct cmp_operand : p::seq<add_expr> {};
// is_not = 'not' ;
struct is_not : TAO_PEGTL_KEYWORD("not") {};
// null_after_is = 'null' ;
struct null_after_is : TAO_PEGTL_KEYWORD("null") {};
// is_null = 'is' [ 'not' ] 'null' ;
struct is_null : p::seq<TAO_PEGTL_KEYWORD("is"), sp, p::opt<is_not, sp>, p::must<null_after_is>> {};
// no_chain = (not followed by another comparison operator) ;   comparisons are non-associative
struct no_chain : p::not_at<p::sor<cmp_op, TAO_PEGTL_KEYWORD("is")>> {};
// cmp_expr = add_expr [ cmp_op cmp_operand | is_null ] ;
struct cmp_expr
    : p::seq<add_expr, p::opt<p::sor<p::seq<cmp_op, sp, p::must<cmp_operand>>, p::seq<is_null, sp>>, p::must<no_chain>>> {};

struct not_expr;
// not_operand = not_expr ;
struct not_operand : p::seq<not_expr> {};
// negation = 'not' not_operand ;
struct negation : p::seq<TAO_PEGTL_KEYWORD("not"), sp, p::must<not_operand>> {};
// not_expr = negation | cmp_expr ;
struct not_expr : p::sor<negation, cmp_expr> {};
// and_operand = not_expr ;
struct and_operand : p::seq<not_expr> {};
// and_expr = not_expr { 'and' and_operand } ;
struct and_expr : p::seq<not_expr, p::star<op_and, sp, p::must<and_operand>>> {};
// or_operand = and_expr ;
struct or_operand : p::seq<and_expr> {};
// or_expr = and_expr { 'or' or_operand } ;
struct or_expr : p::seq<and_expr, p::star<op_or, sp, p::must<or_operand>>> {};
// expression = or_expr ;
struct expression : p::seq<or_expr> {};

// expression_only = sp expression EOF ;   (parse_expression)
struct expression_end : p::eof {};
struct expression_only : p::seq<sp, p::must<expression>, p::must<expression_end>> {};

// ================================================================ actions and options

// channel = identifier ;   (email line sms push dm; checked in parser.cpp)
struct channel : p::identifier {};
// channel_tok = channel ;
struct channel_tok : p::seq<channel, sp> {};
// send_target = name ;
struct send_target : name_tok {};
// send_action = 'send' send_target [ 'via' channel ] ;
struct send_action : p::seq<kw_send, p::must<send_target>, p::opt<kw_via, p::must<channel_tok>>> {};
// coupon_name = name ;   coupon_grant = 'coupon' coupon_name ;
struct coupon_name : name_tok {};
struct coupon_grant : p::seq<kw_coupon, p::must<coupon_name>> {};
// points_expr = expression ;   points_grant = 'points' points_expr ;
struct points_expr : p::seq<expression> {};
struct points_grant : p::seq<kw_points, p::must<points_expr>> {};
// grant_what = coupon_grant | points_grant ;   grant_action = 'grant' grant_what ;
struct grant_what : p::sor<coupon_grant, points_grant> {};
struct grant_action : p::seq<kw_grant, p::must<grant_what>> {};
// offer_action = 'offer' name ;  tag_action = 'tag' name ;  untag_action = 'untag' name ;
struct offer_name : name_tok {};
struct offer_action : p::seq<kw_offer, p::must<offer_name>> {};
struct tag_name : name_tok {};
struct tag_action : p::seq<kw_tag, p::must<tag_name>> {};
struct untag_name : name_tok {};
struct untag_action : p::seq<kw_untag, p::must<untag_name>> {};
// action = send_action | grant_action | offer_action | tag_action | untag_action ;
struct action : p::sor<send_action, grant_action, offer_action, tag_action, untag_action> {};
// next_action = action ;
struct next_action : action {};
// actions = action { ',' next_action } ;
struct actions : p::seq<action, p::star<comma, p::must<next_action>>> {};

// int_tok = int_lit ;   signed_int = [ '-' ] int_lit ;
struct int_tok : p::seq<int_lit, sp> {};
struct signed_int : p::seq<p::opt<p::one<'-'>, sp>, int_lit> {};
// per_expr = expression ;   once_opt = 'once' [ 'per' per_expr ] ;
struct per_expr : p::seq<expression> {};
struct once_opt : p::seq<kw_once, p::opt<kw_per, p::must<per_expr>>> {};
// every_count = int ;  days_word = 'days' ;  every_opt = 'every' every_count days_word ;
struct every_count : int_tok {};
struct days_word : kw_days {};
struct every_opt : p::seq<kw_every, p::must<every_count>, p::must<days_word>> {};
// priority_value = signed_int ;   priority_opt = 'priority' priority_value ;
struct priority_value : p::seq<signed_int, sp> {};
struct priority_opt : p::seq<kw_priority, p::must<priority_value>> {};
// after_rule = name { '.' field } ;   after_days = int 'days' ;   after_opt = 'after' after_rule [ after_days ] ;
struct after_rule : p::seq<dotted_name, sp> {};
struct after_days : p::seq<int_lit, sp, p::must<days_word>> {};
struct after_opt : p::seq<kw_after, p::must<after_rule>, p::opt<after_days>> {};
// option_date = date_lit ;   from_opt = 'from' option_date ;   until_opt = 'until' option_date ;
struct option_date : p::seq<date_lit, sp> {};
struct from_opt : p::seq<kw_from, p::must<option_date>> {};
struct until_opt : p::seq<kw_until, p::must<option_date>> {};
// percent = '%' ;   holdout_value = number ;   holdout_opt = 'holdout' holdout_value percent ;
struct percent : p::seq<p::one<'%'>, sp> {};
struct holdout_value : p::seq<number, sp> {};
struct holdout_opt : p::seq<kw_holdout, p::must<holdout_value>, p::must<percent>> {};
// option = once_opt | every_opt | priority_opt | after_opt | from_opt | until_opt | holdout_opt ;
struct option : p::sor<once_opt, every_opt, priority_opt, after_opt, from_opt, until_opt, holdout_opt> {};

// ================================================================ declarations

// import_path = string ;   import_decl = 'import' import_path ;
struct import_path : p::seq<string_lit, sp> {};
struct import_decl : p::seq<kw_import, p::must<import_path>> {};

// def_name = name ;  def_equals = '=' (not '==') ;  def_expr = expression ;
struct def_name : name_tok {};
struct def_equals : p::seq<p::one<'='>, p::not_at<p::one<'='>>, sp> {};
struct def_expr : p::seq<expression> {};
// def_end = (followed by a keyword, '}', a test or the end of the file) ;
struct def_end : p::at<p::sor<p::eof, p::one<'}'>, keyword, test_start>> {};
// let_decl = 'let' def_name '=' def_expr ;   segment_decl = 'segment' def_name '=' def_expr ;
struct let_decl : p::seq<kw_let, p::must<def_name>, p::must<def_equals>, p::must<def_expr>, p::must<def_end>> {};
struct segment_decl
    : p::seq<kw_segment, p::must<def_name>, p::must<def_equals>, p::must<def_expr>, p::must<def_end>> {};

// message_clause = 'via' channel | 'subject' string | 'cost' number | 'transactional' ;
// ('subject' and 'cost' are contextual words, not keywords)
struct subject_word : TAO_PEGTL_KEYWORD("subject") {};
struct subject_value : p::seq<string_lit, sp> {};
struct subject_clause : p::seq<subject_word, sp, p::must<subject_value>> {};
struct cost_word : TAO_PEGTL_KEYWORD("cost") {};
struct cost_value : p::seq<number, sp> {};
struct cost_clause : p::seq<cost_word, sp, p::must<cost_value>> {};
struct via_clause : p::seq<kw_via, p::must<channel_tok>> {};
struct transactional_flag : kw_transactional {};
struct message_clause : p::sor<via_clause, subject_clause, cost_clause, transactional_flag> {};
// message_end = (not followed by a name, unless a test starts) ;   an unknown clause word is an error
struct message_end : p::sor<test_start, p::not_at<name>> {};
// message_decl = 'message' def_name { message_clause } ;
struct message_decl : p::seq<kw_message, p::must<def_name>, p::star<message_clause>, p::must<message_end>> {};

// event = name ;   on_clause = 'on' event ;
struct event : name_tok {};
struct on_clause : p::seq<kw_on, p::must<event>> {};
// when_kw = 'when' ;  condition = expression ;  then_kw = 'then' ;  first_action = action ;
struct when_kw : kw_when {};
struct condition : p::seq<expression> {};
struct then_kw : kw_then {};
struct first_action : p::seq<actions> {};
// rule_end = (not followed by a name or an action keyword, unless a test starts) ;
struct rule_end : p::sor<test_start, p::not_at<p::sor<name, kw_send, kw_grant, kw_offer, kw_tag, kw_untag>>> {};
// rule_body = [ on_clause ] 'when' condition 'then' actions { option } ;
struct rule_body
    : p::seq<p::opt<on_clause>, p::must<when_kw>, p::must<condition>, p::must<then_kw>, p::must<first_action>,
             p::star<option>, p::must<rule_end>> {};
// rule_name = name ;   rule_colon = ':' ;
struct rule_name : p::seq<name, sp> {};
struct rule_colon : colon {};
// rule_after_kw = rule_body ;
struct rule_after_kw : rule_body {};
// rule_keyword_name = keyword ':' ;   (an error: a keyword used as the name of a rule)
struct rule_keyword_name : p::seq<p::at<keyword, sp, p::one<':'>>, p::raise<rule_keyword_name>> {};
// rule_decl = 'rule' [ rule_name ':' ] rule_body ;
struct rule_decl
    : p::seq<kw_rule, p::opt<rule_name, p::must<rule_colon>>, p::opt<rule_keyword_name>, p::must<rule_after_kw>> {};
// unnamed_rule = rule_body ;   (starts with 'on' or 'when')
struct unnamed_rule : p::seq<p::at<p::sor<kw_on, kw_when>>, rule_body> {};

// step_day = int ;  step_colon = ':' ;  step_actions = actions ;  step_unless = 'unless' expression ;
struct step_day : int_tok {};
struct step_colon : colon {};
struct step_actions : p::seq<actions> {};
struct unless_expr : p::seq<expression> {};
struct step_unless : p::seq<kw_unless, p::must<unless_expr>> {};
// journey_step = 'day' step_day ':' step_actions [ step_unless ] ;
struct journey_step : p::seq<kw_day, p::must<step_day>, p::must<step_colon>, p::must<step_actions>, p::opt<step_unless>> {};
// exit_when = 'exit' 'when' expression ;
struct exit_expr : p::seq<expression> {};
struct exit_when_kw : kw_when {};
struct exit_when : p::seq<kw_exit, p::must<exit_when_kw>, p::must<exit_expr>> {};
// journey_name = name ;  journey_on = 'on' ;  journey_open = '{' ;  journey_close = '}' ;
struct journey_name : name_tok {};
struct journey_on : kw_on {};
struct journey_when : p::seq<kw_when, p::must<condition>> {};
struct journey_open : open_brace {};
struct journey_close : close_brace {};
// journey_decl = 'journey' journey_name 'on' event [ 'when' condition ] '{'
//                { journey_step } [ exit_when ] { option } '}' ;
struct journey_decl
    : p::seq<kw_journey, p::must<journey_name>, p::must<journey_on>, p::must<event>, p::opt<journey_when>,
             p::must<journey_open>, p::star<journey_step>, p::opt<exit_when>, p::star<option>, p::must<journey_close>> {};

// limit_count = int ;  limit_target = 'message' | channel ;  limit_per = 'per' ;  limit_days = int ;
struct limit_count : int_tok {};
struct all_messages : TAO_PEGTL_KEYWORD("message") {};
struct limit_target : p::sor<p::seq<all_messages, sp>, channel_tok> {};
struct limit_per : kw_per {};
struct limit_days : int_tok {};
// limit_decl = 'limit' limit_count limit_target 'per' limit_days 'days' ;
struct limit_decl
    : p::seq<kw_limit, p::must<limit_count>, p::must<limit_target>, p::must<limit_per>, p::must<limit_days>,
             p::must<days_word>> {};

// timezone_name = string ;   timezone_decl = 'timezone' timezone_name ;
struct timezone_name : p::seq<string_lit, sp> {};
struct timezone_decl : p::seq<kw_timezone, p::must<timezone_name>> {};

// campaign_name = name ;  campaign_when = 'when' condition ;  campaign_open = '{' ;
struct campaign_name : name_tok {};
struct campaign_when : p::seq<kw_when, p::must<condition>> {};
struct campaign_open : open_brace {};
// campaign_head = 'campaign' campaign_name [ campaign_when ] '{' ;
// (the items and the closing '}' are parsed one by one by parser.cpp so that it can recover
// inside a campaign:  campaign = campaign_head { campaign_item } '}' ;)
struct campaign_head : p::seq<kw_campaign, p::must<campaign_name>, p::opt<campaign_when>, p::must<campaign_open>> {};
// nested_campaign = 'campaign' ;   (an error: campaigns cannot be nested)
struct nested_campaign : p::seq<p::at<TAO_PEGTL_KEYWORD("campaign")>, p::raise<nested_campaign>> {};

// ================================================================ tests (docs/testing.md)
// `test` and the words inside a test block (customer, order, expect, ...) are contextual words,
// not keywords: a rule may still be called `test` or `order`.

// fact_date = date ;   fact_int = int ;   fact_string = string ;
struct fact_date : p::seq<date_lit, sp> {};
struct fact_int : p::seq<int_lit, sp> {};
struct fact_string : p::seq<string_lit, sp> {};
// fact_number = number ;
struct fact_number : p::seq<number, sp> {};
// fact_value = date | number | string | 'true' | 'false' ;
struct fact_value : p::seq<p::sor<date_lit, number, string_lit, true_lit, false_lit>, sp> {};
// status_value = identifier ;   (paid, cancelled, ... checked in parser.cpp)
struct status_value : p::seq<p::identifier, sp> {};

#define CRM_WORD(rule, word) \
  struct rule : p::seq<TAO_PEGTL_KEYWORD(word), sp> {}
CRM_WORD(w_customer, "customer");
CRM_WORD(w_order, "order");
CRM_WORD(w_total, "total");
CRM_WORD(w_status, "status");
CRM_WORD(w_items, "items");
CRM_WORD(w_id, "id");
CRM_WORD(w_subscription, "subscription");
CRM_WORD(w_cycles, "cycles");
CRM_WORD(w_cancelled, "cancelled");
CRM_WORD(w_reason, "reason");
CRM_WORD(w_product, "product");
CRM_WORD(w_survey, "survey");
CRM_WORD(w_satisfaction, "satisfaction");
CRM_WORD(w_referral, "referral");
CRM_WORD(w_event, "event");
CRM_WORD(w_expect, "expect");
CRM_WORD(w_no, "no");
CRM_WORD(w_actions, "actions");
CRM_WORD(w_to, "to");
CRM_WORD(w_times, "times");
#undef CRM_WORD

// sku = string ;   sku_list = '[' [ string { ',' sku } ] ']' ;
struct sku : p::seq<string_lit, sp> {};
struct sku_close : p::one<']'> {};
struct sku_list : p::seq<p::one<'['>, sp, p::opt<sku, p::star<comma, p::must<sku>>>, p::must<sku_close>, sp> {};
// order_clause = 'total' number | 'status' status | 'items' sku_list | 'id' int ;
struct order_total : p::seq<w_total, p::must<fact_number>> {};
struct order_status : p::seq<w_status, p::must<status_value>> {};
struct order_items : p::seq<w_items, p::must<sku_list>> {};
struct order_id : p::seq<w_id, p::must<fact_int>> {};
// order_fact = 'order' date { order_clause } ;
struct order_fact : p::seq<w_order, p::must<fact_date>, p::star<p::sor<order_total, order_status, order_items, order_id>>> {};
// sub_clause = 'status' status | 'cycles' int | 'cancelled' date | 'reason' string | 'product' string ;
struct sub_status : p::seq<w_status, p::must<status_value>> {};
struct sub_cycles : p::seq<w_cycles, p::must<fact_int>> {};
struct sub_cancelled : p::seq<w_cancelled, p::must<fact_date>> {};
struct sub_reason : p::seq<w_reason, p::must<fact_string>> {};
struct sub_product : p::seq<w_product, p::must<fact_string>> {};
// subscription_fact = 'subscription' date { sub_clause } ;
struct subscription_fact
    : p::seq<w_subscription, p::must<fact_date>, p::star<p::sor<sub_status, sub_cycles, sub_cancelled, sub_reason, sub_product>>> {};
// survey_fact = 'survey' date 'satisfaction' int ;
struct satisfaction_word : w_satisfaction {};
struct survey_fact : p::seq<w_survey, p::must<fact_date>, p::must<satisfaction_word>, p::must<fact_int>> {};
// referral_fact = 'referral' int date ;
struct referral_fact : p::seq<w_referral, p::must<fact_int>, p::must<fact_date>> {};
// tag_fact = 'tag' name [ date ] ;
struct tag_fact : p::seq<kw_tag, p::must<tag_name>, p::opt<fact_date>> {};
// event_type = identifier ;   event_field = identifier fact_value ;
struct event_type : p::seq<p::identifier, sp> {};
struct field_name : p::seq<p::identifier, sp> {};
struct field_value : fact_value {};
struct event_field : p::seq<field_name, p::must<field_value>> {};
struct next_field : p::seq<event_field> {};
struct fields_close : close_brace {};
// event_fields = '{' [ event_field { ',' event_field } ] '}' ;
struct event_fields : p::seq<open_brace, p::opt<event_field, p::star<comma, p::must<next_field>>>, p::must<fields_close>> {};
// event_fact = 'event' event_type date [ event_fields ] ;
struct event_fact : p::seq<w_event, p::must<event_type>, p::must<fact_date>, p::opt<event_fields>> {};
// column_fact = identifier fact_value ;   (name, email, birthday, opt-ins, any extra column)
struct column_name : p::seq<p::identifier, sp> {};
struct column_value : fact_value {};
struct column_fact : p::seq<column_name, p::must<column_value>> {};
// fact = order_fact | subscription_fact | survey_fact | referral_fact | tag_fact | event_fact | column_fact ;
struct fact : p::sor<order_fact, subscription_fact, survey_fact, referral_fact, tag_fact, event_fact, column_fact> {};
// customer_decl = 'customer' int '{' { fact } '}' ;
struct customer_id : p::seq<int_lit, sp> {};
struct customer_open : open_brace {};
struct customer_close : close_brace {};
struct customer_decl : p::seq<w_customer, p::must<customer_id>, p::must<customer_open>, p::star<fact>, p::must<customer_close>> {};

// test_on = 'on' date ;   test_range = 'from' date 'to' date ;
struct test_on : p::seq<kw_on, p::must<option_date>> {};
struct range_to : w_to {};
struct test_range : p::seq<kw_from, p::must<option_date>, p::must<range_to>, p::must<option_date>> {};

// expect_action = 'send' name | 'coupon' name | 'points' number | 'offer' name | 'tag' name | 'untag' name ;
struct expect_send : p::seq<kw_send, p::must<send_target>> {};
struct expect_coupon : p::seq<kw_coupon, p::must<coupon_name>> {};
struct points_value : p::seq<number, sp> {};
struct expect_points : p::seq<kw_points, p::must<points_value>> {};
struct expect_offer : p::seq<kw_offer, p::must<offer_name>> {};
struct expect_tag : p::seq<kw_tag, p::must<tag_name>> {};
struct expect_untag : p::seq<kw_untag, p::must<untag_name>> {};
struct expect_action : p::sor<expect_send, expect_coupon, expect_points, expect_offer, expect_tag, expect_untag> {};
// qualifier = 'to' int | 'via' channel | 'on' date | 'rule' name { '.' field } | status | 'times' int
//           | 'subject' string ;
// status = 'sent' | 'held_out' | 'blocked_consent' | 'blocked_cap' ;
struct q_to : p::seq<w_to, p::must<customer_id>> {};
struct q_via : p::seq<kw_via, p::must<channel_tok>> {};
struct q_on : p::seq<kw_on, p::must<option_date>> {};
struct q_rule_name : p::seq<dotted_name, sp> {};
struct q_rule : p::seq<kw_rule, p::must<q_rule_name>> {};
struct q_status : p::seq<p::sor<TAO_PEGTL_KEYWORD("sent"), TAO_PEGTL_KEYWORD("held_out"), TAO_PEGTL_KEYWORD("blocked_consent"),
                                TAO_PEGTL_KEYWORD("blocked_cap")>, sp> {};
struct times_count : p::seq<int_lit, sp> {};
struct q_times : p::seq<w_times, p::must<times_count>> {};
struct q_subject : p::seq<subject_word, sp, p::must<fact_string>> {};
struct qualifier : p::sor<q_to, q_via, q_on, q_rule, q_status, q_times, q_subject> {};
// no_actions = 'no' 'actions' ;   expect_no = 'no' ;
struct no_actions : p::seq<w_no, w_actions> {};
struct expect_no : w_no {};
// expect_what = no_actions | 'no' expect_action | expect_action ;
struct expect_what : p::sor<no_actions, p::seq<expect_no, p::must<expect_action>>, expect_action> {};
// expect_decl = 'expect' expect_what { qualifier } ;
struct expect_decl : p::seq<w_expect, p::must<expect_what>, p::star<qualifier>> {};

// test_item = customer_decl | test_on | test_range | expect_decl ;
struct test_item : p::sor<customer_decl, test_on, test_range, expect_decl> {};
struct test_name : p::seq<string_lit, sp> {};
struct test_open : open_brace {};
struct test_close : close_brace {};
// test_decl = 'test' string '{' { test_item } '}' ;
struct test_decl : p::seq<test_start, test_word, sp, p::must<test_name>, p::must<test_open>, p::star<test_item>, p::must<test_close>> {};

// item = import_decl | let_decl | segment_decl | message_decl | rule_decl | unnamed_rule
//      | journey_decl | limit_decl | timezone_decl | campaign_head | test_decl ... ;
struct item : p::sor<test_decl, import_decl, let_decl, segment_decl, message_decl, rule_decl, unnamed_rule, journey_decl,
                     limit_decl, timezone_decl, campaign_head> {};
// top_item = item ;   (an item or an error)
struct top_item : p::seq<p::must<item>> {};
// campaign_item = rule_decl | unnamed_rule | journey_decl | option | limit_decl | timezone_decl
//               | let_decl | segment_decl | message_decl ;
struct campaign_member : p::sor<rule_decl, unnamed_rule, journey_decl, option, limit_decl, timezone_decl, let_decl,
                                segment_decl, message_decl, nested_campaign> {};
struct campaign_item : p::seq<p::must<campaign_member>> {};

}  // namespace crm::lang::grammar
