// The SQLite outbox write (SqliteStore::write_actions): the day's rows, chunk by chunk, in
// multi-row INSERT OR IGNORE statements on the narrow key idem_hash (schema 4, 5), the collision
// fallback that compares texts, the page cache raised for the write, and the day's tag changes
// in multi-row statements too (docs/store.md "The outbox write").
#include <sqlite3.h>
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/idem_hash.hpp"
#include "engine/store/sqlite_store_impl.hpp"

namespace crm::engine {

namespace {

// The outbox rows of a day go in multi-row INSERTs of kOutboxBatch rows: one statement step per
// batch instead of per row, the day's date and creation time bound once per statement (?1, ?2),
// text bound without copies (SQLITE_STATIC: the rows outlive the step).
constexpr size_t kOutboxBatch = 100;
constexpr int kOutboxRowParams = 8;
// Rows asked of the source at a time (OutboxRows): about 6 MiB of rows in memory, not the day's.
constexpr size_t kOutboxChunk = 320 * kOutboxBatch;  // customer_id, rule, action, target, channel, payload, idem_key, idem_hash

std::string fmt_tag_row(size_t r) {
  int p = 2 + static_cast<int>(r) * 2;
  return (r ? ",(?" : "(?") + std::to_string(p) + ",?" + std::to_string(p + 1) + ",?1)";
}

std::string outbox_insert_sql(size_t rows) {
  std::string sql =
      "INSERT OR IGNORE INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, idem_hash, "
      "created_at) VALUES ";
  for (size_t r = 0; r < rows; ++r) {
    int p = 3 + static_cast<int>(r) * kOutboxRowParams;
    sql += r ? ",(?1" : "(?1";
    for (int k = 0; k < kOutboxRowParams; ++k) sql += ",?" + std::to_string(p + k);
    sql += ",?2)";
  }
  return sql;
}

// Inserts rows[from, from + n) with `stmt` (prepared for n rows); returns the rows inserted.
// `slot`: the idem_hash of a lone row placed past a collision (CollisionResolver).
size_t insert_outbox_rows(sqlite3* db, sqlite3_stmt* stmt, const std::string& date, const std::string& now,
                          const std::vector<OutboxRow>& rows, size_t from, size_t n,
                          std::optional<int64_t> slot = std::nullopt) {
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
    sqlite3_bind_int64(stmt, p + 7, slot ? *slot : idem_hash(row.idem_key));
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

// A batch inserted fewer rows than it had: each of its rows is either present already (the same
// idem_key text at its hash, or further along its probe sequence) or was dropped because another
// key holds its hash (a collision): that row goes in alone at the first free slot of the sequence.
// Returns the rows inserted here. Rare: reruns of a day, and collisions (only among one customer's
// keys, ~k^2 / 2^33 for k keys; idem_hash.hpp).
class CollisionResolver {
 public:
  explicit CollisionResolver(sqlite3* db) : db_(db) {}
  size_t resolve(const std::string& date, const std::string& now, const std::vector<OutboxRow>& rows, size_t from, size_t n) {
    if (!find_) {
      find_ = prepare(db_, "SELECT idem_key FROM outbox WHERE idem_hash = ?1");
      one_ = prepare(db_, outbox_insert_sql(1));
    }
    size_t inserted = 0;
    for (size_t r = from; r < from + n; ++r) {
      const std::string& key = rows[r].idem_key;
      for (int64_t slot = idem_hash(key);; slot = next_idem_slot(slot)) {
        sqlite3_reset(find_.get());
        sqlite3_bind_int64(find_.get(), 1, slot);
        int rc = sqlite3_step(find_.get());
        if (rc == SQLITE_ROW) {
          const char* have = reinterpret_cast<const char*>(sqlite3_column_text(find_.get(), 0));
          if (have && key == std::string_view(have, static_cast<size_t>(sqlite3_column_bytes(find_.get(), 0)))) break;
          continue;  // another key holds this slot: probe the next
        }
        if (rc != SQLITE_DONE) throw SQLite::Exception(db_, rc);
        inserted += insert_outbox_rows(db_, one_.get(), date, now, rows, r, 1, slot);
        break;
      }
    }
    sqlite3_reset(find_.get());
    return inserted;
  }

 private:
  sqlite3* db_;
  StmtPtr find_, one_;
};

// Schema version 4's random idem_hash values put each row's index entry on a random page of
// outbox_idem_hash: with SQLite's default 2 MiB page cache a day of 500k rows reread (and
// spilled) index pages all the time. Since version 5 a day's entries go in in customer order, but
// the cache is still raised for the write to about the index's size (24 bytes an entry, from the
// rowid range), capped at kOutboxWriteCacheKiB, then restored (no cost measured either way).
constexpr int64_t kOutboxWriteCacheKiB = 64 * 1024;

class OutboxWriteCache {
 public:
  OutboxWriteCache(sqlite3* db, size_t new_rows) : db_(db) {
    if (new_rows < 10'000) return;
    int64_t have = 0;
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT max(rowid) FROM outbox), (SELECT cache_size FROM pragma_cache_size)", -1, &q,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
      have = sqlite3_column_int64(q, 0);
      old_ = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    int64_t want = std::min<int64_t>(kOutboxWriteCacheKiB, (have + static_cast<int64_t>(new_rows)) * 24 / 1024 + 2048);
    int64_t old_kib = old_ < 0 ? -old_ : old_ * 4;  // pages of 4 KiB when positive
    if (!old_ || want <= old_kib) return;
    set(-want);
    raised_ = true;
  }
  ~OutboxWriteCache() {
    if (raised_) set(old_);
  }

 private:
  void set(int64_t v) { sqlite3_exec(db_, ("PRAGMA cache_size = " + std::to_string(v)).c_str(), nullptr, nullptr, nullptr); }
  sqlite3* db_;
  int64_t old_ = 0;
  bool raised_ = false;
};

// Tag sets go in multi-row INSERT OR IGNOREs of kTagBatch rows (the day's date bound once, ?1),
// an untag as its own DELETE; changes apply in their order, as one statement a change would.
constexpr size_t kTagBatch = 100;

std::string tag_insert_sql(size_t rows) {
  std::string sql = "INSERT OR IGNORE INTO tags (customer_id, tag, set_at) VALUES ";
  for (size_t r = 0; r < rows; ++r) sql += fmt_tag_row(r);
  return sql;
}

}  // namespace

size_t write_outbox(sqlite3* db, Days day, OutboxRows& source, const std::string& now) {
  const size_t total = source.count();
  if (total == 0) return 0;
  OutboxWriteCache cache(db, total);
  const std::string date = format_date(day);
  size_t inserted = 0;
  CollisionResolver resolver(db);
  StmtPtr batch;
  // Chunks of kOutboxChunk rows (a multiple of kOutboxBatch): every statement holds the rows it
  // held when the day came in one piece, so ids and collision handling do not depend on chunks.
  while (const std::vector<OutboxRow>* chunk = source.next(kOutboxChunk)) {
    const std::vector<OutboxRow>& rows = *chunk;
    size_t done = 0;
    auto batch_of = [&](sqlite3_stmt* stmt, size_t n) {
      size_t got = insert_outbox_rows(db, stmt, date, now, rows, done, n);
      inserted += got < n ? got + resolver.resolve(date, now, rows, done, n) : got;
    };
    if (rows.size() >= kOutboxBatch) {
      if (!batch) batch = prepare(db, outbox_insert_sql(kOutboxBatch));
      for (; rows.size() - done >= kOutboxBatch; done += kOutboxBatch) batch_of(batch.get(), kOutboxBatch);
    }
    if (done < rows.size()) {
      StmtPtr rest = prepare(db, outbox_insert_sql(rows.size() - done));
      batch_of(rest.get(), rows.size() - done);
    }
  }
  return inserted;
}

}  // namespace crm::engine

namespace crm::engine {

void write_tags(sqlite3* db, Days day, const std::vector<TagChange>& tags) {
  if (tags.empty()) return;
  const std::string date = format_date(day);
  StmtPtr batch, one, unset;
  auto step = [&](sqlite3_stmt* stmt) {
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) throw SQLite::Exception(db, rc);
  };
  auto sets = [&](sqlite3_stmt* stmt, size_t from, size_t n) {
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, date.data(), static_cast<int>(date.size()), SQLITE_STATIC);
    for (size_t r = 0; r < n; ++r) {
      const TagChange& t = tags[from + r];
      int p = 2 + static_cast<int>(r) * 2;
      sqlite3_bind_int64(stmt, p, t.customer_id);
      sqlite3_bind_text(stmt, p + 1, t.tag.data(), static_cast<int>(t.tag.size()), SQLITE_STATIC);
    }
    step(stmt);
  };
  for (size_t i = 0; i < tags.size();) {
    if (!tags[i].set) {
      if (!unset) unset = prepare(db, "DELETE FROM tags WHERE customer_id = ?1 AND tag = ?2");
      sqlite3_reset(unset.get());
      sqlite3_bind_int64(unset.get(), 1, tags[i].customer_id);
      sqlite3_bind_text(unset.get(), 2, tags[i].tag.data(), static_cast<int>(tags[i].tag.size()), SQLITE_STATIC);
      step(unset.get());
      ++i;
      continue;
    }
    size_t n = 0;  // the run of sets from i, up to a batch
    while (i + n < tags.size() && n < kTagBatch && tags[i + n].set) ++n;
    if (n == kTagBatch) {
      if (!batch) batch = prepare(db, tag_insert_sql(kTagBatch));
      sets(batch.get(), i, n);
    } else {  // the end of a run: a row at a time
      if (!one) one = prepare(db, tag_insert_sql(1));
      for (size_t r = 0; r < n; ++r) sets(one.get(), i + r, 1);
    }
    i += n;
  }
}

}  // namespace crm::engine
