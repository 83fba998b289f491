// JSON rendering of actions (their outbox rows and keys: outbox.cpp).
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
  // Most strings need no escape: found with a branch-free pass (the compiler vectorises it),
  // then copied whole (the outbox writes a payload a row: store.md "The outbox write").
  bool escape = false;
  for (unsigned char c : s) escape |= (c < 0x20) | (c == '"') | (c == '\\');
  if (!escape) {
    out.append(s);
    out += '"';
    return;
  }
  size_t plain = 0;  // the start of the run of characters copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += fmt::format("\\u{:04x}", c);  // another control character
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

const std::string& ActionOut::subject() const {
  static const std::string none;
  return payload ? payload->subject : none;
}

const std::vector<std::string>& ActionOut::recommended() const {
  static const std::vector<std::string> none;
  return payload ? payload->recommended : none;
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
  if (a.kind != lang::ActionKind::Points) (what += " ") += a.target;
  else if (points_amount) ((what += " (") += a.target) += ")";
  if (a.channel) what += std::string(" via ") + lang::channel_name(*a.channel);
  return what;
}

}  // namespace crm::engine
