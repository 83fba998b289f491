// Internals shared by the day loop (run.cpp) and the event/journey path (run_events.cpp): the
// candidate action before caps, and small helpers. Not part of the engine's interface.
#pragma once
#include <string>
#include <vector>

#include "engine/eval/program.hpp"
#include "engine/run/run.hpp"

namespace crm::engine {

// The dedupe value of `once per EXPR` as text: strings unquoted, dates YYYY-MM-DD, null "null".
inline std::string key_text(const Value& v) {
  if (v.kind == Value::Kind::String) return v.text;
  return v.to_string();
}

// Renders {attr} placeholders of a subject from the frame's columns (unknown ones stay as written).
inline std::string render_subject(const std::string& subject, const Frame& frame, size_t row) {
  std::string out;
  for (size_t i = 0; i < subject.size(); ++i) {
    if (subject[i] == '{') {
      size_t close = subject.find('}', i);
      if (close != std::string::npos) {
        std::string name = subject.substr(i + 1, close - i - 1);
        if (const Column* c = frame.column(name)) {
          Value v = column_value(frame, *c, row);
          if (v.kind == Value::Kind::List) {  // {recommended}: "A, B, C"
            for (size_t k = 0; k < v.list.size(); ++k) out += (k ? ", " : "") + key_text(v.list[k]);
          } else {
            out += v.is_null() ? "" : key_text(v);
          }
          i = close;
          continue;
        }
      }
    }
    out += subject[i];
  }
  return out;
}

// An action before caps, kept small (a day has ~100k of them on a large store): the ActionOut,
// with its strings, is made only for the output (Runner::make_action).
struct Runner::Candidate {
  uint32_t rule = 0;
  uint32_t key = 0;                    // the dedupe value, interned in the History
  uint32_t action_index = 0;           // position among the rule's actions
  lang::ActionKind kind = lang::ActionKind::Send;
  Status pre_status = Status::Sent;    // before caps
  Status status = Status::Sent;        // final
  bool transactional = false;          // a transactional send: never capped, never counted
  std::optional<lang::Channel> channel;
  int64_t priority = 0;
  int64_t points = 0;                  // the amount of `grant points`
  double cost = 0;                     // message cost of a send
  std::string subject;                 // rendered subject of a send (when rendering is on)
  std::vector<std::string> recommended;  // recommended(N) SKUs of a send, for its payload
  std::vector<uint32_t> needs_today;  // rules this one waits for that fired only today
};


}  // namespace crm::engine
