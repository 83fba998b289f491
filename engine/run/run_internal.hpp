// Internals shared by the day loop (run.cpp) and the event/journey path (journeys.cpp): the
// candidate action before caps, and small helpers. Not part of the engine's interface.
#pragma once
#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/eval/program.hpp"
#include "engine/run/run.hpp"
#include "lang/subject.hpp"

namespace crm::engine {

// The dedupe value of `once per EXPR` as text: strings unquoted, dates YYYY-MM-DD, null "null".
inline std::string key_text(const Value& v) {
  if (v.kind == Value::Kind::String) return v.text;
  return v.to_string();
}

// A number for people: thousands separated by ",", decimals rounded to `digits` places (the
// currency's minor unit; 2 by default), so 2790.8599999999997 renders as "2,790.86".
// Halves round away from zero (1080.5 yen renders "1,081"), not to even.
inline std::string grouped_number(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  if (std::abs(v) * scale < 1e15) v = std::round(v * scale) / scale;
  std::string s = fmt::format("{:.{}f}", v, digits);
  if (s == "-0" || s.rfind("-0.", 0) == 0) {
    bool zero = s.find_first_not_of("-0.") == std::string::npos;
    if (zero) s.erase(0, 1);  // no "-0.00"
  }
  size_t start = s[0] == '-' ? 1 : 0, dot = s.find('.');
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  for (size_t k = int_end; k > start + 3; k -= 3) s.insert(k - 3, ",");
  return s;
}

// Renders the placeholders of a subject (lang/subject.hpp): an attribute from the frame's
// columns, a let/segment definition through `definition` (its value for the row, nullopt when
// the name is not one); unknown names stay as written (the checker rejects them). A null value
// renders the fallback of `{name|"text"}`, else nothing. Integers are grouped ("12,345"),
// decimals grouped with `money_digits` decimals, the store's currency's minor unit
// (engine/store/currency.hpp: "2,790.86", or "2,791" in yen). A format `{x:N}` gives N decimals
// (ints too), `{x:plain}` drops the separators ("2790.86", an id "12345").
template <typename DefinitionValue>
std::string render_subject(const std::string& subject, const Frame& frame, size_t row, int money_digits,
                           DefinitionValue&& definition) {
  std::string out;
  size_t at = 0;
  for (const auto& p : lang::subject_placeholders(subject)) {
    out.append(subject, at, p.begin - at);
    at = p.end;
    std::optional<Value> v;
    if (const Column* c = frame.column(p.name)) v = column_value(frame, *c, row);
    else v = definition(p.name);
    if (!v) {
      out.append(subject, p.begin, p.end - p.begin);
      continue;
    }
    const int asked = lang::format_digits(p.format);
    std::string text;
    if (v->is_null()) text = p.fallback;
    else if (v->kind == Value::Kind::List)  // {recommended}: "A, B, C"
      for (size_t k = 0; k < v->list.size(); ++k) text += (k ? ", " : "") + key_text(v->list[k]);
    else if (v->kind == Value::Kind::Decimal) text = grouped_number(v->d, asked >= 0 ? asked : money_digits);
    else if (v->kind == Value::Kind::Int) text = grouped_number(static_cast<double>(v->i), asked >= 0 ? asked : 0);
    else text = key_text(*v);
    if (p.format == "plain" && !v->is_null() && (v->kind == Value::Kind::Decimal || v->kind == Value::Kind::Int))
      std::erase(text, ',');
    out += text;
  }
  out.append(subject, at, std::string::npos);
  return out;
}

inline std::string render_subject(const std::string& subject, const Frame& frame, size_t row, int money_digits = 2) {
  return render_subject(subject, frame, row, money_digits, [](const std::string&) { return std::optional<Value>(); });
}

// An action before caps, kept small (32 bytes) and trivially copyable (a day has ~100k-1M of them
// on a large store, copied into the day's pool and out again): the ActionOut, with its strings, is
// made only for the output (Runner::make_action); a passed send's subject and SKUs wait in the
// Runner's payloads_, the rules it waits for in needs_pool_.
struct Runner::Candidate {
  uint32_t rule = 0;
  uint32_t key = 0;                    // the dedupe value, interned in the History
  uint32_t action_index = 0;           // position among the rule's actions
  // A send: payloads_ index + 1 (0: no subject, no SKUs); `grant points`: points_pool_ index + 1
  // (the amount). The priority and a send's cost are the rule's and its message's.
  uint32_t payload = 0;
  uint32_t needs_at = 0;               // needs_pool_[needs_at, needs_at + needs_count): rules this
  uint32_t needs_count = 0;            // one waits for that fired only today
  lang::ActionKind kind = lang::ActionKind::Send;
  Status pre_status = Status::Sent;    // before caps
  Status status = Status::Sent;        // final
  bool transactional = false;          // a transactional send: never capped, never counted
  std::optional<lang::Channel> channel;
};

// What a passed send carries into its outbox payload, rendered while its row is at hand.
struct Runner::Payload : ActionPayload {};

struct Runner::PooledCandidate {
  Candidate c;
  uint32_t next = 0;  // the row's next candidate in the pool + 1 (0: last)
};


}  // namespace crm::engine
