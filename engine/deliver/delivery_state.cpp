// The `deliveries` table of crm deliver: what is due (outbox rows not yet delivered, joined with
// the customer's fields and current opt-in), and the status changes, one transaction per batch.
#include "engine/deliver/delivery_state.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>

namespace crm::deliver {

namespace {

// outbox_id is outbox.id. Times are UTC ISO-8601 with milliseconds, so they compare as text.
constexpr const char* kCreate = R"sql(
CREATE TABLE IF NOT EXISTS {}deliveries (
  outbox_id INTEGER PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'blocked_consent')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TEXT,
  delivered_at TEXT,
  webhook TEXT);
CREATE INDEX IF NOT EXISTS {}deliveries_by_status ON deliveries (status);
)sql";

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool table_exists(SQLite::Database& db, const char* schema, const char* name) {
  SQLite::Statement q(db, fmt::format("SELECT 1 FROM {}.sqlite_master WHERE type = 'table' AND name = ?", schema));
  q.bind(1, name);
  return q.executeStep();
}

std::vector<std::string> columns_of(SQLite::Database& db, const char* table) {
  std::vector<std::string> out;
  SQLite::Statement q(db, fmt::format("PRAGMA main.table_info({})", quote_ident(table)));
  while (q.executeStep()) out.push_back(q.getColumn(1).getString());
  return out;
}

// The engine's reading of an opt-in cell (load_facts.cpp: cell_bool): 1/0, true/false, t/f,
// yes/no, y/n; anything else is null (no consent).
std::optional<bool> opt_in_value(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  if (c.isInteger()) {
    int64_t v = c.getInt64();
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  if (c.isFloat()) {
    double v = c.getDouble();
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  std::string s = c.getString();
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "1" || s == "true" || s == "t" || s == "yes" || s == "y") return true;
  if (s == "0" || s == "false" || s == "f" || s == "no" || s == "n") return false;
  return std::nullopt;
}

nlohmann::ordered_json json_value(const SQLite::Column& c) {
  if (c.isNull()) return nullptr;
  if (c.isInteger()) return c.getInt64();
  if (c.isFloat()) return c.getDouble();
  return c.getString();
}

void bind_opt(SQLite::Statement& q, int i, const std::optional<std::string>& v) {
  if (v) q.bind(i, *v);
  else q.bind(i);
}

}  // namespace

std::string utc_iso_now(double seconds_from_now) {
  using namespace std::chrono;
  auto t = system_clock::now() + duration_cast<system_clock::duration>(duration<double>(seconds_from_now));
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

DeliveryState::DeliveryState(SQLite::Database& db, bool read_only, std::vector<std::string> customer_fields) : db_(db) {
  if (!read_only) {
    db_.exec(fmt::format(kCreate, "", ""));
    // A commit per batch need not wait for the disk: in WAL mode NORMAL survives a crash of the
    // process (kill -9); a power cut may lose the last marks, and losing a `delivered` mark only
    // repeats a post with the same idem_key, never loses one (at-least-once holds either way).
    db_.exec("PRAGMA synchronous = NORMAL");
  } else if (!table_exists(db_, "main", "deliveries") && !table_exists(db_, "temp", "deliveries")) {
    db_.exec(fmt::format(kCreate, "temp.", "temp."));  // stands in for the table; nothing is written
  }
  has_customers_ = table_exists(db_, "main", "customers");
  std::vector<std::string> have = has_customers_ ? columns_of(db_, "customers") : std::vector<std::string>{};
  for (const auto& f : customer_fields) {
    if (f == "id") continue;  // always sent
    if (std::find(have.begin(), have.end(), f) == have.end())
      throw std::runtime_error(fmt::format("customer_fields names '{}', which the customers table does not have{}", f,
                                           has_customers_ ? "" : " (there is no customers table)"));
    customer_fields_.push_back(f);
  }
}

std::vector<std::string> DeliveryState::pending_channels() {
  SQLite::Statement q(db_, "SELECT DISTINCT COALESCE(o.channel, '') FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
                           "WHERE d.outbox_id IS NULL OR d.status = 'pending' ORDER BY 1");
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

std::vector<OutboxItem> DeliveryState::fetch_due(const std::string& channel, int64_t after_id, size_t limit,
                                                 const std::string& now_iso) {
  std::string opt_in = "NULL";
  if (has_customers_ && !channel.empty()) {
    auto cols = columns_of(db_, "customers");
    std::string col = channel + "_opt_in";
    if (std::find(cols.begin(), cols.end(), col) != cols.end()) opt_in = "c." + quote_ident(col);
  }
  std::string fields;
  for (const auto& f : customer_fields_) fields += ", c." + quote_ident(f);
  std::string sql = fmt::format(
      "SELECT o.id, o.run_date, o.customer_id, o.rule, o.action, o.target, o.channel, o.payload, o.idem_key, "
      "COALESCE(d.attempts, 0), {}, {}{} FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id {} "
      "WHERE o.id > ?1 AND o.channel IS ?2 AND (d.outbox_id IS NULL OR (d.status = 'pending' AND "
      "(d.next_attempt_at IS NULL OR d.next_attempt_at <= ?3))) ORDER BY o.id LIMIT ?4",
      has_customers_ ? "c.id IS NOT NULL" : "0", opt_in, has_customers_ ? fields : "",
      has_customers_ ? "LEFT JOIN customers c ON c.id = o.customer_id" : "");
  SQLite::Statement q(db_, sql);
  q.bind(1, after_id);
  if (channel.empty()) q.bind(2);
  else q.bind(2, channel);
  q.bind(3, now_iso);
  q.bind(4, static_cast<int64_t>(limit));
  std::vector<OutboxItem> out;
  while (q.executeStep()) {
    OutboxItem& it = out.emplace_back();
    it.id = q.getColumn(0).getInt64();
    it.run_date = q.getColumn(1).getString();
    it.customer_id = q.getColumn(2).getInt64();
    it.rule = q.getColumn(3).getString();
    it.action = q.getColumn(4).getString();
    it.target = q.getColumn(5).getString();
    if (!q.getColumn(6).isNull()) it.channel = q.getColumn(6).getString();
    it.payload = q.getColumn(7).isNull() ? "{}" : q.getColumn(7).getString();
    it.idem_key = q.getColumn(8).getString();
    it.attempts = q.getColumn(9).getInt();
    it.customer_found = q.getColumn(10).getInt() != 0;
    it.opt_in = opt_in_value(q.getColumn(11));
    it.recipient = nlohmann::ordered_json::object();
    it.recipient["id"] = it.customer_id;
    if (has_customers_)
      for (size_t k = 0; k < customer_fields_.size(); ++k)
        it.recipient[customer_fields_[k]] = it.customer_found ? json_value(q.getColumn(static_cast<int>(12 + k))) : nullptr;
  }
  return out;
}

int64_t DeliveryState::count_pending(const std::string& channel) {
  SQLite::Statement q(db_, "SELECT count(*) FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
                           "WHERE o.channel IS ?1 AND (d.outbox_id IS NULL OR d.status = 'pending')");
  if (channel.empty()) q.bind(1);
  else q.bind(1, channel);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

void DeliveryState::upsert(const std::vector<const OutboxItem*>& rows, const char* status, int attempts,
                           const std::optional<std::string>& error, const std::optional<std::string>& next_attempt,
                           const std::optional<std::string>& delivered_at, const std::optional<std::string>& webhook,
                           bool keep_attempts) {
  if (rows.empty()) return;
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement q(db_, std::string(
      "INSERT INTO deliveries (outbox_id, status, attempts, last_error, next_attempt_at, delivered_at, webhook) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (outbox_id) DO UPDATE SET status = excluded.status, ") +
      (keep_attempts ? "" : "attempts = excluded.attempts, ") +
      "last_error = COALESCE(excluded.last_error, last_error), next_attempt_at = excluded.next_attempt_at, "
      "delivered_at = excluded.delivered_at, webhook = COALESCE(excluded.webhook, webhook)");
  for (const OutboxItem* r : rows) {
    q.reset();
    q.bind(1, r->id);
    q.bind(2, status);
    q.bind(3, keep_attempts ? r->attempts : attempts);
    bind_opt(q, 4, error);
    bind_opt(q, 5, next_attempt);
    bind_opt(q, 6, delivered_at);
    bind_opt(q, 7, webhook);
    q.exec();
  }
  tx.commit();
}

void DeliveryState::mark_delivered(const std::vector<const OutboxItem*>& rows, int attempts, const std::string& webhook,
                                   const std::string& now_iso) {
  upsert(rows, "delivered", attempts, std::nullopt, std::nullopt, now_iso, webhook, false);
}

void DeliveryState::mark_failed(const std::vector<const OutboxItem*>& rows, int attempts, const std::string& error,
                                const std::string& webhook) {
  upsert(rows, "failed", attempts, error, std::nullopt, std::nullopt, webhook, false);
}

void DeliveryState::mark_retry(const std::vector<const OutboxItem*>& rows, int attempts, const std::string& error,
                               const std::string& next_attempt_iso, const std::string& webhook) {
  upsert(rows, "pending", attempts, error, next_attempt_iso, std::nullopt, webhook, false);
}

void DeliveryState::mark_blocked_consent(const std::vector<const OutboxItem*>& rows, const std::string& reason) {
  upsert(rows, "blocked_consent", 0, reason, std::nullopt, std::nullopt, std::nullopt, true);
}

int64_t DeliveryState::requeue_failed() {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  int n = db_.exec("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL WHERE status = 'failed'");
  tx.commit();
  return n;
}

std::vector<StatusCount> DeliveryState::counts() {
  std::vector<StatusCount> out = {{"pending", 0}, {"delivered", 0}, {"failed", 0}, {"blocked_consent", 0}};
  SQLite::Statement q(db_, "SELECT COALESCE(d.status, 'pending'), count(*) FROM outbox o "
                           "LEFT JOIN deliveries d ON d.outbox_id = o.id GROUP BY 1");
  while (q.executeStep()) {
    std::string s = q.getColumn(0).getString();
    auto it = std::find_if(out.begin(), out.end(), [&](const StatusCount& c) { return c.status == s; });
    if (it == out.end()) it = out.insert(out.end(), {s, 0});
    it->rows = q.getColumn(1).getInt64();
  }
  return out;
}

std::vector<FailedRow> DeliveryState::failed_rows(size_t limit) {
  SQLite::Statement q(db_, "SELECT o.id, o.idem_key, COALESCE(o.channel, '-'), d.attempts, COALESCE(d.last_error, '') "
                           "FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.status = 'failed' "
                           "ORDER BY o.id LIMIT ?");
  q.bind(1, static_cast<int64_t>(limit));
  std::vector<FailedRow> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                   q.getColumn(3).getInt(), q.getColumn(4).getString()});
  return out;
}

}  // namespace crm::deliver
