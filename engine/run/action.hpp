// An action as a run produces it (SPEC §7): what, for whom, by which rule, and its status.
// The JSON line of `--format jsonl` is built here (the outbox's rows: outbox.hpp).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "lang/ast.hpp"
#include "lang/date.hpp"

namespace crm::engine {

enum class Status : uint8_t { Sent, HeldOut, BlockedConsent, BlockedCap };
const char* status_name(Status s);  // "sent", "held_out", "blocked_consent", "blocked_cap"

// What a passed send carries into its outbox payload (only when the Runner renders subjects).
struct ActionPayload {
  std::string subject;                   // rendered subject of a send, if any
  std::vector<std::string> recommended;  // a send's recommended SKUs (when the script uses recommended)
};

// Lean (a day on a large store makes ~1M of them): no string is owned per action. The views
// point into the CheckedProgram (rule name, action name) and into the Runner that made the action
// (the dedupe value and a points amount's digits, interned): valid while both live and until the
// Runner's reset(). The rare payload of a passed send is shared, so it outlives the Runner.
struct ActionOut {
  Days date = 0;
  uint32_t rule = 0;          // index into CheckedProgram::rules
  int64_t customer = 0;
  std::string_view rule_name;  // qualified
  std::string_view target;     // message / coupon / offer / tag name, or points in decimal digits
  std::string_view dedupe;     // the dedupe value: "once", the `once per` key, or the date for `every`
  uint32_t action_index = 0;   // position among the rule's actions
  lang::ActionKind kind = lang::ActionKind::Send;
  Status status = Status::Sent;
  std::optional<lang::Channel> channel;
  bool transactional = false;  // a send of a `transactional` message (needs no opt-in)
  double cost = 0;             // message cost (for simulations)
  std::shared_ptr<const ActionPayload> payload;  // null: no subject, no SKUs

  // The rendered subject of a send ("" when none).
  const std::string& subject() const;
  // A send's recommended SKUs (empty when none).
  const std::vector<std::string>& recommended() const;
};

// {"date":"2026-11-23","customer":42,"rule":"check_in","action":"send","target":"any_concerns","channel":"line","status":"sent"}
std::string to_json_line(const ActionOut& a);

void append_json_string(std::string& out, std::string_view s);

// A readable label for summaries: "send welcome via email", "coupon birthday_10", "tag vip",
// "points" (or "points (300)" with `points_amount`).
std::string action_label(const ActionOut& a, bool points_amount);

}  // namespace crm::engine
