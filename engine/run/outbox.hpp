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

// The same rows made a chunk at a time as the store asks for them (a day's run: the rows of
// 600k actions would take ~300 MiB at once), and the tag changes, made at once (they are few).
class ActionOutboxRows final : public OutboxRows {
 public:
  explicit ActionOutboxRows(const std::vector<ActionOut>& actions);
  size_t count() const override { return count_; }
  const std::vector<OutboxRow>* next(size_t max) override;
  const std::vector<TagChange>& tags() const { return tags_; }

 private:
  const std::vector<ActionOut>& actions_;
  size_t count_ = 0, at_ = 0;  // rows in all; the next action to look at
  std::vector<OutboxRow> chunk_;
  std::vector<TagChange> tags_;
};

}  // namespace crm::engine
