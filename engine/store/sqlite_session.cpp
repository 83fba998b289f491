// SqlSession on a SQLite store (sql_session.hpp): statements prepared on the store's own
// connection, $N parameters bound by name, cells with SQLite's own storage classes.
#include <sqlite3.h>

#include "engine/store/sqlite_session.hpp"
#include "engine/store/store.hpp"

namespace crm::engine {

namespace {

// A statement of the session's cache, reset (and its bindings cleared) when done with.
class Stmt final : public SqlRow {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  ~Stmt() override {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  void bind(const std::vector<SqlValue>& params) {
    int n = sqlite3_bind_parameter_count(st_);
    for (int k = 1; k <= n; ++k) {
      const char* name = sqlite3_bind_parameter_name(st_, k);
      size_t index = name && name[0] == '$' ? std::strtoul(name + 1, nullptr, 10) : 0;
      if (index < 1 || index > params.size()) throw StoreError(std::string("SQL parameter ") + (name ? name : "?") + " has no value");
      const SqlValue& v = params[index - 1];
      switch (v.type) {
        case SqlValue::Type::Null: sqlite3_bind_null(st_, k); break;
        case SqlValue::Type::Int: sqlite3_bind_int64(st_, k, v.i); break;
        case SqlValue::Type::Real: sqlite3_bind_double(st_, k, v.d); break;
        case SqlValue::Type::Text: sqlite3_bind_text(st_, k, v.s.data(), static_cast<int>(v.s.size()), SQLITE_STATIC); break;
      }
    }
  }
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("SQLite error: ") + sqlite3_errmsg(db_));
  }
  SqlValue::Type type(int col) const override {
    switch (sqlite3_column_type(st_, col)) {
      case SQLITE_NULL: return SqlValue::Type::Null;
      case SQLITE_INTEGER: return SqlValue::Type::Int;
      case SQLITE_FLOAT: return SqlValue::Type::Real;
      default: return SqlValue::Type::Text;
    }
  }
  int64_t i64(int col) const override { return sqlite3_column_int64(st_, col); }
  double f64(int col) const override { return sqlite3_column_double(st_, col); }
  std::string text(int col) const override {
    const unsigned char* t = sqlite3_column_text(st_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(st_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;
};

}  // namespace

SqliteSession::~SqliteSession() {
  for (auto& [sql, st] : cache_) sqlite3_finalize(st);
}

sqlite3_stmt* SqliteSession::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCached) {
    for (auto& [text, st] : cache_) sqlite3_finalize(st);
    cache_.clear();
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
    throw StoreError(std::string("SQLite error: ") + sqlite3_errmsg(db_));
  cache_.emplace(sql, st);
  return st;
}

void SqliteSession::query(const std::string& sql, const std::vector<SqlValue>& params,
                          const std::function<void(const SqlRow&)>& row) {
  Stmt st(db_, prepare(sql));
  st.bind(params);
  while (st.step()) row(st);
}

int64_t SqliteSession::exec(const std::string& sql, const std::vector<SqlValue>& params) {
  if (params.empty()) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw StoreError("SQLite error: " + msg);
    }
    return sqlite3_changes64(db_);
  }
  Stmt st(db_, prepare(sql));
  st.bind(params);
  while (st.step()) {
  }
  return sqlite3_changes64(db_);
}

bool SqliteSession::table_exists(const std::string& table) {
  return scalar("SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = $1", {table}) > 0;
}

std::vector<std::pair<std::string, std::string>> SqliteSession::columns(const std::string& table) {
  std::vector<std::pair<std::string, std::string>> out;
  query("SELECT name, type FROM pragma_table_info($1, 'main')", {table},
        [&](const SqlRow& r) { out.emplace_back(r.text(0), r.text(1)); });
  return out;
}

void SqliteSession::begin() { exec("BEGIN IMMEDIATE"); }
void SqliteSession::commit() { exec("COMMIT"); }
void SqliteSession::rollback() noexcept {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

// --- shared by both backends

int64_t SqlSession::scalar(const std::string& sql, const std::vector<SqlValue>& params) {
  int64_t v = 0;
  bool first = true;
  query(sql, params, [&](const SqlRow& r) {
    if (first && !r.null(0)) v = r.i64(0);
    first = false;
  });
  return v;
}

void SqlSession::transaction(const std::function<void()>& body) {
  begin();
  try {
    body();
    commit();
  } catch (...) {
    rollback();
    throw;
  }
}

std::string sql_ident(std::string_view name) {
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace crm::engine
