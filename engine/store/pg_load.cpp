// PgStore::load_facts: every table read with one COPY (SELECT ...) TO STDOUT stream (text format)
// by the shared Loader (load_loader.hpp), so the Facts and warnings are those SQLite gives for the
// same data. Big stores read orders and items on a second connection and thread, on the same
// snapshot (pg_export_snapshot).
#include <cctype>
#include <charconv>
#include <map>
#include <cstring>
#include <memory>

#include "engine/store/load_loader.hpp"
#include "engine/store/model_rows.hpp"
#include "engine/store/pg_store.hpp"
#include "engine/store/sqlite_store.hpp"  // kParallelLoadMinOrders

namespace crm::engine {

namespace {

using namespace loading;

// How a column's text becomes a cell: an integer, a float, or text (SQLite's type codes).
enum class Kind : char { Integer, Float, Text, Null };

struct PgColumn {
  ColumnInfo info;  // declared: the type as the shared attribute typing reads it
  Kind kind = Kind::Text;
};

// A COPY stream as the cursor the shared scans read (step, type, null, i64, f64, text).
class PgCursor {
 public:
  PgCursor(pg::Conn& conn, const std::string& sql, std::vector<Kind> kinds)
      : out_(std::make_unique<pg::CopyOut>(conn, sql)), kinds_(std::move(kinds)) {
    type_.resize(kinds_.size());
    i64_.resize(kinds_.size());
    f64_.resize(kinds_.size());
  }
  bool step() {
    if (!out_->next()) return false;
    if (out_->fields() != kinds_.size())
      throw StoreError("cannot read the store: a COPY row has " + std::to_string(out_->fields()) + " fields, expected " +
                       std::to_string(kinds_.size()));
    for (size_t i = 0; i < kinds_.size(); ++i) {
      if (out_->null(i)) {
        type_[i] = SQLITE_NULL;
        continue;
      }
      std::string_view t = out_->field(i);
      type_[i] = SQLITE_TEXT;
      if (kinds_[i] == Kind::Integer) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec == std::errc() && p == t.data() + t.size()) {
          type_[i] = SQLITE_INTEGER;
          i64_[i] = v;
          f64_[i] = static_cast<double>(v);
        }
      } else if (kinds_[i] == Kind::Float) {
        double v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec == std::errc() && p == t.data() + t.size()) {
          type_[i] = SQLITE_FLOAT;
          f64_[i] = v;
          i64_[i] = static_cast<int64_t>(v);
        }
      }
    }
    return true;
  }
  int type(int i) const { return type_[static_cast<size_t>(i)]; }
  bool null(int i) const { return type(i) == SQLITE_NULL; }
  int64_t i64(int i) const {
    size_t k = static_cast<size_t>(i);
    if (type_[k] == SQLITE_TEXT) return std::strtoll(std::string(out_->field(k)).c_str(), nullptr, 10);
    return type_[k] == SQLITE_NULL ? 0 : i64_[k];
  }
  double f64(int i) const {
    size_t k = static_cast<size_t>(i);
    if (type_[k] == SQLITE_TEXT) return std::strtod(std::string(out_->field(k)).c_str(), nullptr);
    return type_[k] == SQLITE_NULL ? 0 : f64_[k];
  }
  std::string_view text(int i) const {
    size_t k = static_cast<size_t>(i);
    return type_[k] == SQLITE_NULL ? std::string_view() : out_->field(k);
  }

 private:
  std::unique_ptr<pg::CopyOut> out_;
  std::vector<Kind> kinds_;
  std::vector<int> type_;
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
};

// The columns of a table in the search path, with their kinds: PostgreSQL's numeric types read
// as numbers, everything else as text. Declared types the shared typing would misread (interval
// and point contain "INT") are given as TEXT; bytea as BLOB (not an attribute).
std::vector<PgColumn> pg_columns(pg::Conn& conn, const std::string& table) {
  pg::Result r = conn.exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory, t.typname "
      "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
      "WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {table});
  std::vector<PgColumn> out;
  for (int i = 0; i < r.rows(); ++i) {
    PgColumn c;
    c.info.name = r.text(i, 0);
    std::string declared = r.text(i, 1), category = r.text(i, 2), typname = r.text(i, 3);
    if (category == "N") {
      bool integer = typname == "int2" || typname == "int4" || typname == "int8";
      c.kind = integer ? Kind::Integer : Kind::Float;
    }
    if (typname == "bytea") declared = "BLOB";
    else if (category != "N" && category != "B" && category != "D") declared = "TEXT";
    c.info.declared = declared;
    out.push_back(std::move(c));
  }
  return out;
}

// What the shared scans and Loader read through: one PostgreSQL connection.
struct PgSource {
  using Cursor = PgCursor;
  // PostgreSQL keeps outbox_by_run_date (pg_schema.cpp): the Loader reads the outbox sorted.
  static constexpr bool kOutboxByRunDate = true;
  pg::Conn* conn;
  std::map<std::string, std::vector<PgColumn>> cache;
  std::optional<Shard> shard;  // a shard run: only its customers' rows are read

  const std::vector<PgColumn>& pg_cols(const std::string& table) {
    auto it = cache.find(table);
    if (it == cache.end()) it = cache.emplace(table, pg_columns(*conn, table)).first;
    return it->second;
  }
  std::vector<ColumnInfo> columns(const std::string& table) {
    std::vector<ColumnInfo> out;
    for (const PgColumn& c : pg_cols(table)) out.push_back(c.info);
    return out;
  }
  PgCursor query(const std::vector<ColumnInfo>& have, const std::string& table, const std::vector<std::string>& wanted,
                 const std::string& tail = "") {
    const auto& cols = pg_cols(table);
    std::vector<Kind> kinds;
    for (const std::string& w : wanted) {
      Kind k = Kind::Null;
      if (w == "rowid") k = Kind::Integer;
      for (const PgColumn& c : cols)
        if (c.info.name == w) k = c.kind;
      kinds.push_back(k);
    }
    // SQLite's rowid is the insertion order; here the row's number in the scan.
    std::string sql = select_sql(have, table, wanted, tail, "row_number() OVER ()", shard ? shard_filter(have, table, *shard) : "");
    return PgCursor(*conn, "COPY (" + sql + ") TO STDOUT", std::move(kinds));
  }
  // Row hints are read before any COPY starts (no other statement can run during one).
  std::map<std::string, size_t> hints;
  void prefetch() {
    pg::Result r = conn->exec(
        "SELECT t, greatest(c.reltuples, 0)::bigint FROM unnest($1::text[]) AS t "
        "JOIN pg_class c ON c.oid = to_regclass(quote_ident(t))",
        {"{customers,orders,order_items,products,subscriptions,surveys,referrals,events,tags,outbox}"});
    for (int i = 0; i < r.rows(); ++i) {
      int64_t n = std::stoll(r.text(i, 1));
      hints[r.text(i, 0)] = n > 0 && n <= kMaxRowsHint ? static_cast<size_t>(n) : 0;
    }
    for (const char* t : {"customers", "orders", "order_items", "products", "subscriptions", "surveys", "referrals",
                          "events", "tags", "outbox"})
      pg_cols(t);
  }
  size_t rows_hint(const std::string& table) {
    auto it = hints.find(table);
    return it == hints.end() ? 0 : it->second;
  }
  std::string bytewise_order_by(const std::vector<ColumnInfo>& have, const std::string& column) {
    for (const ColumnInfo& c : have)
      if (c.name == column) return " ORDER BY " + quote_ident(column) + (kind_of(column) == Kind::Text ? " COLLATE \"C\"" : "");
    return "";
  }
  Kind kind_of(const std::string& column) {
    for (const PgColumn& c : pg_cols("products"))
      if (c.info.name == column) return c.kind;
    return Kind::Null;
  }
  std::optional<int64_t> orders_middle() {
    // Only on an integer id column (a failed statement would abort the load's transaction).
    bool integer_id = false;
    for (const PgColumn& c : pg_cols("orders")) integer_id |= c.info.name == "id" && c.kind == Kind::Integer;
    if (!integer_id) return std::nullopt;
    pg::Result r = conn->exec("SELECT min(id) / 2 + max(id) / 2 FROM orders");
    if (r.rows() == 0 || r.null(0, 0)) return std::nullopt;
    return std::stoll(r.text(0, 0));
  }
  std::string orders_below(int64_t middle) { return " WHERE id < " + std::to_string(middle) + " OR id IS NULL"; }
  std::string orders_from(int64_t middle) { return " WHERE id >= " + std::to_string(middle); }
};

}  // namespace

std::vector<lang::CheckOptions::Extra> PgStore::extra_attributes() {
  PgSource src{&conn_, {}, {}, {}};
  std::vector<lang::CheckOptions::Extra> out;
  for (const ExtraColumn& e : extra_columns(src.columns("customers"), nullptr)) out.push_back({e.name, e.type});
  return out;
}

LoadResult PgStore::load_facts(const TimeZone& tz) {
  // One snapshot for every table: a repeatable-read, read-only transaction; with a second
  // connection (big stores), it imports the first's snapshot.
  PgSource main{&conn_, {}, {}, {}};
  conn_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  std::unique_ptr<pg::Conn> second;
  try {
    main.prefetch();
    size_t orders_hint = main.rows_hint("orders");
    if (orders_hint >= kParallelLoadMinOrders) {
      std::string snapshot = conn_.exec("SELECT pg_export_snapshot()").text(0, 0);
      second = std::make_unique<pg::Conn>(conn_.uri());
      second->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      for (char c : snapshot)
        if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '-') throw StoreError("unexpected snapshot id from the server");
      second->exec("SET TRANSACTION SNAPSHOT '" + snapshot + "'");
    }
    main.shard = load_shard;
    PgSource second_source{second.get(), {}, load_shard, {}};
    if (second) second_source.prefetch();
    Loader<PgSource> loader(main, tz, second ? &second_source : nullptr, orders_hint ? std::optional<size_t>(orders_hint) : std::nullopt, load_shard);
    LoadResult res = loader.run();
    if (second) second->exec("COMMIT");
    conn_.statements += second ? second->statements : 0;
    conn_.exec("COMMIT");
    res.facts.models = read_model_rows(sql());  // the fitted lifetime models, as SQLite's load reads them
    return res;
  } catch (...) {
    conn_.try_exec("ROLLBACK");
    throw;
  }
}

}  // namespace crm::engine
