// The SQLite store: opening (with clear "not a crm store" errors), the run lock, the runs table,
// and one day's outbox rows and tag changes written in one transaction. Loading is load_facts.cpp.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <thread>

#include "engine/store/sqlite_store.hpp"
#include "engine/store/sqlite_store_impl.hpp"

namespace crm::engine {

namespace {

// How often a waiting run retries the lock.
constexpr std::chrono::milliseconds kLockPoll{50};

int count_statement(unsigned type, void* ctx, void* /*stmt*/, void* sql) {
  if (type != SQLITE_TRACE_STMT) return 0;
  const char* text = static_cast<const char*>(sql);
  if (text && text[0] == '-' && text[1] == '-') return 0;  // a trigger's sub-statement
  ++*static_cast<int64_t*>(ctx);
  return 0;
}

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string init_hint(const std::string& path) { return "create or migrate it with: crm init --db " + path; }

}  // namespace

SqliteStore::Impl::Impl(const std::string& path, int flags) : db(path, flags) {
  sqlite3_trace_v2(db.getHandle(), SQLITE_TRACE_STMT, count_statement, &statements);
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
SqliteStore::SqliteStore(SqliteStore&&) noexcept = default;
SqliteStore& SqliteStore::operator=(SqliteStore&&) noexcept = default;
SqliteStore::~SqliteStore() = default;

SQLite::Database& SqliteStore::db() { return impl_->db; }
int64_t SqliteStore::statement_count() const { return impl_->statements; }

SqliteStore SqliteStore::open(const std::string& path, bool create_if_missing) {
  bool memory = path == ":memory:" || path.empty();
  bool exists = memory || std::filesystem::exists(path);
  if (!exists && !create_if_missing) throw StoreError("no store at '" + path + "' (" + init_hint(path) + ")");
  std::unique_ptr<Impl> impl;
  try {
    // NOMUTEX: a Store is used by one thread at a time, and the loader reads millions of cells.
    int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX | (exists ? 0 : SQLite::OPEN_CREATE);
    if (memory) flags |= SQLite::OPEN_CREATE;
    impl = std::make_unique<Impl>(memory ? ":memory:" : path, flags);
    impl->db.setBusyTimeout(kBusyTimeoutMs);
    impl->db.exec("SELECT count(*) FROM sqlite_master");  // fails on a file that is not SQLite
  } catch (const SQLite::Exception& e) {
    throw StoreError("'" + path + "' is not a crm store (" + e.what() + "); a new store is made with: crm init --db FILE");
  }
  impl->db.tryExec("PRAGMA journal_mode = WAL");
  SqliteStore store(std::move(impl), path);
  int version = read_schema_version(store.db());
  if (version == 0 && (!exists || create_if_missing)) {
    ensure_schema(store.db());
    version = kSchemaVersion;
  }
  if (version == 0)
    throw StoreError("'" + path + "' is not a crm store: it has no meta table (" + init_hint(path) + ")");
  if (version < kSchemaVersion)
    throw StoreError("the store '" + path + "' has schema version " + std::to_string(version) + ", older than this crm's (" +
                     std::to_string(kSchemaVersion) + "); " + init_hint(path));
  if (version > kSchemaVersion)
    throw StoreError("the store '" + path + "' has schema version " + std::to_string(version) +
                     ", newer than this crm supports (" + std::to_string(kSchemaVersion) + "); upgrade crm");
  return store;
}

int SqliteStore::init(const std::string& path) {
  bool memory = path == ":memory:";
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.setBusyTimeout(kBusyTimeoutMs);
    db.exec("SELECT count(*) FROM sqlite_master");
    if (!memory) db.tryExec("PRAGMA journal_mode = WAL");
    return ensure_schema(db);
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot initialise '" + path + "' as a crm store: " + e.what());
  }
}

std::optional<std::string> SqliteStore::meta_timezone() {
  SQLite::Statement q(db(), "SELECT value FROM meta WHERE key = 'timezone'");
  if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
  std::string v = q.getColumn(0).getString();
  if (v.empty()) return std::nullopt;
  return v;
}

void SqliteStore::set_meta_timezone(const std::string& tz_name) {
  SQLite::Statement q(db(), "INSERT INTO meta (key, value) VALUES ('timezone', ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  q.bind(1, tz_name);
  q.exec();
}

// --- the run lock

RunLock SqliteStore::lock_runs(std::chrono::milliseconds wait) {
  if (path_ == ":memory:" || path_.empty()) return RunLock();
  std::string lock_path = path_ + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError("cannot open the run lock file '" + lock_path + "'");
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      ::close(fd);
      throw StoreError("another crm run is using the store '" + path_ + "'" +
                       (holder.empty() ? "" : " (process " + holder + ")") + "; waited " +
                       std::to_string(wait.count() / 1000.0).substr(0, 4) +
                       " s for it to finish. Nothing was written; try again when it is done.");
    }
    std::this_thread::sleep_for(kLockPoll);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return RunLock([fd] { ::close(fd); });  // closing the descriptor releases the flock
}

// --- runs

std::optional<Days> SqliteStore::last_completed_run() {
  SQLite::Statement q(db(), "SELECT MAX(run_date) FROM runs WHERE status = 'completed'");
  if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
  auto d = parse_date(q.getColumn(0).getString());
  if (!d) throw StoreError("the runs table holds a bad run_date '" + q.getColumn(0).getString() + "'");
  return d;
}

void SqliteStore::begin_run(Days day) {
  SQLite::Statement q(db(), "INSERT INTO runs (run_date, started_at, completed_at, status) VALUES (?, ?, NULL, 'running') "
                            "ON CONFLICT (run_date) DO UPDATE SET started_at = excluded.started_at, "
                            "completed_at = NULL, status = 'running'");
  q.bind(1, format_date(day));
  q.bind(2, utc_now_iso());
  q.exec();
}

namespace {
void mark_completed(SQLite::Database& db, Days day) {
  SQLite::Statement q(db, "INSERT INTO runs (run_date, started_at, completed_at, status) VALUES (?1, ?2, ?2, 'completed') "
                            "ON CONFLICT (run_date) DO UPDATE SET completed_at = excluded.completed_at, status = 'completed'");
  q.bind(1, format_date(day));
  q.bind(2, utc_now_iso());
  q.exec();
}
}  // namespace

void SqliteStore::complete_run(Days day) { mark_completed(db(), day); }

// --- one day's writes

namespace {

void apply_tags(SQLite::Database& db, Days day, const std::vector<TagChange>& tags) {
  if (tags.empty()) return;
  SQLite::Statement set(db, "INSERT OR IGNORE INTO tags (customer_id, tag, set_at) VALUES (?, ?, ?)");
  SQLite::Statement unset(db, "DELETE FROM tags WHERE customer_id = ? AND tag = ?");
  std::string date = format_date(day);
  for (const TagChange& t : tags) {
    SQLite::Statement& q = t.set ? set : unset;
    q.reset();
    q.bind(1, t.customer_id);
    q.bind(2, t.tag);
    if (t.set) q.bind(3, date);
    q.exec();
  }
}

// The outbox rows of a day go in multi-row INSERTs of kOutboxBatch rows: one statement step per
// batch instead of per row, the day's date and creation time bound once per statement (?1, ?2),
// text bound without copies (SQLITE_STATIC: the rows outlive the step).
constexpr size_t kOutboxBatch = 100;
constexpr int kOutboxRowParams = 7;  // customer_id, rule, action, target, channel, payload, idem_key

std::string outbox_insert_sql(size_t rows) {
  std::string sql =
      "INSERT OR IGNORE INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at) "
      "VALUES ";
  for (size_t r = 0; r < rows; ++r) {
    int p = 3 + static_cast<int>(r) * kOutboxRowParams;
    sql += r ? ",(?1" : "(?1";
    for (int k = 0; k < kOutboxRowParams; ++k) sql += ",?" + std::to_string(p + k);
    sql += ",?2)";
  }
  return sql;
}

// Inserts rows[from, from + n) with `stmt` (prepared for n rows); returns the rows inserted.
size_t insert_outbox_rows(sqlite3* db, sqlite3_stmt* stmt, const std::string& date, const std::string& now,
                          const std::vector<OutboxRow>& rows, size_t from, size_t n) {
  static const char kEmptyPayload[] = "{}";
  auto text = [&](int p, const std::string& s) { sqlite3_bind_text(stmt, p, s.data(), static_cast<int>(s.size()), SQLITE_STATIC); };
  sqlite3_reset(stmt);
  text(1, date);
  text(2, now);
  for (size_t r = 0; r < n; ++r) {
    const OutboxRow& row = rows[from + r];
    int p = 3 + static_cast<int>(r) * kOutboxRowParams;
    sqlite3_bind_int64(stmt, p, row.customer_id);
    text(p + 1, row.rule);
    text(p + 2, row.action);
    text(p + 3, row.target);
    if (row.channel) text(p + 4, *row.channel);
    else sqlite3_bind_null(stmt, p + 4);
    if (row.payload.empty()) sqlite3_bind_text(stmt, p + 5, kEmptyPayload, 2, SQLITE_STATIC);
    else text(p + 5, row.payload);
    text(p + 6, row.idem_key);
  }
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) throw SQLite::Exception(db, rc);
  return static_cast<size_t>(sqlite3_changes(db));
}

struct StmtFree {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFree>;

StmtPtr prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) throw SQLite::Exception(db, rc);
  return StmtPtr(s);
}

size_t write_outbox(sqlite3* db, Days day, const std::vector<OutboxRow>& rows) {
  if (rows.empty()) return 0;
  const std::string date = format_date(day), now = utc_now_iso();
  size_t inserted = 0, done = 0;
  if (rows.size() >= kOutboxBatch) {
    StmtPtr batch = prepare(db, outbox_insert_sql(kOutboxBatch));
    for (; rows.size() - done >= kOutboxBatch; done += kOutboxBatch)
      inserted += insert_outbox_rows(db, batch.get(), date, now, rows, done, kOutboxBatch);
  }
  if (done < rows.size()) {
    StmtPtr rest = prepare(db, outbox_insert_sql(rows.size() - done));
    inserted += insert_outbox_rows(db, rest.get(), date, now, rows, done, rows.size() - done);
  }
  return inserted;
}

}  // namespace

size_t SqliteStore::write_actions(Days day, const std::vector<OutboxRow>& rows, const std::vector<TagChange>& tags,
                            bool complete_day) {
  SQLite::Transaction tx(db(), SQLite::TransactionBehavior::IMMEDIATE);
  size_t inserted = write_outbox(db().getHandle(), day, rows);
  apply_tags(db(), day, tags);
  if (complete_day) mark_completed(db(), day);
  tx.commit();
  return inserted;
}

void SqliteStore::set_tags(Days day, const std::vector<TagChange>& tags) {
  SQLite::Transaction tx(db(), SQLite::TransactionBehavior::IMMEDIATE);
  apply_tags(db(), day, tags);
  tx.commit();
}

}  // namespace crm::engine
