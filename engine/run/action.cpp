// JSON rendering of actions and their idempotency keys.
#include "engine/run/action.hpp"

#include <fmt/format.h>

namespace crm::engine {

const char* status_name(Status s) {
  switch (s) {
    case Status::Sent: return "sent";
    case Status::HeldOut: return "held_out";
    case Status::BlockedConsent: return "blocked_consent";
    case Status::BlockedCap: return "blocked_cap";
  }
  return "?";
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  out += '"';
}

std::string to_json_line(const ActionOut& a) {
  std::string out = "{\"date\":\"" + format_date(a.date) + "\",\"customer\":" + std::to_string(a.customer) + ",\"rule\":";
  append_json_string(out, a.rule_name);
  out += ",\"action\":\"";
  out += lang::action_name(a.kind);
  out += "\",\"target\":";
  append_json_string(out, a.target);
  out += ",\"channel\":";
  if (a.channel) {
    out += '"';
    out += lang::channel_name(*a.channel);
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"status\":\"";
  out += status_name(a.status);
  out += "\"}";
  return out;
}

std::string action_label(const ActionOut& a, bool points_amount) {
  std::string what = lang::action_name(a.kind);
  if (a.kind != lang::ActionKind::Points) what += " " + a.target;
  else if (points_amount) what += " (" + a.target + ")";
  if (a.channel) what += std::string(" via ") + lang::channel_name(*a.channel);
  return what;
}

std::string idem_key(const ActionOut& a) {
  return fmt::format("{}|{}|{}|{}", a.rule_name, a.customer, a.dedupe, a.action_index);
}

std::string payload_json(const ActionOut& a) {
  std::string out = "{\"dedupe\":";
  append_json_string(out, a.dedupe);
  if (a.kind == lang::ActionKind::Send) {
    if (!a.subject.empty()) {
      out += ",\"subject\":";
      append_json_string(out, a.subject);
    }
    if (!a.recommended.empty()) {
      out += ",\"recommended\":[";
      for (size_t i = 0; i < a.recommended.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, a.recommended[i]);
      }
      out += ']';
    }
    if (a.cost != 0) out += fmt::format(",\"cost\":{}", a.cost);
    if (a.transactional) out += ",\"transactional\":true";
  }
  out += "}";
  return out;
}

}  // namespace crm::engine
