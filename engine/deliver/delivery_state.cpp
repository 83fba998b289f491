// The `deliveries` table of crm deliver: what is due (outbox rows not yet delivered, joined with
// the customer's fields and current opt-in), and the status changes, one transaction per batch.
#include "engine/deliver/delivery_state.hpp"

#include "engine/store/sql_session.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>

namespace crm::deliver {

namespace {

// outbox_id is outbox.id. Times are UTC ISO-8601 with milliseconds, so they compare as text.
// {0}: "TEMP " for the stand-in of a read-only run; {1}: the integer type of outbox ids.
constexpr const char* kCreate = R"sql(
CREATE {0}TABLE IF NOT EXISTS deliveries (
  outbox_id {1} PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'blocked_consent')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TEXT,
  delivered_at TEXT,
  webhook TEXT))sql";

std::vector<std::string> columns_of(engine::SqlSession& db, const char* table) {
  std::vector<std::string> out;
  for (auto& [name, type] : db.columns(table)) out.push_back(name);
  return out;
}

// The engine's reading of an opt-in cell (load_facts.cpp: cell_bool): 1/0, true/false, t/f,
// yes/no, y/n; anything else is null (no consent). PostgreSQL booleans come as 1/0.
std::optional<bool> opt_in_value(const engine::SqlRow& r, int c) {
  switch (r.type(c)) {
    case engine::SqlValue::Type::Null: return std::nullopt;
    case engine::SqlValue::Type::Int: {
      int64_t v = r.i64(c);
      if (v == 0 || v == 1) return v == 1;
      return std::nullopt;
    }
    case engine::SqlValue::Type::Real: {
      double v = r.f64(c);
      if (v == 0 || v == 1) return v == 1;
      return std::nullopt;
    }
    case engine::SqlValue::Type::Text: break;
  }
  std::string s = r.text(c);
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "1" || s == "true" || s == "t" || s == "yes" || s == "y") return true;
  if (s == "0" || s == "false" || s == "f" || s == "no" || s == "n") return false;
  return std::nullopt;
}

nlohmann::ordered_json json_value(const engine::SqlRow& r, int c) {
  switch (r.type(c)) {
    case engine::SqlValue::Type::Null: return nullptr;
    case engine::SqlValue::Type::Int: return r.i64(c);
    case engine::SqlValue::Type::Real: return r.f64(c);
    case engine::SqlValue::Type::Text: break;
  }
  return r.text(c);
}

engine::SqlValue opt(const std::optional<std::string>& v) { return v ? engine::SqlValue(*v) : engine::SqlValue(); }

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

DeliveryState::DeliveryState(engine::SqlSession& db, bool read_only, std::vector<std::string> customer_fields) : db_(db) {
  const char* id_type = db_.postgres() ? "bigint" : "INTEGER";
  if (!read_only) {
    db_.exec(fmt::format(kCreate, "", id_type));
    db_.exec("CREATE INDEX IF NOT EXISTS deliveries_by_status ON deliveries (status)");
    // SQLite: a commit per batch need not wait for the disk: in WAL mode NORMAL survives a crash
    // of the process (kill -9); a power cut may lose the last marks, and losing a `delivered`
    // mark only repeats a post with the same idem_key, never loses one (at-least-once holds).
    if (!db_.postgres()) db_.exec("PRAGMA synchronous = NORMAL");
  } else if (!db_.table_exists("deliveries")) {
    db_.exec(fmt::format(kCreate, "TEMP ", id_type));  // stands in for the table; nothing is written
  }
  has_customers_ = db_.table_exists("customers");
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
  std::vector<std::string> out;
  db_.query("SELECT DISTINCT COALESCE(o.channel, '') FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
            "WHERE d.outbox_id IS NULL OR d.status = 'pending'",
            [&](const engine::SqlRow& r) { out.push_back(r.text(0)); });
  std::sort(out.begin(), out.end());  // bytewise on both backends
  return out;
}

std::vector<OutboxItem> DeliveryState::fetch_due(const std::string& channel, int64_t after_id, size_t limit,
                                                 const std::string& now_iso) {
  std::string opt_in = "NULL";
  if (has_customers_ && !channel.empty()) {
    auto cols = columns_of(db_, "customers");
    std::string col = channel + "_opt_in";
    if (std::find(cols.begin(), cols.end(), col) != cols.end()) opt_in = "c." + engine::sql_ident(col);
  }
  std::string fields;
  for (const auto& f : customer_fields_) fields += ", c." + engine::sql_ident(f);
  std::string sql = fmt::format(
      "SELECT o.id, o.run_date, o.customer_id, o.rule, o.action, o.target, o.channel, o.payload, o.idem_key, "
      "COALESCE(d.attempts, 0), {}, {}{} FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id {} "
      "WHERE o.id > $1 AND o.channel IS NOT DISTINCT FROM $2 AND (d.outbox_id IS NULL OR (d.status = 'pending' AND "
      "(d.next_attempt_at IS NULL OR d.next_attempt_at <= $3))) ORDER BY o.id LIMIT $4",
      has_customers_ ? "c.id IS NOT NULL" : "0", opt_in, has_customers_ ? fields : "",
      has_customers_ ? "LEFT JOIN customers c ON c.id = o.customer_id" : "");
  std::vector<OutboxItem> out;
  db_.query(sql, {after_id, channel.empty() ? engine::SqlValue() : engine::SqlValue(channel), now_iso, static_cast<int64_t>(limit)},
            [&](const engine::SqlRow& q) {
              OutboxItem& it = out.emplace_back();
              it.id = q.i64(0);
              it.run_date = q.text(1);
              it.customer_id = q.i64(2);
              it.rule = q.text(3);
              it.action = q.text(4);
              it.target = q.text(5);
              if (!q.null(6)) it.channel = q.text(6);
              it.payload = q.null(7) ? "{}" : q.text(7);
              it.idem_key = q.text(8);
              it.attempts = static_cast<int>(q.i64(9));
              it.customer_found = q.i64(10) != 0;
              it.opt_in = opt_in_value(q, 11);
              it.recipient = nlohmann::ordered_json::object();
              it.recipient["id"] = it.customer_id;
              if (has_customers_)
                for (size_t k = 0; k < customer_fields_.size(); ++k)
                  it.recipient[customer_fields_[k]] = it.customer_found ? json_value(q, static_cast<int>(12 + k)) : nullptr;
            });
  return out;
}

int64_t DeliveryState::count_pending(const std::string& channel) {
  return db_.scalar("SELECT count(*) FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
                    "WHERE o.channel IS NOT DISTINCT FROM $1 AND (d.outbox_id IS NULL OR d.status = 'pending')",
                    {channel.empty() ? engine::SqlValue() : engine::SqlValue(channel)});
}

void DeliveryState::upsert(const std::vector<const OutboxItem*>& rows, const char* status, int attempts,
                           const std::optional<std::string>& error, const std::optional<std::string>& next_attempt,
                           const std::optional<std::string>& delivered_at, const std::optional<std::string>& webhook,
                           bool keep_attempts) {
  if (rows.empty()) return;
  std::string sql = std::string(
      "INSERT INTO deliveries (outbox_id, status, attempts, last_error, next_attempt_at, delivered_at, webhook) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (outbox_id) DO UPDATE SET status = excluded.status, ") +
      (keep_attempts ? "" : "attempts = excluded.attempts, ") +
      "last_error = COALESCE(excluded.last_error, deliveries.last_error), next_attempt_at = excluded.next_attempt_at, "
      "delivered_at = excluded.delivered_at, webhook = COALESCE(excluded.webhook, deliveries.webhook)";
  db_.transaction([&] {
    for (const OutboxItem* r : rows)
      db_.exec(sql, {r->id, status, keep_attempts ? r->attempts : attempts, opt(error), opt(next_attempt), opt(delivered_at),
                     opt(webhook)});
  });
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
  int64_t n = 0;
  db_.transaction([&] {
    n = db_.exec("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL WHERE status = 'failed'");
  });
  return n;
}

std::vector<StatusCount> DeliveryState::counts() {
  std::vector<StatusCount> out = {{"pending", 0}, {"delivered", 0}, {"failed", 0}, {"blocked_consent", 0}};
  db_.query("SELECT COALESCE(d.status, 'pending'), count(*) FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
            "GROUP BY 1 ORDER BY 1",
            [&](const engine::SqlRow& q) {
              std::string s = q.text(0);
              auto it = std::find_if(out.begin(), out.end(), [&](const StatusCount& c) { return c.status == s; });
              if (it == out.end()) it = out.insert(out.end(), {s, 0});
              it->rows = q.i64(1);
            });
  return out;
}

std::vector<FailedRow> DeliveryState::failed_rows(size_t limit) {
  std::vector<FailedRow> out;
  db_.query("SELECT o.id, o.idem_key, COALESCE(o.channel, '-'), d.attempts, COALESCE(d.last_error, '') "
            "FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.status = 'failed' ORDER BY o.id LIMIT $1",
            {static_cast<int64_t>(limit)}, [&](const engine::SqlRow& q) {
              out.push_back({q.i64(0), q.text(1), q.text(2), static_cast<int>(q.i64(3)), q.text(4)});
            });
  return out;
}

}  // namespace crm::deliver
