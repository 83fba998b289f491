// Opening a store that the generator or an importer is about to fill: the schema is created
// or migrated, and a store that already holds customers is refused (no mixing of shops).
#pragma once
#include <SQLiteCpp/SQLiteCpp.h>

#include <stdexcept>
#include <string>

#include "engine/store/sqlite_store.hpp"

namespace crm::examples {

// Opens (creating if needed) `db_path` with the crm schema; throws std::runtime_error when the
// file is not a crm store or already holds customers (`what_to_do` ends that message).
inline SQLite::Database open_empty_store(const std::string& db_path, const std::string& what_to_do) {
  SQLite::Database db(db_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  try {
    engine::ensure_schema(db);
  } catch (const SQLite::Exception& e) {
    throw std::runtime_error("'" + db_path + "' is not a crm store (" + e.what() + ")");
  }
  if (db.execAndGet("SELECT count(*) FROM customers").getInt64() > 0)
    throw std::runtime_error("'" + db_path + "' already holds customers; " + what_to_do);
  return db;
}

}  // namespace crm::examples
