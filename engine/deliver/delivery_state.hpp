// The delivery state of the outbox's rows, kept in the store's `deliveries` table (created by
// crm deliver when absent): pending, delivered, failed (with the last error and the attempt
// count) or blocked_consent. A row of the outbox without a deliveries row is pending.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crm::engine {
class SqlSession;
}

namespace crm::deliver {

// One outbox row due for delivery, with what the message needs from its customer.
struct OutboxItem {
  int64_t id = 0;
  std::string run_date;
  int64_t customer_id = 0;
  std::string rule, action, target;
  std::optional<std::string> channel;
  std::string payload;      // JSON text
  std::string idem_key;
  int attempts = 0;         // attempts already made
  bool customer_found = false;
  std::optional<bool> opt_in;               // the customer's opt-in for the row's channel, now
  nlohmann::ordered_json recipient;         // {"id": ..., "name": ..., "email": ...}
};

struct StatusCount {
  std::string status;
  int64_t rows = 0;
};

struct FailedRow {
  int64_t outbox_id = 0;
  std::string idem_key, channel;
  int attempts = 0;
  std::string last_error;
};

// Reads and writes the delivery state. With `read_only`, a missing table is stood in for by an
// empty TEMP table, so --dry-run and --status write nothing to the store file.
class DeliveryState {
 public:
  DeliveryState(engine::SqlSession& db, bool read_only, std::vector<std::string> customer_fields);

  // The channels of the rows still pending (null channel as ""), in a stable order.
  std::vector<std::string> pending_channels();
  // Up to `limit` pending rows of `channel` ("" = none) with an id above `after_id` whose next
  // attempt is due at `now_iso`, oldest first, joined with the customer's fields and opt-in.
  std::vector<OutboxItem> fetch_due(const std::string& channel, int64_t after_id, size_t limit, const std::string& now_iso);
  // Pending rows of `channel`, due or not (for rows that have no webhook).
  int64_t count_pending(const std::string& channel);

  // Each of these writes its rows in one transaction (committed on return).
  void mark_delivered(const std::vector<const OutboxItem*>& rows, int attempts, const std::string& webhook,
                      const std::string& now_iso);
  void mark_failed(const std::vector<const OutboxItem*>& rows, int attempts, const std::string& error,
                   const std::string& webhook);
  void mark_retry(const std::vector<const OutboxItem*>& rows, int attempts, const std::string& error,
                  const std::string& next_attempt_iso, const std::string& webhook);
  void mark_blocked_consent(const std::vector<const OutboxItem*>& rows, const std::string& reason);
  // failed -> pending with attempts 0; returns how many.
  int64_t requeue_failed();

  // Rows per status (pending includes outbox rows never attempted), in the order
  // pending, delivered, failed, blocked_consent.
  std::vector<StatusCount> counts();
  std::vector<FailedRow> failed_rows(size_t limit);

 private:
  void upsert(const std::vector<const OutboxItem*>& rows, const char* status, int attempts,
              const std::optional<std::string>& error, const std::optional<std::string>& next_attempt,
              const std::optional<std::string>& delivered_at, const std::optional<std::string>& webhook,
              bool keep_attempts);
  engine::SqlSession& db_;
  std::vector<std::string> customer_fields_;  // columns that exist in customers
  bool has_customers_ = false;
};

// The current UTC time as "2026-11-24T09:30:00.123Z" (lexicographic order = time order), and
// `seconds` from now.
std::string utc_iso_now(double seconds_from_now = 0);

}  // namespace crm::deliver
