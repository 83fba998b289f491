// SqlSession on a PostgreSQL store (sql_session.hpp): text parameters (typed by the server from
// their context), cells typed from the result's column types as SQLite would store them.
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "engine/store/pg_session.hpp"

namespace crm::engine {

namespace {

// Type OIDs of pg_type (fixed in every PostgreSQL).
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

class PgRow final : public SqlRow {
 public:
  explicit PgRow(const pg::Result& r) : r_(r) {
    for (int c = 0; c < PQnfields(r.get()); ++c) oids_.push_back(PQftype(r.get(), c));
  }
  int row = 0;
  SqlValue::Type type(int col) const override {
    if (r_.null(row, col)) return SqlValue::Type::Null;
    switch (oids_[static_cast<size_t>(col)]) {
      case kBool: case kInt8: case kInt2: case kInt4: return SqlValue::Type::Int;
      case kFloat4: case kFloat8: return SqlValue::Type::Real;
      case kNumeric: {
        const char* t = PQgetvalue(r_.get(), row, col);
        int64_t v;
        size_t n = std::strlen(t);
        auto [p, ec] = std::from_chars(t, t + n, v);
        return ec == std::errc() && p == t + n ? SqlValue::Type::Int : SqlValue::Type::Real;
      }
      default: return SqlValue::Type::Text;
    }
  }
  int64_t i64(int col) const override {
    const char* t = PQgetvalue(r_.get(), row, col);
    if (oids_[static_cast<size_t>(col)] == kBool) return t[0] == 't' ? 1 : 0;
    if (type(col) == SqlValue::Type::Real) return static_cast<int64_t>(std::strtod(t, nullptr));
    return std::strtoll(t, nullptr, 10);
  }
  double f64(int col) const override {
    if (oids_[static_cast<size_t>(col)] == kBool) return static_cast<double>(i64(col));
    return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
  }
  std::string text(int col) const override {
    if (oids_[static_cast<size_t>(col)] == kBool && !r_.null(row, col)) return std::to_string(i64(col));
    return r_.text(row, col);
  }

 private:
  const pg::Result& r_;
  std::vector<Oid> oids_;
};

std::vector<std::optional<std::string>> text_params(const std::vector<SqlValue>& params) {
  std::vector<std::optional<std::string>> out;
  out.reserve(params.size());
  for (const SqlValue& v : params) {
    switch (v.type) {
      case SqlValue::Type::Null: out.emplace_back(std::nullopt); break;
      case SqlValue::Type::Int: out.emplace_back(std::to_string(v.i)); break;
      case SqlValue::Type::Real: {
        char buf[32];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.d);  // shortest text that reads back exactly
        out.emplace_back(std::string(buf, p));
        break;
      }
      case SqlValue::Type::Text: out.emplace_back(v.s); break;
    }
  }
  return out;
}

}  // namespace

PgSession::~PgSession() {
  try {
    drain();
  } catch (...) {
  }
}

void PgSession::exec_later(const std::string& sql, const std::vector<SqlValue>& params) {
  PGconn* c = conn_.raw();
  if (!pipeline_) {
    if (PQenterPipelineMode(c) != 1) throw StoreError("PostgreSQL error on " + conn_.location() + ": " + conn_.error_message());
    pipeline_ = true;
  }
  auto text = text_params(params);
  std::vector<const char*> values;
  for (const auto& p : text) values.push_back(p ? p->c_str() : nullptr);
  ++conn_.statements;
  if (PQsendQueryParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0) != 1) {
    std::string msg = conn_.error_message();
    drain();
    throw StoreError("PostgreSQL error on " + conn_.location() + ": " + msg);
  }
  if (++queued_ >= kMaxQueued) drain();
}

void PgSession::drain() {
  if (!pipeline_) return;
  PGconn* c = conn_.raw();
  pipeline_ = false;
  queued_ = 0;
  std::string failure;
  if (PQpipelineSync(c) != 1) failure = conn_.error_message();
  else
    while (true) {
      PGresult* r = PQgetResult(c);
      if (!r) {
        if (PQstatus(c) != CONNECTION_OK) { failure = conn_.error_message(); break; }
        continue;  // the end of one statement's results
      }
      ExecStatusType st = PQresultStatus(r);
      if (st == PGRES_FATAL_ERROR && failure.empty()) failure = conn_.scrub(PQresultErrorMessage(r));
      PQclear(r);
      if (st == PGRES_PIPELINE_SYNC) break;
    }
  PQexitPipelineMode(c);
  if (!failure.empty()) {
    while (!failure.empty() && (failure.back() == '\n' || failure.back() == ' ')) failure.pop_back();
    if (failure.rfind("ERROR:  ", 0) == 0) failure = failure.substr(8);
    throw StoreError("PostgreSQL error on " + conn_.location() + ": " + failure.substr(0, failure.find('\n')));
  }
}

void PgSession::query(const std::string& sql, const std::vector<SqlValue>& params,
                      const std::function<void(const SqlRow&)>& row) {
  drain();
  pg::Result r = conn_.exec(sql, text_params(params));
  PgRow cells(r);
  for (int i = 0; i < r.rows(); ++i) {
    cells.row = i;
    row(cells);
  }
}

int64_t PgSession::exec(const std::string& sql, const std::vector<SqlValue>& params) {
  drain();
  return conn_.exec(sql, text_params(params)).affected();
}

bool PgSession::table_exists(const std::string& table) {
  drain();
  return conn_.exec("SELECT to_regclass(quote_ident($1)) IS NOT NULL", {table}).text(0, 0) == "t";
}

std::vector<std::pair<std::string, std::string>> PgSession::columns(const std::string& table) {
  drain();
  pg::Result r = conn_.exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      "WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {table});
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
  return out;
}

void PgSession::begin() {
  drain();
  conn_.exec("BEGIN");
}
void PgSession::commit() {
  drain();
  conn_.exec("COMMIT");
}
void PgSession::rollback() noexcept {
  try {
    drain();
  } catch (...) {
  }
  try {
    conn_.try_exec("ROLLBACK");
  } catch (...) {
  }
}

}  // namespace crm::engine
