// SqlSession over one SQLite connection (sqlite_session.cpp); the SqliteStore owns one.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "engine/store/sql_session.hpp"

struct sqlite3;

namespace crm::engine {

class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {}
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
  sqlite3* db_;
};

}  // namespace crm::engine
