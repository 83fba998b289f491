// The JSON a webhook receives for outbox rows: one object per row with SPEC §7's action keys
// (date, customer, rule, action, target, channel, status) plus outbox_id, idem_key, payload and
// recipient (the customer's fields); a POST body is a JSON array of them.
#pragma once
#include <string>
#include <vector>

#include "engine/deliver/delivery_state.hpp"

namespace crm::deliver {

// {"date":"2026-11-24","customer":42,"rule":"check_in","action":"send","target":"any_concerns",
//  "channel":"line","status":"sent","outbox_id":17,"idem_key":"check_in|42|once|0",
//  "payload":{"dedupe":"once"},"recipient":{"id":42,"name":"...","email":"..."}}
std::string row_json(const OutboxItem& row);
// "[" row_json, ... "]"
std::string batch_json(const std::vector<const OutboxItem*>& rows);

// Whether the row is a send of a `transactional` message (the run wrote "transactional": true
// into its payload): such sends need no opt-in. Rows written before the flag existed count as
// marketing sends, so their consent is checked.
bool is_transactional(const OutboxItem& row);
// Whether the row may be posted now: not a send, a transactional send, or the customer's opt-in
// for the channel is true at this moment.
bool consent_allows(const OutboxItem& row);

}  // namespace crm::deliver
