// A libpq connection for the PostgreSQL store: connecting with clear one-line errors (server
// unreachable, authentication failed) that never show the password, statements with bound
// parameters, and COPY in both directions (text format).
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/store.hpp"

namespace crm::engine::pg {

// True for "postgresql://..." and "postgres://..." locations.
bool is_uri(const std::string& location);

// The URI without its password (user:secret@ -> user@, password=... dropped), for messages.
std::string scrub_uri(const std::string& uri);

// A result that frees itself.
class Result {
 public:
  explicit Result(PGresult* r = nullptr) : r_(r) {}
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result& operator=(Result&& o) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result() { PQclear(r_); }
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  int64_t affected() const;

 private:
  PGresult* r_;
};

// One connection. Errors throw StoreError with the password scrubbed.
class Conn {
 public:
  // Connects to `uri` (libpq URI; PG* environment variables fill what it leaves out) and sets
  // the session: UTC, ISO dates, exact floats, UTF8.
  Conn(const std::string& uri);
  Conn(Conn&& o) noexcept;
  Conn& operator=(Conn&&) = delete;
  Conn(const Conn&) = delete;
  ~Conn();

  PGconn* raw() const { return c_; }
  const std::string& location() const { return location_; }
  const std::string& uri() const { return uri_; }

  // A statement with text parameters (nullopt = NULL). Throws on failure.
  Result exec(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
  // Like exec but returns nullopt on failure (with the message in `error`).
  std::optional<Result> try_exec(const std::string& sql, std::string* error = nullptr);

  // COPY ... FROM STDIN: begin, send lines (already escaped, each ending in '\n'), end.
  void copy_in(const std::string& copy_sql, const std::string& data);
  // The same with the data made in pieces: `produce` appends to its buffer and returns false
  // after the last piece.
  void copy_in_stream(const std::string& copy_sql, const std::function<bool(std::string&)>& produce);

  // The message of the last failure on this connection, one line, password scrubbed.
  std::string error_message() const;
  std::string scrub(std::string message) const;

  int64_t statements = 0;

 private:
  PGconn* c_ = nullptr;
  std::string uri_, location_, password_;
};

// A COPY ... TO STDOUT stream read row by row.
class CopyOut {
 public:
  CopyOut(Conn& conn, const std::string& copy_sql);
  ~CopyOut();
  CopyOut(const CopyOut&) = delete;
  CopyOut& operator=(const CopyOut&) = delete;
  // The next row's fields (in place: un-escaped, NULL as nullopt-like {nullptr}); false at the end.
  bool next();
  size_t fields() const { return fields_.size(); }
  bool null(size_t i) const { return fields_[i].data() == nullptr; }
  std::string_view field(size_t i) const { return fields_[i]; }

 private:
  Conn& conn_;
  char* buf_ = nullptr;
  bool done_ = false;
  std::vector<std::string_view> fields_;
};

// Appends `v` to `out` escaped for COPY text format (backslash, tab, newline, carriage return).
void copy_escape(std::string& out, std::string_view v);

// A quoted identifier ("a""b").
std::string ident(const std::string& name);

}  // namespace crm::engine::pg
