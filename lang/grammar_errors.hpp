// Error messages for the must<> points of grammar.hpp: one error_message per rule
// (in the style of PEGTL's json_errors.hpp). parser.cpp turns them into Diagnostics, filling
// {item} with the enclosing declaration ("rule 'check_in'") and {tok} with the token found.
#pragma once
#include "lang/diagnostic_codes.hpp"
#include "lang/grammar.hpp"

namespace crm::lang::grammar {

struct ErrorText {
  const char* code;     // Diagnostic::code
  const char* message;  // may contain {item} and {tok}
  const char* hint;     // "" when none
  bool wants_name = false;  // a keyword found here gets "'when' is a keyword and cannot be used as a name"
};

template <typename Rule>
inline constexpr ErrorText error_message = {code::syntax, "syntax error: unexpected {tok}", ""};

#define CRM_ERROR(rule, ...) \
  template <>                \
  inline constexpr ErrorText error_message<rule> = {__VA_ARGS__}

// ---------------------------------------------------------------- literals
CRM_ERROR(fraction, code::syntax, "expected digits after '.' in a number", "");
CRM_ERROR(number_end, code::syntax, "invalid number literal: unexpected {tok} after the digits",
          "digits may be grouped with single '_' separators, e.g. 100_000");
CRM_ERROR(escape_code, code::bad_escape, "invalid escape sequence in string",
          "valid escapes are \\\" \\\\ \\n \\t and \\u{hex}");
CRM_ERROR(string_close, code::syntax, "unterminated string: expected a closing '\"'",
          "strings end on the line they start; write \\n for a newline");
CRM_ERROR(field, code::syntax, "expected a field name after '.'", "");

// ---------------------------------------------------------------- expressions
CRM_ERROR(call_arg, code::syntax, "expected an argument after ','", "");
CRM_ERROR(call_close, code::syntax, "expected ',' or ')' in the arguments of the call, found {tok}", "");
CRM_ERROR(paren_inner, code::syntax, "expected an expression after '('", "");
CRM_ERROR(paren_close, code::syntax, "unclosed '(' — expected ')'", "");
CRM_ERROR(list_elem, code::syntax, "expected a list element after ','", "");
CRM_ERROR(list_close, code::syntax, "unclosed '[' — expected ',' or ']'", "");
CRM_ERROR(neg_operand, code::syntax, "expected an expression after '-'", "");
CRM_ERROR(mul_operand, code::syntax, "expected an expression after the operator", "");
CRM_ERROR(add_operand, code::syntax, "expected an expression after the operator", "");
CRM_ERROR(cmp_operand, code::syntax, "expected an expression after the comparison operator", "");
CRM_ERROR(null_after_is, code::syntax, "expected 'null' after 'is'", "write 'x is null' or 'x is not null'");
CRM_ERROR(no_chain, code::chained_comparison, "comparison operators cannot be chained",
          "combine comparisons with 'and', e.g. 'a < b and b < c'");
CRM_ERROR(not_operand, code::syntax, "expected an expression after 'not'", "");
CRM_ERROR(and_operand, code::syntax, "expected an expression after 'and'", "");
CRM_ERROR(or_operand, code::syntax, "expected an expression after 'or'", "");
CRM_ERROR(expression, code::syntax, "expected an expression, found {tok}", "");
CRM_ERROR(expression_end, code::syntax, "unexpected {tok} after the expression", "");

// ---------------------------------------------------------------- actions and options
CRM_ERROR(channel_tok, code::syntax, "expected a channel (email, line, sms, push, dm), found {tok}", "");
CRM_ERROR(send_target, code::syntax, "expected a message name after 'send'", "", true);
CRM_ERROR(coupon_name, code::syntax, "expected a coupon name after 'grant coupon'", "", true);
CRM_ERROR(points_expr, code::syntax, "expected the number of points after 'grant points'", "");
CRM_ERROR(grant_what, code::syntax, "expected 'coupon' or 'points' after 'grant'", "");
CRM_ERROR(offer_name, code::syntax, "expected an offer name after 'offer'", "", true);
CRM_ERROR(tag_name, code::syntax, "expected a tag name after 'tag'", "", true);
CRM_ERROR(untag_name, code::syntax, "expected a tag name after 'untag'", "", true);
CRM_ERROR(next_action, code::syntax, "expected an action (send, grant, offer, tag, untag) after ','", "");
CRM_ERROR(per_expr, code::syntax, "expected an expression after 'once per'", "");
CRM_ERROR(every_count, code::syntax, "expected a number of days after 'every'", "write 'every 30 days'");
CRM_ERROR(days_word, code::syntax, "expected 'days' after the number", "");
CRM_ERROR(priority_value, code::syntax, "expected an integer after 'priority'", "");
CRM_ERROR(after_rule, code::syntax, "expected a rule name after 'after'", "", true);
CRM_ERROR(option_date, code::syntax, "expected a date (YYYY-MM-DD) here, found {tok}", "");
CRM_ERROR(holdout_value, code::syntax, "expected a percentage after 'holdout'", "write 'holdout 10%'");
CRM_ERROR(percent, code::syntax, "expected '%' after the holdout percentage", "write 'holdout 10%'");

// ---------------------------------------------------------------- declarations
CRM_ERROR(import_path, code::syntax, "expected a quoted path after 'import'", "write import \"std/lifecycle\"");
CRM_ERROR(def_name, code::syntax, "expected a name after '{kw}', found {tok}", "", true);
CRM_ERROR(def_equals, code::syntax, "expected '=' after the name of {item}", "");
CRM_ERROR(def_expr, code::syntax, "expected an expression after '=' in {item}", "");
CRM_ERROR(def_end, code::syntax, "unexpected {tok} after the expression of {item}", "");
CRM_ERROR(subject_value, code::syntax, "expected a quoted subject after 'subject'", "");
CRM_ERROR(cost_value, code::syntax, "expected a number after 'cost'", "");
CRM_ERROR(message_end, code::syntax, "unexpected {tok} in {item}",
          "a message takes 'via CHANNEL', 'subject \"...\"', 'cost N' and 'transactional'");
CRM_ERROR(event, code::syntax, "expected an event name after 'on'", "", true);
CRM_ERROR(when_kw, code::syntax, "expected 'when' and a condition in {item}, found {tok}", "");
CRM_ERROR(condition, code::syntax, "expected a condition after 'when' in {item}", "");
CRM_ERROR(then_kw, code::syntax, "expected 'then' after the condition of {item}", "");
CRM_ERROR(first_action, code::syntax, "expected an action (send, grant, offer, tag, untag) after 'then'", "");
CRM_ERROR(rule_end, code::syntax, "unexpected {tok} after the actions of {item}",
          "separate actions with ','; options are once, every, priority, after, from, until, holdout");
CRM_ERROR(rule_colon, code::syntax, "expected ':' after the name of {item}", "write 'rule NAME: when ...'");
CRM_ERROR(rule_keyword_name, code::syntax, "expected a rule name", "", true);
CRM_ERROR(rule_after_kw, code::syntax, "expected a rule name or 'when' after 'rule', found {tok}", "", true);
CRM_ERROR(step_day, code::syntax, "expected a day number after 'day'", "write 'day 7: send ...'");
CRM_ERROR(step_colon, code::syntax, "expected ':' after the day number", "write 'day 7: send ...'");
CRM_ERROR(step_actions, code::syntax, "expected an action (send, grant, offer, tag, untag) after 'day N:'", "");
CRM_ERROR(unless_expr, code::syntax, "expected a condition after 'unless'", "");
CRM_ERROR(exit_when_kw, code::syntax, "expected 'when' after 'exit'", "write 'exit when CONDITION'");
CRM_ERROR(exit_expr, code::syntax, "expected a condition after 'exit when'", "");
CRM_ERROR(journey_name, code::syntax, "expected a name after 'journey'", "", true);
CRM_ERROR(journey_on, code::syntax, "expected 'on EVENT' after the name of {item}", "write 'journey NAME on EVENT { ... }'");
CRM_ERROR(journey_open, code::syntax, "expected '{' to open the steps of {item}, found {tok}", "");
CRM_ERROR(journey_close, code::syntax, "expected 'day N:', 'exit when', an option or '}' in {item}, found {tok}", "");
CRM_ERROR(limit_count, code::syntax, "expected a number after 'limit'", "write 'limit 3 message per 7 days'");
CRM_ERROR(limit_target, code::syntax, "expected 'message' or a channel after the limit count, found {tok}",
          "write 'limit 3 message per 7 days' or 'limit 1 dm per 30 days'");
CRM_ERROR(limit_per, code::syntax, "expected 'per' in the limit", "write 'limit 3 message per 7 days'");
CRM_ERROR(limit_days, code::syntax, "expected a number of days after 'per'", "write 'limit 3 message per 7 days'");
CRM_ERROR(timezone_name, code::syntax, "expected a quoted time zone name after 'timezone'", "write timezone \"Asia/Tokyo\"");
CRM_ERROR(campaign_name, code::syntax, "expected a name after 'campaign'", "", true);
CRM_ERROR(campaign_open, code::syntax, "expected '{' to open {item}, found {tok}", "");
CRM_ERROR(nested_campaign, code::nested_campaign, "campaigns cannot be nested", "close the outer campaign with '}' first");
// ---------------------------------------------------------------- tests (docs/testing.md)
CRM_ERROR(test_name, code::syntax, "expected a quoted test name after 'test'", "write test \"a dormant customer gets the coupon\" { ... }");
CRM_ERROR(test_open, code::syntax, "expected '{' to open {item}, found {tok}", "");
CRM_ERROR(test_close, code::syntax, "expected 'customer', 'on', 'from', 'expect' or '}' in {item}, found {tok}",
          "a test declares customers, one 'on DATE' or 'from DATE to DATE', and expectations");
CRM_ERROR(customer_id, code::syntax, "expected a customer id (a whole number), found {tok}", "");
CRM_ERROR(customer_open, code::syntax, "expected '{' after the customer id, found {tok}", "write customer 1 { email_opt_in true }");
CRM_ERROR(customer_close, code::syntax, "expected a fact or '}' in a customer of {item}, found {tok}",
          "facts are order, subscription, survey, referral, tag, event, or a column: NAME VALUE");
CRM_ERROR(fact_date, code::syntax, "expected a date (YYYY-MM-DD) here, found {tok}", "");
CRM_ERROR(fact_int, code::syntax, "expected a whole number here, found {tok}", "");
CRM_ERROR(fact_string, code::syntax, "expected a quoted string here, found {tok}", "");
CRM_ERROR(fact_number, code::syntax, "expected a number after 'total', found {tok}", "write order 2026-01-02 total 4_800");
CRM_ERROR(status_value, code::syntax, "expected a status after 'status', found {tok}", "");
CRM_ERROR(sku, code::syntax, "expected a quoted SKU after ',' in the items", "write items [\"SERUM-30\", \"MASK-5\"]");
CRM_ERROR(sku_list, code::syntax, "expected a list of quoted SKUs after 'items', found {tok}", "write items [\"SERUM-30\"]");
CRM_ERROR(sku_close, code::syntax, "unclosed '[' — expected ',' or ']' in the items", "SKUs are quoted strings: [\"A\", \"B\"]");
CRM_ERROR(satisfaction_word, code::syntax, "expected 'satisfaction N' after the survey date, found {tok}",
          "write survey 2026-03-01 satisfaction 5");
CRM_ERROR(event_type, code::syntax, "expected an event type after 'event', found {tok}", "write event visit 2026-03-01");
CRM_ERROR(field_value, code::syntax, "expected a value (a number, string, date, true or false) after the field name, found {tok}", "");
CRM_ERROR(next_field, code::syntax, "expected a field name after ',' in the event's fields", "");
CRM_ERROR(fields_close, code::syntax, "expected ',' or '}' in the event's fields, found {tok}", "write { reason \"price\", amount 3 }");
CRM_ERROR(column_value, code::syntax, "expected a value (a number, string, date, true or false) after the column name, found {tok}",
          "a fact is order, subscription, survey, referral, tag, event, or a column: NAME VALUE");
CRM_ERROR(range_to, code::syntax, "expected 'to' after the first date of the range, found {tok}", "write from 2026-04-01 to 2026-04-30");
CRM_ERROR(points_value, code::syntax, "expected the number of points after 'points'", "");
CRM_ERROR(q_rule_name, code::syntax, "expected a rule name after 'rule'", "", true);
CRM_ERROR(times_count, code::syntax, "expected a whole number after 'times'", "write expect send welcome times 2");
CRM_ERROR(expect_what, code::syntax, "expected an action (send, coupon, points, offer, tag, untag) or 'no' after 'expect', found {tok}",
          "write expect send welcome to 1, expect no coupon c to 2 or expect no actions");
CRM_ERROR(expect_action, code::syntax, "expected an action (send, coupon, points, offer, tag, untag) after 'expect no', found {tok}",
          "write expect no send welcome to 2, or expect no actions");

CRM_ERROR(item, code::syntax, "expected a declaration, found {tok}",
          "declarations start with import, let, segment, message, rule, when, on, campaign, journey, limit, timezone or test");
CRM_ERROR(campaign_member, code::syntax, "expected a rule, journey, option, limit, timezone, let, segment or message in {item}, found {tok}", "");

#undef CRM_ERROR

}  // namespace crm::lang::grammar
