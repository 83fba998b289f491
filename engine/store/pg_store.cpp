// The PostgreSQL store (pg_store.hpp): opening with clear errors, the advisory run lock, the runs
// and run_shards tables, and one day's writes (COPY into temporary tables, then one INSERT ...
// ON CONFLICT (idem_hash) DO NOTHING) in the transaction that records the completed day.
#include "engine/store/pg_store.hpp"

#include "engine/store/idem_hash.hpp"
#include "engine/store/model_rows.hpp"

#include <map>
#include <thread>

namespace crm::engine {

namespace {

std::string init_hint() { return "create or migrate it with: crm init --db URI"; }

// The advisory lock keys: (kLockClass, hash of the schema) for whole runs, (kShardClass, hash of
// schema and shard) for a shard's run.
constexpr const char* kLockClass = "1668443393";
constexpr const char* kShardClass = "1668443394";
constexpr std::chrono::milliseconds kLockPoll{50};
// Outbox rows asked of the source (OutboxRows) per COPY into the temporary table.
constexpr size_t kOutboxChunk = 32'000;

}  // namespace

PgStore::PgStore(pg::Conn conn) : conn_(std::move(conn)) {}
PgStore::~PgStore() = default;

std::unique_ptr<PgStore> PgStore::open(const std::string& uri, bool create_if_missing) {
  auto store = std::make_unique<PgStore>(pg::Conn(uri));
  pg::Conn& c = store->conn_;
  int version = pg_read_schema_version(c);
  if (version == 0 && create_if_missing) {
    pg_ensure_schema(c);
    version = kSchemaVersion;
  }
  if (version == 0)
    throw StoreError("'" + c.location() + "' is not a crm store: it has no meta table (" + init_hint() + ")");
  if (version < kSchemaVersion)
    throw StoreError("the store '" + c.location() + "' has schema version " + std::to_string(version) +
                     ", older than this crm's (" + std::to_string(kSchemaVersion) + "); " + init_hint());
  if (version > kSchemaVersion)
    throw StoreError("the store '" + c.location() + "' has schema version " + std::to_string(version) +
                     ", newer than this crm supports (" + std::to_string(kSchemaVersion) + "); upgrade crm");
  return store;
}

int PgStore::init(const std::string& uri) {
  pg::Conn c(uri);
  return pg_ensure_schema(c);
}

std::optional<std::string> PgStore::meta_timezone() {
  pg::Result r = conn_.exec("SELECT value FROM meta WHERE key = 'timezone'");
  if (r.rows() == 0 || r.null(0, 0) || r.text(0, 0).empty()) return std::nullopt;
  return r.text(0, 0);
}

void PgStore::set_meta_value(const std::string& key, const std::string& value) {
  conn_.exec("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
             {key, value});
}

std::vector<std::pair<int64_t, std::string>> PgStore::order_coupons() {
  std::vector<std::pair<int64_t, std::string>> out;
  bool has = false;
  for (const auto& [name, type] : sql().columns("orders")) has |= name == "coupon";
  if (!has) return out;
  sql().query("SELECT id, coupon::text FROM orders WHERE coupon IS NOT NULL AND coupon::text <> '' ORDER BY id",
              [&](const SqlRow& r) {
                if (r.type(0) == SqlValue::Type::Int) out.emplace_back(r.i64(0), r.text(1));
              });
  return out;
}

void PgStore::set_meta_timezone(const std::string& tz_name) {
  conn_.exec("INSERT INTO meta (key, value) VALUES ('timezone', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
             {tz_name});
}

int64_t PgStore::customer_count() {
  return std::stoll(conn_.exec("SELECT count(*) FROM customers").text(0, 0));
}

// --- the run lock: session advisory locks on a connection of their own, so the server releases
// them when the process ends, even by kill -9 (the connection closes).

RunLock PgStore::lock_runs(std::chrono::milliseconds wait) { return lock_runs(wait, std::nullopt); }

RunLock PgStore::lock_runs(std::chrono::milliseconds wait, const std::optional<Shard>& shard) {
  auto conn = std::make_shared<pg::Conn>(conn_.uri());
  std::string whole = shard ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock";
  std::string sql = "SELECT " + whole + "(" + kLockClass + ", hashtext(current_schema()))";
  if (shard)
    sql += " AND pg_try_advisory_lock(" + std::string(kShardClass) + ", hashtext(current_schema() || ' ' || $1))";
  std::vector<std::optional<std::string>> params;
  if (shard) params.push_back(shard->name());
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    conn->exec("SELECT pg_advisory_unlock_all()");  // a half-taken pair from the last attempt
    if (conn->exec(sql, params).text(0, 0) == "t") break;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder;
      pg::Result h = conn->exec(
          "SELECT string_agg(DISTINCT a.pid::text || coalesce(' from ' || a.client_addr::text, ''), ', ') "
          "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
          "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint IN (" +
          std::string(kLockClass) + ", " + kShardClass + ") AND l.pid <> pg_backend_pid()");
      if (h.rows() && !h.null(0, 0)) holder = h.text(0, 0);
      throw StoreError("another crm run" + std::string(shard ? " of shard " + shard->name() + " or of the whole day" : "") +
                       " is using the store '" + location() + "'" +
                       (holder.empty() ? "" : " (PostgreSQL backend " + holder + ")") + "; waited " +
                       std::to_string(wait.count() / 1000.0).substr(0, 4) +
                       " s for it to finish. Nothing was written; try again when it is done.");
    }
    std::this_thread::sleep_for(kLockPoll);
  }
  return RunLock([conn]() mutable { conn.reset(); });  // closing the session releases its locks
}

RunLock PgStore::advisory_lock(int64_t lock_class, std::chrono::milliseconds wait, const std::string& busy) {
  auto conn = std::make_shared<pg::Conn>(conn_.uri());
  std::string cls = std::to_string(lock_class);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (conn->exec("SELECT pg_try_advisory_lock(" + cls + ", hashtext(current_schema()))").text(0, 0) != "t") {
    if (std::chrono::steady_clock::now() >= deadline) {
      pg::Result h = conn->exec(
          "SELECT string_agg(DISTINCT l.pid::text, ', ') FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
          "AND l.classid::bigint = " + cls + " AND l.pid <> pg_backend_pid()");
      std::string holder = h.rows() && !h.null(0, 0) ? " (PostgreSQL backend " + h.text(0, 0) + ")" : "";
      throw StoreError(busy + holder + "; nothing was done. Try again when it has finished.");
    }
    std::this_thread::sleep_for(kLockPoll);
  }
  return RunLock([conn]() mutable { conn.reset(); });
}

SqlSession& PgStore::sql() {
  if (!session_) session_ = std::make_unique<PgSession>(conn_);
  return *session_;
}

bool PgStore::has_lifetime_models() { return has_model_rows(sql()); }

// --- runs

namespace {
std::optional<Days> day_or_null(const pg::Result& r, const char* table) {
  if (r.rows() == 0 || r.null(0, 0)) return std::nullopt;
  auto d = parse_date(r.text(0, 0));
  if (!d) throw StoreError(std::string("the ") + table + " table holds a bad run_date '" + r.text(0, 0) + "'");
  return d;
}
}  // namespace

std::optional<Days> PgStore::last_completed_run() {
  return day_or_null(conn_.exec("SELECT max(run_date)::text FROM runs WHERE status = 'completed'"), "runs");
}

std::optional<Days> PgStore::last_completed_run(const std::optional<Shard>& shard) {
  auto whole = last_completed_run();
  if (!shard) return whole;
  auto d = day_or_null(conn_.exec("SELECT max(run_date)::text FROM run_shards WHERE status = 'completed' "
                                  "AND shards = $1 AND shard = $2",
                                  {std::to_string(shard->count), std::to_string(shard->index)}),
                       "run_shards");
  if (!d) return whole;
  return whole && *whole > *d ? whole : d;
}

std::vector<ShardState> PgStore::shard_states(Days day) {
  std::vector<ShardState> out;
  pg::Result r = conn_.exec("SELECT shards, shard, status FROM run_shards WHERE run_date = $1 ORDER BY shards, shard",
                            {format_date(day)});
  for (int i = 0; i < r.rows(); ++i) {
    int n = std::stoi(r.text(i, 0));
    if (out.empty() || out.back().count != n) out.push_back({n, {}});
    if (r.text(i, 2) == "completed") out.back().completed.push_back(std::stoi(r.text(i, 1)));
  }
  return out;
}

void PgStore::begin_run(Days day) {
  conn_.exec("INSERT INTO runs (run_date, started_at, completed_at, status) VALUES ($1, now(), NULL, 'running') "
             "ON CONFLICT (run_date) DO UPDATE SET started_at = excluded.started_at, completed_at = NULL, status = 'running'",
             {format_date(day)});
}

namespace {
void mark_completed(pg::Conn& c, Days day) {
  c.exec("INSERT INTO runs (run_date, started_at, completed_at, status) VALUES ($1, now(), now(), 'completed') "
         "ON CONFLICT (run_date) DO UPDATE SET completed_at = excluded.completed_at, status = 'completed'",
         {format_date(day)});
}

// Runs `body` in one transaction (rolled back on any failure).
template <class F>
void in_transaction(pg::Conn& c, F body) {
  c.exec("BEGIN");
  try {
    body();
    c.exec("COMMIT");
  } catch (...) {
    c.try_exec("ROLLBACK");
    throw;
  }
}
}  // namespace

void PgStore::complete_run(Days day) { mark_completed(conn_, day); }

// --- one day's writes

// After the day's INSERT: the rows whose hash is held by another key (a collision; see
// idem_hash.hpp) go in one by one at the first free slot of their probe sequence, unless their
// key is already further along it (a rerun). Returns the rows inserted here.
size_t PgStore::resolve_collisions(const std::string& date) {
  pg::Result odd = conn_.exec(
      "SELECT i.seq, i.idem_key, i.idem_hash FROM crm_outbox_in i JOIN outbox o ON o.idem_hash = i.idem_hash "
      "WHERE o.idem_key IS DISTINCT FROM i.idem_key ORDER BY i.seq");
  size_t inserted = 0;
  for (int k = 0; k < odd.rows(); ++k) {
    std::string key = odd.text(k, 1);
    for (int64_t slot = next_idem_slot(std::stoll(odd.text(k, 2)));; slot = next_idem_slot(slot)) {
      pg::Result at = conn_.exec("SELECT idem_key FROM outbox WHERE idem_hash = $1", {std::to_string(slot)});
      if (at.rows() > 0 && !at.null(0, 0) && at.text(0, 0) == key) break;
      if (at.rows() > 0) continue;
      pg::Result one = conn_.exec(
          "INSERT INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, idem_hash, created_at) "
          "SELECT $1::date, customer_id, rule, action, target, channel, payload::jsonb, idem_key, $2::bigint, now() "
          "FROM crm_outbox_in WHERE seq = $3",
          {date, std::to_string(slot), odd.text(k, 0)});
      inserted += static_cast<size_t>(one.affected());
      break;
    }
  }
  return inserted;
}

void PgStore::apply_writes(Days day, OutboxRows* rows, const std::vector<TagChange>& tags, size_t& inserted) {
  std::string date = format_date(day);
  if (rows && rows->count() > 0) {
    conn_.exec("CREATE TEMP TABLE IF NOT EXISTS crm_outbox_in (seq bigint, customer_id bigint, rule text, action text, "
               "target text, channel text, payload text, idem_key text, idem_hash bigint) ON COMMIT DELETE ROWS");
    // The rows go into the temporary table a chunk at a time (one COPY each, numbered on by
    // seq), so only a chunk's text is in memory; one INSERT then takes them all.
    std::string data;
    size_t seq = 0;
    while (const std::vector<OutboxRow>* chunk = rows->next(kOutboxChunk)) {
      data.clear();
      data.reserve(chunk->size() * 160);
      for (const OutboxRow& r : *chunk) {
        data += std::to_string(seq++);
        data += '\t';
        data += std::to_string(r.customer_id);
        for (const std::string* v : {&r.rule, &r.action, &r.target}) {
          data += '\t';
          pg::copy_escape(data, *v);
        }
        data += '\t';
        if (r.channel) pg::copy_escape(data, *r.channel);
        else data += "\\N";
        data += '\t';
        pg::copy_escape(data, r.payload.empty() ? std::string_view("{}") : std::string_view(r.payload));
        data += '\t';
        pg::copy_escape(data, r.idem_key);
        data += '\t';
        data += std::to_string(idem_hash(r.idem_key));
        data += '\n';
      }
      conn_.copy_in("COPY crm_outbox_in FROM STDIN", data);
    }
    std::string().swap(data);
    pg::Result ins = conn_.exec(
        "INSERT INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, idem_hash, created_at) "
        "SELECT $1::date, customer_id, rule, action, target, channel, payload::jsonb, idem_key, idem_hash, now() "
        // Only rows that are new (the first of a key): a conflicting row would still take an id
        // from the identity sequence, and ids must follow SQLite's (no gaps after a rerun). A key
        // is looked up through its hash's index; one moved on by a collision is found by
        // resolve_collisions.
        "FROM (SELECT DISTINCT ON (idem_key) * FROM crm_outbox_in i WHERE NOT EXISTS "
        "(SELECT 1 FROM outbox o WHERE o.idem_hash = i.idem_hash AND o.idem_key = i.idem_key) ORDER BY idem_key, seq) n "
        "ORDER BY seq ON CONFLICT (idem_hash) DO NOTHING",
        {date});
    inserted = static_cast<size_t>(ins.affected());
    if (inserted < seq) inserted += resolve_collisions(date);
  }
  if (!tags.empty()) {
    // In order, as SQLite applies them one by one: the last change of a (customer, tag) wins;
    // a tag set after being removed the same day is set anew (set_at = day).
    std::map<std::pair<int64_t, std::string>, std::pair<bool, bool>> last;  // (removed at some point, final set)
    for (const TagChange& t : tags) {
      auto& st = last[{t.customer_id, t.tag}];
      if (!t.set) st.first = true;
      st.second = t.set;
    }
    conn_.exec("CREATE TEMP TABLE IF NOT EXISTS crm_tags_in (customer_id bigint, tag text, op text) ON COMMIT DELETE ROWS");
    std::string data;
    for (const auto& entry : last) {
      const auto& key = entry.first;  // clang before 16 cannot capture a structured binding
      const auto& st = entry.second;
      auto line = [&](const char* op) {
        data += std::to_string(key.first);
        data += '\t';
        pg::copy_escape(data, key.second);
        data += '\t';
        data += op;
        data += '\n';
      };
      if (st.first) line("d");
      if (st.second) line("i");
    }
    conn_.copy_in("COPY crm_tags_in FROM STDIN", data);
    conn_.exec("DELETE FROM tags t USING crm_tags_in i WHERE i.op = 'd' AND t.customer_id = i.customer_id AND t.tag = i.tag");
    conn_.exec("INSERT INTO tags (customer_id, tag, set_at) SELECT customer_id, tag, $1::date FROM crm_tags_in "
               "WHERE op = 'i' ON CONFLICT (customer_id, tag) DO NOTHING",
               {date});
  }
}

size_t PgStore::write_actions(Days day, OutboxRows& rows, const std::vector<TagChange>& tags, bool complete_day) {
  size_t inserted = 0;
  in_transaction(conn_, [&] {
    apply_writes(day, &rows, tags, inserted);
    if (complete_day) mark_completed(conn_, day);
  });
  return inserted;
}

size_t PgStore::write_shard_actions(Days day, const Shard& shard, OutboxRows& rows, const std::vector<TagChange>& tags) {
  size_t inserted = 0;
  in_transaction(conn_, [&] {
    apply_writes(day, &rows, tags, inserted);
    std::string date = format_date(day), n = std::to_string(shard.count);
    // Shards finishing together take turns here, so the last one sees the others' rows.
    conn_.exec("SELECT pg_advisory_xact_lock(" + std::string(kShardClass) + ", hashtext(current_schema() || ' day ' || $1))",
               {date});
    conn_.exec("INSERT INTO run_shards (run_date, shards, shard, started_at, completed_at, status) "
               "VALUES ($1, $2, $3, now(), now(), 'completed') ON CONFLICT (run_date, shards, shard) DO UPDATE "
               "SET completed_at = excluded.completed_at, status = 'completed'",
               {date, n, std::to_string(shard.index)});
    pg::Result done = conn_.exec(
        "SELECT count(*) FROM run_shards WHERE run_date = $1 AND shards = $2 AND status = 'completed'", {date, n});
    if (done.text(0, 0) == n) mark_completed(conn_, day);
  });
  return inserted;
}

void PgStore::set_tags(Days day, const std::vector<TagChange>& tags) {
  size_t ignored = 0;
  in_transaction(conn_, [&] { apply_writes(day, nullptr, tags, ignored); });
}

}  // namespace crm::engine
