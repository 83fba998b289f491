// Plain SQL on a store of either backend, for the features that keep tables of their own beside
// the run's (crm deliver's `deliveries`, crm fit's `models`) or read the shop's rows directly
// (crm fit, crm analyze, crm import csv). Store::sql() gives one; SQLite and PostgreSQL each
// implement it (sqlite_session.cpp, pg_session.cpp). Cells come back typed as SQLite gives them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm::engine {

// A bound parameter or a cell: null, integer, real or text (SQLite's storage classes).
struct SqlValue {
  enum class Type { Null, Int, Real, Text };
  Type type = Type::Null;
  int64_t i = 0;
  double d = 0;
  std::string s;
  SqlValue() = default;
  SqlValue(std::nullptr_t) {}
  SqlValue(int v) : type(Type::Int), i(v) {}
  SqlValue(int64_t v) : type(Type::Int), i(v) {}
  SqlValue(double v) : type(Type::Real), d(v) {}
  SqlValue(std::string v) : type(Type::Text), s(std::move(v)) {}
  SqlValue(const char* v) : type(Type::Text), s(v) {}
};

// One row of a result. PostgreSQL cells are typed from the column's type: integers as Int,
// numeric and floats as Real (a numeric without a fraction as Int, as SQLite's NUMERIC
// affinity stores it), boolean as Int 1/0 (as SQLite stores it), everything else as Text
// (timestamps as "YYYY-MM-DD HH:MM:SS", the session being in UTC).
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual SqlValue::Type type(int col) const = 0;
  bool null(int col) const { return type(col) == SqlValue::Type::Null; }
  virtual int64_t i64(int col) const = 0;
  virtual double f64(int col) const = 0;
  virtual std::string text(int col) const = 0;
};

class SqlSession {
 public:
  enum class Dialect { sqlite, postgres };
  virtual ~SqlSession() = default;
  virtual Dialect dialect() const = 0;
  bool postgres() const { return dialect() == Dialect::postgres; }

  // Parameters are written $1, $2, ... on both backends (a number may repeat).
  virtual void query(const std::string& sql, const std::vector<SqlValue>& params,
                     const std::function<void(const SqlRow&)>& row) = 0;
  void query(const std::string& sql, const std::function<void(const SqlRow&)>& row) { query(sql, {}, row); }
  // A statement (or, without parameters, several separated by ';'); returns the rows it changed.
  virtual int64_t exec(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // A statement whose result nobody reads (the rows of an import): PostgreSQL sends it without
  // waiting for the answer (libpq's pipeline mode) and reports a failure by the next call of
  // any other method at the latest; SQLite runs it at once.
  virtual void exec_later(const std::string& sql, const std::vector<SqlValue>& params) { exec(sql, params); }
  // The first cell of the first row as an integer (0 when there is none).
  int64_t scalar(const std::string& sql, const std::vector<SqlValue>& params = {});

  // A table of the store (PostgreSQL: in the search path; SQLite: the main database), and its
  // columns as (name, declared type) in table order.
  virtual bool table_exists(const std::string& table) = 0;
  virtual std::vector<std::pair<std::string, std::string>> columns(const std::string& table) = 0;

  // One write transaction (SQLite: BEGIN IMMEDIATE). Rolled back when `body` throws.
  void transaction(const std::function<void()>& body);
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

// "a""b": a name as a quoted identifier (both backends).
std::string sql_ident(std::string_view name);

}  // namespace crm::engine
