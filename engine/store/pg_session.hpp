// SqlSession over one PostgreSQL connection (pg_session.cpp); the PgStore owns one.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "engine/store/pg_conn.hpp"
#include "engine/store/sql_session.hpp"

namespace crm::engine {

class PgSession final : public SqlSession {
 public:
  explicit PgSession(pg::Conn& conn) : conn_(conn) {}
  ~PgSession() override;
  Dialect dialect() const override { return Dialect::postgres; }
  using SqlSession::query;
  void query(const std::string& sql, const std::vector<SqlValue>& params,
             const std::function<void(const SqlRow&)>& row) override;
  int64_t exec(const std::string& sql, const std::vector<SqlValue>& params = {}) override;
  void exec_later(const std::string& sql, const std::vector<SqlValue>& params) override;
  bool table_exists(const std::string& table) override;
  std::vector<std::pair<std::string, std::string>> columns(const std::string& table) override;
  void begin() override;
  void commit() override;
  void rollback() noexcept override;

 private:
  // Waits for the statements sent by exec_later and leaves pipeline mode; throws the first
  // failure among them.
  void drain();
  static constexpr int kMaxQueued = 1000;
  pg::Conn& conn_;
  int queued_ = 0;
  bool pipeline_ = false;
};

}  // namespace crm::engine
