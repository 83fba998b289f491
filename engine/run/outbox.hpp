// The outbox (SPEC §5 `outbox`): what a run, a real-time event and the embedding API write for
// passed actions (rows, payloads, idempotency keys), and the history read back from it. The
// SQLite write itself is the store's (Store::write_actions).
#pragma once
#include <string>
#include <vector>

#include "engine/run/action.hpp"
#include "engine/store/store.hpp"

namespace crm::engine {

// The outbox's idem_key: rule|customer|dedupe|action index. Running the same date twice
// produces the same keys, so INSERT OR IGNORE writes nothing new.
std::string idem_key(const ActionOut& a);

// The dedupe value inside an idem_key (between the second and the last '|'; "" if malformed).
std::string dedupe_of_idem_key(const std::string& key);

// The outbox payload: a JSON object with the dedupe value and, for sends, subject, cost and
// "transactional": true for a transactional message (crm deliver re-checks consent of the others).
std::string payload_json(const ActionOut& a);

// The outbox rows and tag changes of the passed actions among `actions` (what a real run, a
// real-time event and the embedding API write with Store::write_actions).
void outbox_writes(const std::vector<ActionOut>& actions, std::vector<OutboxRow>& rows, std::vector<TagChange>& tags);

}  // namespace crm::engine
