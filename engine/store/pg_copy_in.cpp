// PgStore::copy_from_sqlite: a SQLite store made by `crm sample` or `crm import` copied into an
// empty PostgreSQL store, one COPY ... FROM STDIN per table in one transaction; extra customers
// columns are added with the PostgreSQL type of their declared SQLite type.
#include <sqlite3.h>

#include <memory>
#include <set>

#include "engine/store/pg_store.hpp"

namespace crm::engine {

namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// The PostgreSQL type for an extra column from its SQLite declared type (the attribute typing's rules).
std::string pg_type_of(std::string declared) {
  for (char& c : declared) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto has = [&](const char* s) { return declared.find(s) != std::string::npos; };
  if (has("BOOL")) return "boolean";
  if (has("DATE") && !has("TIME")) return "date";
  if (has("DATE") || has("TIME")) return "timestamp";
  if (has("INT")) return "bigint";
  if (has("REAL") || has("FLOA") || has("DOUB")) return "double precision";
  if (has("NUMERIC") || has("DECIMAL") || has("NUMBER") || has("MONEY")) return "numeric";
  if (has("BLOB")) return "bytea";
  return "text";
}

std::vector<std::pair<std::string, std::string>> sqlite_columns(sqlite3* db, const std::string& table) {
  std::vector<std::pair<std::string, std::string>> out;
  sqlite3_stmt* raw = nullptr;
  std::string sql = "PRAGMA table_info(" + pg::ident(table) + ")";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return out;
  std::unique_ptr<sqlite3_stmt, Finalize> q(raw);
  while (sqlite3_step(raw) == SQLITE_ROW) {
    const char* name = reinterpret_cast<const char*>(sqlite3_column_text(raw, 1));
    const char* type = reinterpret_cast<const char*>(sqlite3_column_text(raw, 2));
    out.emplace_back(name ? name : "", type ? type : "");
  }
  return out;
}

}  // namespace

void PgStore::copy_from_sqlite(const std::string& sqlite_path) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    throw StoreError("cannot read the staging store '" + sqlite_path + "'");
  }
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  conn_.exec("BEGIN");
  try {
    // meta: everything but the schema version (this store has its own)
    {
      sqlite3_stmt* m = nullptr;
      sqlite3_prepare_v2(raw, "SELECT key, value FROM meta WHERE key <> 'schema_version'", -1, &m, nullptr);
      std::unique_ptr<sqlite3_stmt, Finalize> q(m);
      while (m && sqlite3_step(m) == SQLITE_ROW) {
        const char* k = reinterpret_cast<const char*>(sqlite3_column_text(m, 0));
        const char* v = reinterpret_cast<const char*>(sqlite3_column_text(m, 1));
        conn_.exec("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   {std::string(k ? k : ""), v ? std::optional<std::string>(v) : std::nullopt});
      }
    }
    for (const char* table : {"products", "customers", "orders", "order_items", "subscriptions", "surveys", "referrals",
                              "events", "tags"}) {
      auto src_cols = sqlite_columns(raw, table);
      if (src_cols.empty()) continue;
      pg::Result have = conn_.exec(
          "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 "
          "AND NOT a.attisdropped",
          {std::string(table)});
      std::set<std::string> pg_cols;
      for (int i = 0; i < have.rows(); ++i) pg_cols.insert(have.text(i, 0));
      std::vector<std::string> cols;
      for (const auto& [name, declared] : src_cols) {
        if (!pg_cols.count(name)) {
          if (std::string(table) != "customers") continue;  // only customers carries extra columns
          conn_.exec("ALTER TABLE " + pg::ident(table) + " ADD COLUMN " + pg::ident(name) + " " + pg_type_of(declared));
        }
        cols.push_back(name);
      }
      std::string list, select;
      for (size_t i = 0; i < cols.size(); ++i) {
        list += (i ? ", " : "") + pg::ident(cols[i]);
        select += (i ? ", " : "") + pg::ident(cols[i]);
      }
      sqlite3_stmt* s = nullptr;
      std::string sql = "SELECT " + select + " FROM " + pg::ident(table) + " ORDER BY rowid";
      if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
        throw StoreError(std::string("cannot read the staging store: ") + sqlite3_errmsg(raw));
      std::unique_ptr<sqlite3_stmt, Finalize> q(s);
      int n = static_cast<int>(cols.size());
      conn_.copy_in_stream("COPY " + pg::ident(table) + " (" + list + ") FROM STDIN", [&](std::string& buf) {
        constexpr size_t kPiece = 4 << 20;
        while (buf.size() < kPiece) {
          int rc = sqlite3_step(s);
          if (rc == SQLITE_DONE) return false;
          if (rc != SQLITE_ROW) throw StoreError(std::string("cannot read the staging store: ") + sqlite3_errmsg(raw));
          for (int i = 0; i < n; ++i) {
            if (i) buf += '\t';
            if (sqlite3_column_type(s, i) == SQLITE_NULL) {
              buf += "\\N";
              continue;
            }
            const char* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
            pg::copy_escape(buf, std::string_view(t, static_cast<size_t>(sqlite3_column_bytes(s, i))));
          }
          buf += '\n';
        }
        return true;
      });
    }
    conn_.exec("COMMIT");
  } catch (...) {
    conn_.try_exec("ROLLBACK");
    throw;
  }
  conn_.exec("ANALYZE");  // row estimates for the loader's hints
}

}  // namespace crm::engine
