// The fitted lifetime models of a SQLite store (table `models`, written by `crm fit`): read with
// the facts, so a run day picks the latest model fitted before it (engine/frame/model_attributes.cpp).
#include <sqlite3.h>

#include <string>

#include "engine/store/model_rows.hpp"
#include "engine/store/sqlite_store_impl.hpp"
#include "engine/store/store.hpp"

namespace crm::engine {
namespace {

bool has_models_table(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'models'", -1, &st, nullptr) != SQLITE_OK)
    return false;
  bool yes = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return yes;
}

std::string text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

void load_model_rows(sqlite3* db, Facts& facts) {
  facts.models.clear();
  if (!has_models_table(db)) return;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name, as_of, params, fitted_at FROM models ORDER BY rowid", -1, &st, nullptr) != SQLITE_OK)
    throw StoreError(std::string("cannot read table models: ") + sqlite3_errmsg(db));
  while (sqlite3_step(st) == SQLITE_ROW) {
    auto day = parse_date(text(st, 1));
    if (!day) continue;  // not a model row crm wrote: ignored, as crm fit never writes one
    facts.models.push_back({text(st, 0), *day, text(st, 2), text(st, 3)});
  }
  sqlite3_finalize(st);
}

bool SqliteStore::has_lifetime_models() {
  sqlite3* db = impl_->db.getHandle();
  if (!has_models_table(db)) return false;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM models LIMIT 1", -1, &st, nullptr) != SQLITE_OK) return false;
  bool yes = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return yes;
}

}  // namespace crm::engine

namespace crm::engine {

std::vector<model::ModelRow> read_model_rows(SqlSession& db) {
  std::vector<model::ModelRow> rows;
  if (!db.table_exists("models")) return rows;
  const std::string order = db.postgres() ? "id" : "rowid";  // the order crm fit wrote them
  db.query("SELECT name, as_of, params, fitted_at FROM models ORDER BY " + order, [&](const SqlRow& r) {
    auto day = parse_date(r.text(1));
    if (day) rows.push_back({r.text(0), *day, r.text(2), r.text(3)});
  });
  return rows;
}

bool has_model_rows(SqlSession& db) {
  if (!db.table_exists("models")) return false;
  bool any = false;
  db.query("SELECT 1 FROM models LIMIT 1", [&](const SqlRow&) { any = true; });
  return any;
}

}  // namespace crm::engine
