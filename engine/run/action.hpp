// An action as a run produces it (SPEC §7): what, for whom, by which rule, and its status.
// The JSON line of `--format jsonl` is built here (the outbox's rows: outbox.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "lang/ast.hpp"
#include "lang/date.hpp"

namespace crm::engine {

enum class Status : uint8_t { Sent, HeldOut, BlockedConsent, BlockedCap };
const char* status_name(Status s);  // "sent", "held_out", "blocked_consent", "blocked_cap"

struct ActionOut {
  Days date = 0;
  int64_t customer = 0;
  uint32_t rule = 0;          // index into CheckedProgram::rules
  // Qualified; a view of the rule's name in the CheckedProgram (or of a literal), which outlives
  // the actions: no string is copied per action.
  std::string_view rule_name;
  lang::ActionKind kind = lang::ActionKind::Send;
  std::string target;         // message / coupon / offer / tag name, or points in decimal digits
  std::optional<lang::Channel> channel;
  Status status = Status::Sent;
  std::string dedupe;         // the dedupe value: "once", the `once per` key, or the date for `every`
  uint32_t action_index = 0;  // position among the rule's actions
  int64_t priority = 0;
  double cost = 0;            // message cost (for simulations)
  std::string subject;        // rendered subject of a send, if any
  std::vector<std::string> recommended;  // a send's recommended SKUs (when the script uses recommended)
  bool transactional = false; // a send of a `transactional` message (needs no opt-in)
};

// {"date":"2026-11-23","customer":42,"rule":"check_in","action":"send","target":"any_concerns","channel":"line","status":"sent"}
std::string to_json_line(const ActionOut& a);

void append_json_string(std::string& out, std::string_view s);

// A readable label for summaries: "send welcome via email", "coupon birthday_10", "tag vip",
// "points" (or "points (300)" with `points_amount`).
std::string action_label(const ActionOut& a, bool points_amount);

}  // namespace crm::engine
