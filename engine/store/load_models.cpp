// The fitted lifetime models (table `models`, written by `crm fit`), read with the facts through
// plain SQL on either backend, so a run day picks the latest model fitted before it
// (engine/frame/model_attributes.cpp).
#include <sqlite3.h>

#include <string>

#include "engine/store/model_rows.hpp"
#include "engine/store/sqlite_session.hpp"
#include "engine/store/sqlite_store_impl.hpp"
#include "engine/store/store.hpp"

namespace crm::engine {

void load_model_rows(sqlite3* db, Facts& facts) {
  SqliteSession session(db);
  facts.models = read_model_rows(session);
}

bool SqliteStore::has_lifetime_models() { return has_model_rows(sql()); }


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
