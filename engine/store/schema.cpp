// The store's schema (SPEC §5 tables plus meta and runs) as an ordered list of migrations;
// `crm init` applies those newer than the store's schema_version, in one transaction.
#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "engine/store/columns.hpp"
#include "engine/store/fact_writer.hpp"
#include "engine/store/idem_hash.hpp"
#include "engine/store/sqlite_store.hpp"

namespace crm::engine {

namespace {

struct Migration {
  int version;
  const char* what;
  const char* sql;
};

// Every statement is idempotent (IF NOT EXISTS), so a store whose SPEC tables were made by hand
// (version 0: no meta table) is adopted as it is. The customers columns are not written here:
// {customers} is the list of columns.def (those of version 1; a later one is added by ADD
// COLUMN in its version's migration, add_customer_columns). Columns follow SPEC §5 exactly; the loader
// also accepts tables that lack some of them (read as null) and turns extra customer columns
// into attributes.
constexpr Migration kMigrations[] = {
    {1, "SPEC §5 tables and meta", R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS customers (
{customers});
CREATE TABLE IF NOT EXISTS products (
  id INTEGER PRIMARY KEY, sku TEXT UNIQUE, name TEXT, category TEXT, price NUMERIC);
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY, customer_id INTEGER, ordered_at TEXT, total NUMERIC, status TEXT);
CREATE TABLE IF NOT EXISTS order_items (
  order_id INTEGER, product_id INTEGER, quantity INTEGER, price NUMERIC);
CREATE TABLE IF NOT EXISTS subscriptions (
  id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER, started_at TEXT,
  status TEXT, cycles INTEGER, cancelled_at TEXT, cancel_reason TEXT);
CREATE TABLE IF NOT EXISTS surveys (customer_id INTEGER, answered_at TEXT, satisfaction INTEGER);
CREATE TABLE IF NOT EXISTS referrals (referrer_id INTEGER, referee_id INTEGER, created_at TEXT);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, customer_id INTEGER, type TEXT, at TEXT, payload TEXT);
CREATE TABLE IF NOT EXISTS tags (customer_id INTEGER, tag TEXT, set_at TEXT);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY, run_date DATE, customer_id INTEGER, rule TEXT, action TEXT,
  target TEXT, channel TEXT, payload TEXT, idem_key TEXT UNIQUE, created_at TEXT);
)sql"},
    {2, "runs table, run lock row, indexes for the bulk reads, unique tags", R"sql(
CREATE TABLE IF NOT EXISTS runs (
  run_date DATE PRIMARY KEY, started_at TEXT, completed_at TEXT, status TEXT);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, ordered_at);
CREATE INDEX IF NOT EXISTS order_items_by_order ON order_items (order_id);
CREATE INDEX IF NOT EXISTS subscriptions_by_customer ON subscriptions (customer_id);
CREATE INDEX IF NOT EXISTS surveys_by_customer ON surveys (customer_id);
CREATE INDEX IF NOT EXISTS referrals_by_referrer ON referrals (referrer_id);
CREATE INDEX IF NOT EXISTS events_by_customer ON events (customer_id, at);
DELETE FROM tags WHERE rowid NOT IN (SELECT MIN(rowid) FROM tags GROUP BY customer_id, tag);
CREATE UNIQUE INDEX IF NOT EXISTS tags_unique ON tags (customer_id, tag);
)sql"},
    {3, "run_shards table (per-shard completion of a day, crm run --shard)", R"sql(
CREATE TABLE IF NOT EXISTS run_shards (
  run_date DATE NOT NULL, shards INTEGER NOT NULL, shard INTEGER NOT NULL,
  started_at TEXT, completed_at TEXT, status TEXT, PRIMARY KEY (run_date, shards, shard));
)sql"},
    // The statements are in narrow_outbox_key (a table rebuild, only when the column is missing).
    {4, "narrow outbox key: idem_hash INTEGER with a UNIQUE index, idem_key kept as text, outbox_by_rule dropped", ""},
    // rehash_outbox_key, for a version 4 store only.
    {5, "outbox key in customer order: idem_hash recomputed with the customer id in its high 32 bits", ""},
    // Version 2 made outbox_by_run_date (no longer: every migration runs on each upgrade). Its
    // one reader, the loader, reads the outbox in id order instead (load_loader.hpp load_outbox),
    // and each outbox row has one B-tree entry less to write (docs/store.md "The outbox write").
    {6, "outbox_by_run_date dropped (the loader reads the outbox in id order)", R"sql(
DROP INDEX IF EXISTS outbox_by_run_date;
)sql"},
};

// The customers columns of columns.def added by schema version `version` (> 1), unless present.
void add_customer_columns(SQLite::Database& db, int version) {
  if (version == 1) return;
  for (const auto& c : kCustomerColumns) {
    if (c.since != version) continue;
    SQLite::Statement q(db, "SELECT 1 FROM pragma_table_info('customers') WHERE name = ?");
    q.bind(1, std::string(c.name));
    if (!q.executeStep())
      db.exec("ALTER TABLE customers ADD COLUMN " + quote_identifier(std::string(c.name)) + " " +
              std::string(c.sql_type));
  }
}

bool has_column(SQLite::Database& db, const char* table, const char* column) {
  SQLite::Statement q(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  q.bind(1, table);
  q.bind(2, column);
  return q.executeStep();
}

// idem_hash of every row of `table` with an idem_key, in id order (a collision takes the next
// free value, as the writer does); the table has no idem_hash index and no values yet.
void fill_idem_hash(SQLite::Database& db, const std::string& table) {
  std::vector<std::pair<int64_t, int64_t>> slots;  // (id, idem_hash)
  std::unordered_set<int64_t> used;
  SQLite::Statement q(db, "SELECT id, idem_key FROM " + table + " WHERE idem_key IS NOT NULL ORDER BY id");
  while (q.executeStep()) {
    int64_t slot = idem_hash(q.getColumn(1).getString());
    while (!used.insert(slot).second) slot = next_idem_slot(slot);  // texts were UNIQUE: a collision
    slots.emplace_back(q.getColumn(0).getInt64(), slot);
  }
  SQLite::Statement set(db, "UPDATE " + table + " SET idem_hash = ? WHERE id = ?");
  for (const auto& [id, slot] : slots) {
    set.reset();
    set.bind(1, slot);
    set.bind(2, id);
    set.exec();
  }
}

// Schema version 4: the outbox's UNIQUE key becomes idem_hash (idem_hash.hpp), a 64-bit integer,
// instead of the ~40-byte text idem_key, which stays as an unindexed column (audit, crm deliver);
// outbox_by_rule, which no reader uses, is dropped. SQLite cannot drop a column's UNIQUE, so an
// outbox without idem_hash is rebuilt: same columns (extra ones kept) and ids, then idem_hash
// filled in id order (a collision takes the next free value, as the writer does), then the index.
void narrow_outbox_key(SQLite::Database& db) {
  db.exec("DROP INDEX IF EXISTS outbox_by_rule");
  if (has_column(db, "outbox", "idem_hash")) return;
  const char* kKnown[] = {"id", "run_date", "customer_id", "rule", "action", "target", "channel", "payload", "idem_key", "created_at"};
  std::string create = "CREATE TABLE outbox_v4 (\n  id INTEGER PRIMARY KEY, run_date DATE, customer_id INTEGER, rule TEXT, "
                       "action TEXT,\n  target TEXT, channel TEXT, payload TEXT, idem_key TEXT, created_at TEXT, idem_hash INTEGER";
  std::string copied;
  {
    SQLite::Statement cols(db, "SELECT name, type FROM pragma_table_info('outbox') ORDER BY cid");
    while (cols.executeStep()) {
      std::string name = cols.getColumn(0).getString();
      bool known = false;
      for (const char* k : kKnown) known = known || name == k;
      if (!known) create += ", " + quote_identifier(name) + " " + cols.getColumn(1).getString();
      copied += (copied.empty() ? "" : ", ") + quote_identifier(name);
    }
  }
  db.exec("DROP TABLE IF EXISTS outbox_v4");
  db.exec(create + ")");
  db.exec("INSERT INTO outbox_v4 (" + copied + ") SELECT " + copied + " FROM outbox ORDER BY rowid");
  fill_idem_hash(db, "outbox_v4");
  db.exec("DROP TABLE outbox");
  db.exec("ALTER TABLE outbox_v4 RENAME TO outbox");
  db.exec("CREATE UNIQUE INDEX outbox_idem_hash ON outbox (idem_hash)");
}

// Schema version 5: idem_hash takes the customer id in its high 32 bits (idem_hash.hpp), so a
// version 4 outbox's values are made again: the index dropped, every value recomputed in id order
// (collisions probed as the writer does), the index rebuilt. Ids and rows stay as they are.
void rehash_outbox_key(SQLite::Database& db) {
  db.exec("DROP INDEX IF EXISTS outbox_idem_hash");
  db.exec("UPDATE outbox SET idem_hash = NULL");
  fill_idem_hash(db, "outbox");
  db.exec("CREATE UNIQUE INDEX outbox_idem_hash ON outbox (idem_hash)");
}

bool has_table(SQLite::Database& db, const char* name) {
  SQLite::Statement q(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  q.bind(1, name);
  return q.executeStep();
}

}  // namespace

int read_schema_version(SQLite::Database& db) {
  if (!has_table(db, "meta")) return 0;
  SQLite::Statement q(db, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (!q.executeStep()) return 0;
  try {
    return std::stoi(q.getColumn(0).getString());
  } catch (const std::exception&) {
    throw StoreError("the store's meta table has a bad schema_version '" + q.getColumn(0).getString() + "'");
  }
}

namespace {

// Every table of the store (but SQLite's own) with its columns.
std::map<std::string, std::set<std::string>> table_columns(SQLite::Database& db) {
  std::map<std::string, std::set<std::string>> out;
  SQLite::Statement q(db, "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p "
                          "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
  while (q.executeStep()) out[q.getColumn(0).getString()].insert(q.getColumn(1).getString());
  return out;
}

}  // namespace

int ensure_schema(SQLite::Database& db) {
  SchemaRepairs ignored;
  return ensure_schema(db, ignored);
}

int ensure_schema(SQLite::Database& db, SchemaRepairs& repairs) {
  refuse_hard_linked_store(db.getFilename());
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  int found = read_schema_version(db);
  auto before = found > 0 ? table_columns(db) : std::map<std::string, std::set<std::string>>{};
  if (found > kSchemaVersion)
    throw StoreError("the store has schema version " + std::to_string(found) + ", newer than this crm supports (" +
                     std::to_string(kSchemaVersion) + "); upgrade crm");
  for (const Migration& m : kMigrations) {
    // Migration 1 only creates missing tables: it runs on every upgrade, so a store whose
    // tables were partly made by hand gets the rest.
    // Every migration so far is idempotent (IF NOT EXISTS), so all run on every `crm init`:
    // a store whose table (runs, orders, ...) was dropped gets it back, empty.
    try {
      std::string sql = m.sql;
      if (size_t at = sql.find("{customers}"); at != std::string::npos)
        sql.replace(at, std::string_view("{customers}").size(), customer_columns_sql_v1());
      db.exec(sql);
      add_customer_columns(db, m.version);
      if (m.version == 4) narrow_outbox_key(db);
      if (m.version == 5 && found == 4) rehash_outbox_key(db);  // an older store got version 5's values at 4
    } catch (const SQLite::Exception& e) {
      throw StoreError("migration to schema version " + std::to_string(m.version) + " (" + m.what + ") failed: " + e.what());
    }
  }
  // runs.process ("pid@host" of a run, SqliteStore::begin_run) on stores made before it.
  {
    SQLite::Statement q(db, "SELECT 1 FROM pragma_table_info('runs') WHERE name = 'process'");
    if (!q.executeStep()) db.exec("ALTER TABLE runs ADD COLUMN process TEXT");
  }
  SQLite::Statement set(db, "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  set.bind(1, std::to_string(kSchemaVersion));
  set.exec();
  if (found > 0) {
    for (const auto& [table, columns] : table_columns(db)) {
      auto was = before.find(table);
      if (was == before.end()) {
        repairs.tables.push_back(table);
        continue;
      }
      for (const auto& c : columns)
        if (!was->second.count(c)) repairs.columns.push_back(table + "." + c);
    }
  }
  tx.commit();
  return found;
}

}  // namespace crm::engine
