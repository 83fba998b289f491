// SqlSession over one SQLite connection (sqlite_session.cpp); the SqliteStore owns one.
#pragma once
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/store/sql_session.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace crm::engine {

class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {}
  ~SqliteSession() override;
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;
  Dialect dialect() const override { return Dialect::sqlite; }
  using SqlSession::query;
  void query(const std::string& sql, const std::vector<SqlValue>& params,
             const std::function<void(const SqlRow&)>& row) override;
  int64_t exec(const std::string& sql, const std::vector<SqlValue>& params = {}) override;
  bool table_exists(const std::string& table) override;
  std::vector<std::pair<std::string, std::string>> columns(const std::string& table) override;
  void begin() override;
  void commit() override;
  void rollback() noexcept override;

 private:
  // Statements with parameters stay prepared (a row-by-row import runs the same few again and
  // again); the cache is emptied when it holds kMaxCached.
  sqlite3_stmt* prepare(const std::string& sql);
  static constexpr size_t kMaxCached = 64;
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace crm::engine
