// Store::load_facts: reads every table of SPEC §5 in one pass each (raw sqlite3 statements, no
// per-customer query) into the columnar, sorted Facts; odd data becomes warnings, never a crash.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <memory>
#include <map>
#include <numeric>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/store/sqlite_store.hpp"
#include "engine/store/sqlite_store_impl.hpp"
#include "lang/builtins.hpp"

namespace crm::engine {

namespace {

// At most this many warnings of one kind are listed; the rest are summarised in one line, so a
// store with a million bad rows still gives a readable report.
constexpr size_t kMaxWarningsPerKind = 20;

// Keywords of SPEC §2: an extra column with one of these names cannot be written in a script.
constexpr const char* kKeywords[] = {
    "import", "let", "segment", "message", "rule", "when", "then", "on", "once", "per", "every", "days", "priority",
    "after", "from", "until", "journey", "day", "unless", "exit", "campaign", "limit", "timezone", "holdout",
    "transactional", "send", "via", "grant", "coupon", "points", "offer", "tag", "untag", "and", "or", "not", "in",
    "is", "null", "true", "false", "order", "event", "subscription", "today"};

class Warnings {
 public:
  void add(const std::string& kind, std::string message) {
    size_t& n = counts_[kind];
    if (n++ < kMaxWarningsPerKind) list_.push_back(std::move(message));
  }
  std::vector<std::string> finish() {
    for (const auto& [kind, n] : counts_)
      if (n > kMaxWarningsPerKind)
        list_.push_back("... and " + std::to_string(n - kMaxWarningsPerKind) + " more warnings like: " + kind);
    return std::move(list_);
  }

 private:
  std::map<std::string, size_t> counts_;
  std::vector<std::string> list_;
};

// A prepared statement over the raw C API (the loader reads millions of cells).
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("cannot read the store: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Query() { sqlite3_finalize(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("cannot read the store: ") + sqlite3_errmsg(db_));
  }
  int type(int i) const { return sqlite3_column_type(stmt_, i); }
  bool null(int i) const { return type(i) == SQLITE_NULL; }
  int64_t i64(int i) const { return sqlite3_column_int64(stmt_, i); }
  double f64(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string_view text(int i) const {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string_view();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

struct ColumnInfo {
  std::string name;
  std::string declared;
};

// The columns of a table (empty when the table does not exist).
std::vector<ColumnInfo> table_columns(sqlite3* db, const std::string& table) {
  std::vector<ColumnInfo> cols;
  Query q(db, "PRAGMA table_info(\"" + table + "\")");
  while (q.step()) cols.push_back({std::string(q.text(1)), std::string(q.text(2))});
  return cols;
}

std::string quote_ident(const std::string& s) {
  std::string out(1, '"');
  for (char c : s) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

// "SELECT a, NULL, c FROM t": the wanted columns, NULL for those the table lacks.
std::string select_sql(const std::vector<ColumnInfo>& have, const std::string& table, const std::vector<std::string>& wanted,
                       const std::string& tail = "") {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < wanted.size(); ++i) {
    bool present = wanted[i] == "rowid" ||
                   std::any_of(have.begin(), have.end(), [&](const ColumnInfo& c) { return c.name == wanted[i]; });
    if (i) sql += ", ";
    sql += present ? (wanted[i] == "rowid" ? "rowid" : quote_ident(wanted[i])) : "NULL";
  }
  return sql + " FROM " + quote_ident(table) + tail;
}

// An estimate of a table's rows from its rowid range (O(log n), unlike count(*) which reads the
// whole table), to reserve the loader's vectors; 0 when unknown or implausibly large.
constexpr int64_t kMaxRowsHint = int64_t{1} << 28;  // beyond this a hint could waste gigabytes
size_t rows_hint(sqlite3* db, const std::string& table) {
  try {
    // Two subqueries: SQLite answers a lone min() or max() from the b-tree's edge, but reads
    // the whole table for an expression of both.
    std::string t = quote_ident(table);
    Query q(db, "SELECT (SELECT max(rowid) FROM " + t + ") - (SELECT min(rowid) FROM " + t + ") + 1");
    if (!q.step() || q.type(0) != SQLITE_INTEGER) return 0;
    int64_t n = q.i64(0);
    return n > 0 && n <= kMaxRowsHint ? static_cast<size_t>(n) : 0;
  } catch (const StoreError&) {
    return 0;  // a view or a WITHOUT ROWID table: no hint
  }
}

std::string cell_text(const Query& q, int i) {
  if (q.null(i)) return "null";
  return std::string(q.text(i));
}

// Customer id -> row: a dense vector when ids are compact, a hash map otherwise.
class IdIndex {
 public:
  explicit IdIndex(const std::vector<int64_t>& ids) {
    if (ids.empty()) return;
    auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
    min_ = *lo;
    uint64_t span = static_cast<uint64_t>(*hi) - static_cast<uint64_t>(*lo);
    if (span <= 4 * ids.size() + 1024) {
      dense_.assign(span + 1, -1);
      for (size_t r = 0; r < ids.size(); ++r) dense_[static_cast<size_t>(ids[r] - min_)] = static_cast<int64_t>(r);
      use_dense_ = true;
    } else {
      sparse_.reserve(ids.size());
      for (size_t r = 0; r < ids.size(); ++r) sparse_.emplace(ids[r], static_cast<int64_t>(r));
    }
  }
  int64_t find(int64_t id) const {
    if (use_dense_) {
      if (id < min_) return -1;
      uint64_t k = static_cast<uint64_t>(id) - static_cast<uint64_t>(min_);
      return k < dense_.size() ? dense_[k] : -1;
    }
    auto it = sparse_.find(id);
    return it == sparse_.end() ? -1 : it->second;
  }

 private:
  int64_t min_ = 0;
  bool use_dense_ = false;
  std::vector<int64_t> dense_;
  std::unordered_map<int64_t, int64_t> sparse_;
};

// A date-or-timestamp cell: integer = Unix seconds; text = ISO-8601. nullopt when malformed.
std::optional<LocalTime> cell_time(const Query& q, int i, const TimeZone& tz) {
  switch (q.type(i)) {
    case SQLITE_INTEGER: return local_time_of_epoch(q.i64(i), tz);
    case SQLITE_TEXT: return parse_timestamp(q.text(i), tz);
    default: return std::nullopt;
  }
}

// true / false / 1 / 0 / yes / no (any case); nullopt when it is none of them.
std::optional<bool> cell_bool(const Query& q, int i) {
  if (q.type(i) == SQLITE_INTEGER) {
    int64_t v = q.i64(i);
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  if (q.type(i) == SQLITE_FLOAT) {
    double v = q.f64(i);
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  std::string s(q.text(i));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "true" || s == "t" || s == "yes" || s == "y") return true;
  if (s == "0" || s == "false" || s == "f" || s == "no" || s == "n") return false;
  return std::nullopt;
}

std::optional<int64_t> cell_int(const Query& q, int i) {
  if (q.type(i) == SQLITE_INTEGER) return q.i64(i);
  if (q.type(i) == SQLITE_FLOAT) {
    double v = q.f64(i);
    if (v == static_cast<double>(static_cast<int64_t>(v))) return static_cast<int64_t>(v);
    return std::nullopt;
  }
  if (q.type(i) == SQLITE_TEXT) {
    std::string s(q.text(i));
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0' && errno == 0) return v;
  }
  return std::nullopt;
}

std::optional<double> cell_decimal(const Query& q, int i) {
  if (q.type(i) == SQLITE_INTEGER || q.type(i) == SQLITE_FLOAT) return q.f64(i);
  if (q.type(i) == SQLITE_TEXT) {
    std::string s(q.text(i));
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return v;
  }
  return std::nullopt;
}

// paid / cancelled (or canceled) / refunded, in any case; anything else is Unknown.
OrderStatus order_status(std::string_view text) {
  if (text == "paid") return OrderStatus::Paid;  // the common case, without copying
  std::string s(text);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "paid") return OrderStatus::Paid;
  if (s == "cancelled" || s == "canceled") return OrderStatus::Cancelled;
  if (s == "refunded") return OrderStatus::Refunded;
  return OrderStatus::Unknown;
}

// The attribute type of an extra customers column, from its declared SQL type (SQLite's own
// affinity rules, plus DATE and BOOLEAN). nullopt for BLOB columns, which cannot be attributes.
std::optional<lang::Type> type_of_declared(const std::string& declared) {
  std::string t = declared;
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("BOOL")) return lang::Type::boolean();
  if (has("DATE") || has("TIME")) return lang::Type::date();
  if (has("INT")) return lang::Type::integer();
  if (has("REAL") || has("FLOA") || has("DOUB") || has("NUMERIC") || has("DECIMAL") || has("NUMBER") || has("MONEY"))
    return lang::Type::decimal();
  if (has("BLOB")) return std::nullopt;
  return lang::Type::string();
}

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The SPEC §5 columns of customers, in the order the loader selects them.
const std::vector<std::string> kSpec = {"id", "name", "email", "birthday", "created_at", "email_opt_in",
                                        "line_opt_in", "sms_opt_in", "push_opt_in", "dm_opt_in", "referred_by"};

// The extra columns of customers that can be attributes (values left empty); `skipped` gets
// one line for each column that cannot, saying why.
std::vector<ExtraColumn> extra_columns(const std::vector<ColumnInfo>& have, std::vector<std::string>* skipped) {
  std::vector<ExtraColumn> out;
  std::set<std::string> keywords(std::begin(kKeywords), std::end(kKeywords));
  for (const ColumnInfo& c : have) {
    if (std::find(kSpec.begin(), kSpec.end(), c.name) != kSpec.end()) continue;
    std::string why;
    auto type = type_of_declared(c.declared);
    if (!is_identifier(c.name)) why = "its name is not an identifier";
    else if (keywords.count(c.name)) why = "its name is a keyword";
    else if (stdlib::find_attribute(c.name)) why = "a builtin attribute has that name";
    else if (!type) why = "BLOB columns cannot be attributes";
    if (!why.empty()) {
      if (skipped) skipped->push_back("customers." + c.name + " is not an attribute: " + why);
      continue;
    }
    ExtraColumn e;
    e.name = c.name;
    e.type = *type;
    e.declared_type = c.declared;
    out.push_back(std::move(e));
  }
  return out;
}

// Sorts items into CSR order by row: returns the permutation (stable counting sort) and fills
// `offsets` (rows + 1). Each row's items are then ordered by `less` (indexes into the inputs).
template <class Less>
std::vector<uint32_t> csr_order(const std::vector<uint32_t>& row_of_item, size_t rows, Offsets& offsets, Less less) {
  offsets.assign(rows + 1, 0);
  for (uint32_t r : row_of_item) ++offsets[r + 1];
  for (size_t r = 0; r < rows; ++r) offsets[r + 1] += offsets[r];
  std::vector<uint32_t> perm(row_of_item.size());
  std::vector<uint32_t> next(offsets.begin(), offsets.end() - 1);
  for (uint32_t i = 0; i < row_of_item.size(); ++i) perm[next[row_of_item[i]]++] = i;
  for (size_t r = 0; r < rows; ++r)
    if (offsets[r + 1] - offsets[r] > 1) std::sort(perm.begin() + offsets[r], perm.begin() + offsets[r + 1], less);
  return perm;
}

// Indexes sorted by (local time, id): a counting sort by day, then a small sort within each
// day, so ten million orders sort in linear time. Very spread-out days fall back to std::sort.
std::vector<uint32_t> time_order(const std::vector<Days>& day, const std::vector<int64_t>& secs, const std::vector<int64_t>& id) {
  size_t n = day.size();
  std::vector<uint32_t> perm(n);
  auto less = [&](uint32_t a, uint32_t b) { return secs[a] != secs[b] ? secs[a] < secs[b] : id[a] < id[b]; };
  if (n == 0) return perm;
  auto [lo, hi] = std::minmax_element(day.begin(), day.end());
  uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(*hi) - *lo) + 1;
  if (span > 4 * n + 100'000) {
    std::iota(perm.begin(), perm.end(), 0u);
    std::sort(perm.begin(), perm.end(), less);
    return perm;
  }
  std::vector<uint32_t> start(span + 1, 0);
  for (Days d : day) ++start[static_cast<size_t>(d - *lo) + 1];
  for (size_t k = 0; k < span; ++k) start[k + 1] += start[k];
  std::vector<uint32_t> next(start.begin(), start.end() - 1);
  for (uint32_t i = 0; i < n; ++i) perm[next[static_cast<size_t>(day[i] - *lo)]++] = i;
  for (size_t k = 0; k < span; ++k)
    if (start[k + 1] - start[k] > 1) std::sort(perm.begin() + start[k], perm.begin() + start[k + 1], less);
  return perm;
}

// v reordered by perm; v itself is released (keeps the loader's peak memory near one copy).
template <class T>
std::vector<T> permute(std::vector<T>& v, const std::vector<uint32_t>& perm) {
  std::vector<T> out;
  out.reserve(perm.size());
  for (uint32_t i : perm) out.push_back(std::move(v[i]));
  std::vector<T>().swap(v);
  return out;
}

// The orders table as read, before customers are known (so it can be read on a second
// connection while customers load). Every row is kept; the rare odd rows (non-integer ids, bad
// ordered_at or total, unknown status) also keep the texts their warnings quote, so replaying
// the scan gives exactly the warnings and rows of a direct read.
struct OrderScan {
  struct Odd {
    size_t pos = 0;  // index of the row in the scan
    std::string id_text, cid_text, time_text, total_text, status_text;
    std::optional<int64_t> cid;
    std::optional<LocalTime> time;
    std::optional<double> total;
    bool time_null = false, status_null = false;
  };
  bool have_table = false;
  std::vector<int64_t> id, cid, secs;
  std::vector<Days> day;
  std::vector<double> total;
  std::vector<OrderStatus> status;
  std::vector<Odd> odd;  // by pos
};

// `hint`: the rows_hint of orders when the caller has it (nullopt: ask). `where`: a rowid
// range (" WHERE rowid < 500") to scan part of the table, in rowid order like a full scan.
OrderScan scan_orders(sqlite3* db, const TimeZone& tz, std::optional<size_t> hint, const std::string& where = "") {
  OrderScan s;
  auto have = table_columns(db, "orders");
  if (have.empty()) return s;
  s.have_table = true;
  Query q(db, select_sql(have, "orders", {"id", "customer_id", "ordered_at", "total", "status"}, where));
  if (size_t n = hint ? *hint : rows_hint(db, "orders")) {
    s.id.reserve(n);
    s.cid.reserve(n);
    s.secs.reserve(n);
    s.day.reserve(n);
    s.total.reserve(n);
    s.status.reserve(n);
  }
  while (q.step()) {
    auto cid = cell_int(q, 1);
    auto t = q.null(2) ? std::nullopt : cell_time(q, 2, tz);
    auto tot = cell_decimal(q, 3);
    OrderStatus st = order_status(q.null(4) ? std::string_view() : q.text(4));
    if (q.type(0) != SQLITE_INTEGER || q.type(1) != SQLITE_INTEGER || !t || !tot || st == OrderStatus::Unknown) {
      OrderScan::Odd o;
      o.pos = s.id.size();
      o.id_text = cell_text(q, 0);
      o.cid_text = cell_text(q, 1);
      o.cid = cid;
      o.time = t;
      o.time_null = q.null(2);
      if (!t) o.time_text = cell_text(q, 2);
      o.total = tot;
      if (!tot) o.total_text = cell_text(q, 3);
      o.status_null = q.null(4);
      if (st == OrderStatus::Unknown && !q.null(4)) o.status_text = std::string(q.text(4));
      s.odd.push_back(std::move(o));
    }
    s.id.push_back(q.i64(0));
    s.cid.push_back(cid.value_or(0));
    s.secs.push_back(t ? t->local_seconds : 0);
    s.day.push_back(t ? t->day : 0);
    s.total.push_back(tot.value_or(0));
    s.status.push_back(st);
  }
  return s;
}

// The order_items table as read, before orders are known: each item's order id and its
// product's position in `sku` (kNoProduct: unknown product, or one without a sku). Items
// whose order_id is not an integer are dropped here (no order can match them).
struct ItemScan {
  static constexpr uint32_t kNoProduct = UINT32_MAX;
  bool have_tables = false;
  std::vector<std::string> sku;  // products with an id and a sku, in table order
  std::vector<int64_t> order_id;
  std::vector<uint32_t> product;
};

ItemScan scan_items(sqlite3* db) {
  ItemScan s;
  auto items = table_columns(db, "order_items");
  auto products = table_columns(db, "products");
  if (items.empty() || products.empty()) return s;
  s.have_tables = true;
  std::vector<int64_t> product_ids;
  {
    Query p(db, select_sql(products, "products", {"id", "sku"}));
    while (p.step()) {
      auto pid = cell_int(p, 0);
      if (!pid || p.null(1)) continue;
      product_ids.push_back(*pid);
      s.sku.emplace_back(p.text(1));
    }
  }
  IdIndex product_index(product_ids);
  Query q(db, select_sql(items, "order_items", {"order_id", "product_id"}));
  if (size_t hint = rows_hint(db, "order_items")) {
    s.order_id.reserve(hint);
    s.product.reserve(hint);
  }
  while (q.step()) {
    auto oid = cell_int(q, 0);
    if (!oid) continue;
    auto pid = cell_int(q, 1);
    int64_t k = pid ? product_index.find(*pid) : -1;
    s.order_id.push_back(*oid);
    s.product.push_back(k < 0 ? ItemScan::kNoProduct : static_cast<uint32_t>(k));
  }
  return s;
}

// What the second connection reads while the first reads customers.
struct SecondScan {
  OrderScan orders;
  ItemScan items;
};

// The rowid that splits orders into two halves for the two threads; nullopt when the table
// has no rowid range (missing, empty, a view).
std::optional<int64_t> orders_middle(sqlite3* db) {
  try {
    Query q(db, "SELECT (SELECT min(rowid) FROM orders) / 2 + (SELECT max(rowid) FROM orders) / 2");
    if (!q.step() || q.type(0) != SQLITE_INTEGER) return std::nullopt;
    return q.i64(0);
  } catch (const StoreError&) {
    return std::nullopt;
  }
}

// `tail` appended to `head`: the scan of the whole range.
void append(OrderScan& head, OrderScan&& tail) {
  size_t base = head.id.size();
  for (auto& o : tail.odd) {
    o.pos += base;
    head.odd.push_back(std::move(o));
  }
  auto cat = [](auto& a, auto& b) {
    a.insert(a.end(), b.begin(), b.end());
    std::remove_reference_t<decltype(b)>().swap(b);
  };
  cat(head.id, tail.id);
  cat(head.cid, tail.cid);
  cat(head.secs, tail.secs);
  cat(head.day, tail.day);
  cat(head.total, tail.total);
  cat(head.status, tail.status);
}

class Loader {
 public:
  // `second`: another connection reading the same snapshot (see Store::load_facts), or null to
  // read everything on `db`.
  // `orders_hint`: rows_hint of orders if the caller has it.
  Loader(sqlite3* db, const TimeZone& tz, sqlite3* second = nullptr, std::optional<size_t> orders_hint = std::nullopt)
      : db_(db), second_(second), tz_(tz), orders_hint_(orders_hint) {
    facts_.timezone = tz.name();
    // compute_frame needs these ids and never interns (see attributes.hpp).
    facts_.strings->intern("active");
    facts_.strings->intern("cancelled");
  }

  LoadResult run() {
    SecondScan scan;
    if (second_) {
      // Orders and items on a second thread and connection while this one reads customers.
      // The scans touch no shared state: their own connection, a copy of the zone, no interning.
      // Orders are split by rowid: the second thread takes the upper half, then the items;
      // this one the lower half after customers (customers take about as long as items).
      TimeZone tz2 = tz_;
      std::optional<int64_t> middle = orders_middle(db_);
      std::string upper = middle ? " WHERE rowid >= " + std::to_string(*middle) : "";
      std::exception_ptr error;
      std::thread thread([&] {
        try {
          std::optional<size_t> half = orders_hint_ && middle ? std::optional<size_t>(*orders_hint_ / 2 + 1) : orders_hint_;
          scan.orders = scan_orders(second_, tz2, half, upper);
          scan.items = scan_items(second_);
        } catch (...) {
          error = std::current_exception();
        }
      });
      OrderScan lower;
      try {
        load_customers();
        if (middle) lower = scan_orders(db_, tz_, orders_hint_, " WHERE rowid < " + std::to_string(*middle));
      } catch (...) {
        thread.join();
        throw;
      }
      thread.join();
      if (error) std::rethrow_exception(error);
      if (middle) {
        append(lower, std::move(scan.orders));
        scan.orders = std::move(lower);
      }
    } else {
      load_customers();
    }
    IdIndex index(facts_.customer_id);
    load_orders(index, second_ ? &scan : nullptr);
    load_subscriptions(index);
    load_surveys(index);
    load_referrals(index);
    load_events(index);
    load_tags(index);
    load_outbox(index);
    return {std::move(facts_), warnings_.finish()};
  }

 private:
  int64_t intern(const Query& q, int i) {
    if (q.null(i)) return -1;
    return facts_.strings->intern(q.text(i));
  }

  // A day column that may be null: malformed values warn and become kNoDay.
  template <class RowName>
  Days optional_day(const Query& q, int i, const char* table, const char* column, const RowName& row) {
    if (q.null(i)) return kNoDay;
    auto t = cell_time(q, i, tz_);
    if (t) return t->day;
    warnings_.add(std::string("bad ") + table + "." + column,
                  std::string(table) + " " + row() + ": malformed " + column + " '" + cell_text(q, i) + "' (taken as null)");
    return kNoDay;
  }

  void load_customers() {
    auto have = table_columns(db_, "customers");
    if (have.empty()) {
      warnings_.add("no customers table", "the store has no customers table");
      finish_customers(0);
      return;
    }
    std::vector<std::string> wanted = kSpec;
    std::vector<std::string> skipped;
    facts_.extra = extra_columns(have, &skipped);
    for (auto& why : skipped) warnings_.add("extra column", std::move(why));
    for (const ExtraColumn& e : facts_.extra) wanted.push_back(e.name);
    Query q(db_, select_sql(have, "customers", wanted, " ORDER BY 1"));
    if (size_t hint = rows_hint(db_, "customers")) {
      facts_.customer_id.reserve(hint);
      facts_.strings->reserve(2 * hint);  // names and e-mail addresses
    }
    int64_t previous = 0;
    bool first = true;
    while (q.step()) {
      auto id = cell_int(q, 0);
      if (!id) {
        warnings_.add("bad customers.id", "customers: a row has a bad id '" + cell_text(q, 0) + "' (skipped)");
        continue;
      }
      if (!first && *id == previous) {
        warnings_.add("duplicate customers.id", "customers id " + std::to_string(*id) + ": duplicate id (later row skipped)");
        continue;
      }
      first = false;
      previous = *id;
      auto row = [id = *id] { return "id " + std::to_string(id); };
      facts_.customer_id.push_back(*id);
      facts_.name.push_back(intern(q, 1));
      facts_.email.push_back(intern(q, 2));
      facts_.birthday.push_back(optional_day(q, 3, "customers", "birthday", row));
      facts_.created_at.push_back(optional_day(q, 4, "customers", "created_at", row));
      for (size_t k = 0; k < kOptInCount; ++k) {
        int col = static_cast<int>(5 + k);
        int8_t v = -1;
        if (!q.null(col)) {
          auto b = cell_bool(q, col);
          if (b) v = *b ? 1 : 0;
          else
            warnings_.add(std::string("bad customers.") + kOptInColumns[k],
                          "customers " + row() + ": " + kOptInColumns[k] + " '" + cell_text(q, col) +
                              "' is not a boolean (taken as null: no consent)");
        }
        facts_.opt_in[k].push_back(v);
      }
      auto ref = q.null(10) ? std::nullopt : cell_int(q, 10);
      if (!q.null(10) && !ref)
        warnings_.add("bad customers.referred_by", "customers " + row() + ": referred_by '" + cell_text(q, 10) + "' is not an id (taken as null)");
      facts_.referred_by.push_back(ref.value_or(0));
      facts_.referred_by_valid.push_back(ref ? 1 : 0);
      for (size_t k = 0; k < facts_.extra.size(); ++k) read_extra(q, static_cast<int>(kSpec.size() + k), facts_.extra[k], row);
    }
    finish_customers(facts_.customer_id.size());
  }

  void finish_customers(size_t rows) {
    // ORDER BY id already sorted them; a text id column could sort differently, so make sure.
    if (!std::is_sorted(facts_.customer_id.begin(), facts_.customer_id.end())) {
      std::vector<uint32_t> perm(rows);
      std::iota(perm.begin(), perm.end(), 0u);
      std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) { return facts_.customer_id[a] < facts_.customer_id[b]; });
      facts_.customer_id = permute(facts_.customer_id, perm);
      facts_.name = permute(facts_.name, perm);
      facts_.email = permute(facts_.email, perm);
      facts_.birthday = permute(facts_.birthday, perm);
      facts_.created_at = permute(facts_.created_at, perm);
      for (auto& o : facts_.opt_in) o = permute(o, perm);
      facts_.referred_by = permute(facts_.referred_by, perm);
      facts_.referred_by_valid = permute(facts_.referred_by_valid, perm);
      for (auto& e : facts_.extra) {
        if (!e.i64.empty()) e.i64 = permute(e.i64, perm);
        if (!e.f64.empty()) e.f64 = permute(e.f64, perm);
        e.valid = permute(e.valid, perm);
      }
    }
  }

  template <class RowName>
  void read_extra(const Query& q, int col, ExtraColumn& e, const RowName& row) {
    bool ok = true;
    int64_t iv = 0;
    double dv = 0;
    if (q.null(col)) {
      ok = false;
    } else {
      switch (e.type.kind) {
        case lang::TypeKind::Bool: {
          auto b = cell_bool(q, col);
          ok = b.has_value();
          iv = b.value_or(false);
          break;
        }
        case lang::TypeKind::Int: {
          auto v = cell_int(q, col);
          ok = v.has_value();
          iv = v.value_or(0);
          break;
        }
        case lang::TypeKind::Decimal: {
          auto v = cell_decimal(q, col);
          ok = v.has_value();
          dv = v.value_or(0);
          break;
        }
        case lang::TypeKind::Date: {
          auto t = cell_time(q, col, tz_);
          ok = t.has_value();
          iv = t ? t->day : 0;
          break;
        }
        default: iv = facts_.strings->intern(q.text(col)); break;
      }
      if (!ok)
        warnings_.add("bad customers." + e.name, "customers " + row() + ": " + e.name + " '" + cell_text(q, col) + "' is not a " +
                                                     lang::type_name(e.type) + " (taken as null)");
    }
    if (e.type.kind == lang::TypeKind::Decimal) e.f64.push_back(dv);
    else e.i64.push_back(iv);
    e.valid.push_back(ok ? 1 : 0);
  }

  // Orders from a scan (read on the second connection, or here): unknown customers and bad
  // values warn in table order, as a direct read would.
  void load_orders(const IdIndex& index, SecondScan* second) {
    OrderScan own;
    if (!second) own = scan_orders(db_, tz_, orders_hint_);
    OrderScan& s = second ? second->orders : own;
    size_t rows = facts_.rows();
    std::vector<uint32_t> row;
    row.reserve(s.id.size());
    std::map<std::string, size_t> unknown_status;
    size_t kept = 0, next_odd = 0;
    for (size_t i = 0; i < s.id.size(); ++i) {
      int64_t r;
      OrderStatus st = s.status[i];
      if (next_odd < s.odd.size() && s.odd[next_odd].pos == i) {
        const OrderScan::Odd& o = s.odd[next_odd++];
        auto oid = [&o] { return "id " + o.id_text; };
        r = o.cid ? index.find(*o.cid) : -1;
        if (r < 0) {
          warnings_.add("orders of unknown customers", "orders " + oid() + ": unknown customer " + o.cid_text + " (order skipped)");
          continue;
        }
        if (!o.time) {
          warnings_.add("bad orders.ordered_at", "orders " + oid() + ": " + (o.time_null ? "no ordered_at" : "malformed ordered_at '" + o.time_text + "'") + " (order skipped)");
          continue;
        }
        if (!o.total) warnings_.add("bad orders.total", "orders " + oid() + ": total '" + o.total_text + "' is not a number (taken as 0)");
        if (st == OrderStatus::Unknown) ++unknown_status[o.status_null ? "null" : o.status_text];
      } else {
        r = index.find(s.cid[i]);
        if (r < 0) {
          warnings_.add("orders of unknown customers", "orders id " + std::to_string(s.id[i]) + ": unknown customer " +
                                                           std::to_string(s.cid[i]) + " (order skipped)");
          continue;
        }
      }
      row.push_back(static_cast<uint32_t>(r));
      s.id[kept] = s.id[i];
      s.secs[kept] = s.secs[i];
      s.day[kept] = s.day[i];
      s.total[kept] = s.total[i];
      s.status[kept] = st;
      ++kept;
    }
    std::vector<int64_t>().swap(s.cid);
    s.id.resize(kept);
    s.secs.resize(kept);
    s.day.resize(kept);
    s.total.resize(kept);
    s.status.resize(kept);
    auto& id = s.id;
    auto& secs = s.secs;
    for (const auto& [st, n] : unknown_status)
      warnings_.add("unknown order status", "orders: " + std::to_string(n) + " order(s) with unknown status '" + st +
                                                "' (not purchases; statuses are paid, cancelled, refunded)");
    auto perm = csr_order(row, rows, facts_.order_offsets, [&](uint32_t a, uint32_t b) {
      return secs[a] != secs[b] ? secs[a] < secs[b] : id[a] < id[b];
    });
    facts_.order_row = permute(row, perm);
    facts_.order_id = permute(id, perm);
    facts_.order_local_seconds = permute(secs, perm);
    facts_.order_day = permute(s.day, perm);
    facts_.order_total = permute(s.total, perm);
    facts_.order_status = permute(s.status, perm);
    load_items(second);
    facts_.orders_by_day = time_order(facts_.order_day, facts_.order_local_seconds, facts_.order_id);
  }

  void load_items(SecondScan* second) {
    size_t n_orders = facts_.order_id.size();
    facts_.item_offsets.assign(n_orders + 1, 0);
    if (n_orders == 0) return;
    ItemScan own;
    if (!second) own = scan_items(db_);
    ItemScan& s = second ? second->items : own;
    if (!s.have_tables) return;
    // SKUs are interned here, in products order, as a direct read would.
    std::vector<int64_t> product_sku;
    product_sku.reserve(s.sku.size());
    for (const std::string& k : s.sku) product_sku.push_back(facts_.strings->intern(k));
    IdIndex order_index(facts_.order_id);
    std::vector<uint32_t> order_of;
    std::vector<int64_t> sku;
    order_of.reserve(s.order_id.size());
    sku.reserve(s.order_id.size());
    size_t unknown_products = 0;
    for (size_t i = 0; i < s.order_id.size(); ++i) {
      int64_t o = order_index.find(s.order_id[i]);
      if (o < 0) continue;  // its order was skipped (and warned about) or does not exist
      if (s.product[i] == ItemScan::kNoProduct) {
        ++unknown_products;
        continue;
      }
      order_of.push_back(static_cast<uint32_t>(o));
      sku.push_back(product_sku[s.product[i]]);
    }
    std::vector<int64_t>().swap(s.order_id);
    std::vector<uint32_t>().swap(s.product);
    if (unknown_products)
      warnings_.add("order items of unknown products", "order_items: " + std::to_string(unknown_products) +
                                                           " item(s) name an unknown product or one without a sku (ignored)");
    Offsets offsets;
    auto perm = csr_order(order_of, n_orders, offsets, [&](uint32_t a, uint32_t b) { return sku[a] < sku[b]; });
    // Keep each order's distinct SKUs.
    auto& out_off = facts_.item_offsets;
    auto& out = facts_.item_sku;
    out.reserve(perm.size());
    for (size_t o = 0; o < n_orders; ++o) {
      out_off[o] = static_cast<uint32_t>(out.size());
      for (uint32_t k = offsets[o]; k < offsets[o + 1]; ++k) {
        int64_t s = sku[perm[k]];
        if (out.size() == out_off[o] || out.back() != s) out.push_back(s);
      }
    }
    out_off[n_orders] = static_cast<uint32_t>(out.size());
  }

  void load_subscriptions(const IdIndex& index) {
    auto have = table_columns(db_, "subscriptions");
    std::vector<uint32_t> row;
    std::vector<int64_t> id, status, cycles, reason;
    std::vector<uint8_t> cycles_valid;
    std::vector<Days> start, cancelled;
    if (!have.empty()) {
      Query q(db_, select_sql(have, "subscriptions",
                              {"id", "customer_id", "started_at", "status", "cycles", "cancelled_at", "cancel_reason"}));
      while (q.step()) {
        auto sid = [&q] { return std::string("id ") + cell_text(q, 0); };
        auto cid = cell_int(q, 1);
        int64_t r = cid ? index.find(*cid) : -1;
        if (r < 0) {
          warnings_.add("subscriptions of unknown customers", "subscriptions " + sid() + ": unknown customer " + cell_text(q, 1) + " (skipped)");
          continue;
        }
        auto t = q.null(2) ? std::nullopt : cell_time(q, 2, tz_);
        if (!t) {
          warnings_.add("bad subscriptions.started_at", "subscriptions " + sid() + ": " +
                                                            (q.null(2) ? "no started_at" : "malformed started_at '" + cell_text(q, 2) + "'") + " (skipped)");
          continue;
        }
        auto cyc = q.null(4) ? std::nullopt : cell_int(q, 4);
        if (!q.null(4) && !cyc) warnings_.add("bad subscriptions.cycles", "subscriptions " + sid() + ": cycles '" + cell_text(q, 4) + "' is not an integer (taken as null)");
        row.push_back(static_cast<uint32_t>(r));
        id.push_back(q.i64(0));
        start.push_back(t->day);
        status.push_back(intern(q, 3));
        cycles.push_back(cyc.value_or(0));
        cycles_valid.push_back(cyc ? 1 : 0);
        cancelled.push_back(optional_day(q, 5, "subscriptions", "cancelled_at", sid));
        reason.push_back(intern(q, 6));
      }
    }
    auto perm = csr_order(row, facts_.rows(), facts_.sub_offsets, [&](uint32_t a, uint32_t b) {
      return start[a] != start[b] ? start[a] < start[b] : id[a] < id[b];
    });
    facts_.sub_id = permute(id, perm);
    facts_.sub_start = permute(start, perm);
    facts_.sub_status = permute(status, perm);
    facts_.sub_cycles = permute(cycles, perm);
    facts_.sub_cycles_valid = permute(cycles_valid, perm);
    facts_.sub_cancelled = permute(cancelled, perm);
    facts_.sub_cancel_reason = permute(reason, perm);
  }

  void load_surveys(const IdIndex& index) {
    auto have = table_columns(db_, "surveys");
    std::vector<uint32_t> row;
    std::vector<Days> day;
    std::vector<int64_t> score;
    if (!have.empty()) {
      Query q(db_, select_sql(have, "surveys", {"rowid", "customer_id", "answered_at", "satisfaction"}));
      while (q.step()) {
        auto rid = [&q] { return std::string("rowid ") + cell_text(q, 0); };
        auto cid = cell_int(q, 1);
        int64_t r = cid ? index.find(*cid) : -1;
        if (r < 0) {
          warnings_.add("surveys of unknown customers", "surveys " + rid() + ": unknown customer " + cell_text(q, 1) + " (skipped)");
          continue;
        }
        auto t = q.null(2) ? std::nullopt : cell_time(q, 2, tz_);
        if (!t) {
          warnings_.add("bad surveys.answered_at", "surveys " + rid() + ": " + (q.null(2) ? "no answered_at" : "malformed answered_at '" + cell_text(q, 2) + "'") + " (skipped)");
          continue;
        }
        auto s = cell_int(q, 3);
        if (!s || *s < 1 || *s > 5) {
          warnings_.add("bad surveys.satisfaction", "surveys " + rid() + ": satisfaction '" + cell_text(q, 3) + "' is not 1..5 (skipped)");
          continue;
        }
        row.push_back(static_cast<uint32_t>(r));
        day.push_back(t->day);
        score.push_back(*s);
      }
    }
    auto perm = csr_order(row, facts_.rows(), facts_.survey_offsets, [&](uint32_t a, uint32_t b) {
      return day[a] != day[b] ? day[a] < day[b] : a < b;
    });
    facts_.survey_day = permute(day, perm);
    facts_.survey_satisfaction = permute(score, perm);
  }

  void load_referrals(const IdIndex& index) {
    auto have = table_columns(db_, "referrals");
    std::vector<uint32_t> row;
    std::vector<Days> day;
    if (!have.empty()) {
      Query q(db_, select_sql(have, "referrals", {"rowid", "referrer_id", "created_at"}));
      while (q.step()) {
        auto rid = [&q] { return std::string("rowid ") + cell_text(q, 0); };
        auto cid = cell_int(q, 1);
        int64_t r = cid ? index.find(*cid) : -1;
        if (r < 0) {
          warnings_.add("referrals by unknown customers", "referrals " + rid() + ": unknown referrer " + cell_text(q, 1) + " (skipped)");
          continue;
        }
        row.push_back(static_cast<uint32_t>(r));
        day.push_back(optional_day(q, 2, "referrals", "created_at", rid));  // null: counted on every date
      }
    }
    auto perm = csr_order(row, facts_.rows(), facts_.referral_offsets, [&](uint32_t a, uint32_t b) { return day[a] < day[b]; });
    facts_.referral_day = permute(day, perm);
  }

  void load_events(const IdIndex& index) {
    auto have = table_columns(db_, "events");
    auto& f = facts_;
    if (!have.empty()) {
      Query q(db_, select_sql(have, "events", {"id", "customer_id", "type", "at", "payload"}));
      while (q.step()) {
        auto eid = [&q] { return std::string("id ") + cell_text(q, 0); };
        auto cid = cell_int(q, 1);
        int64_t r = cid ? index.find(*cid) : -1;
        if (r < 0) {
          warnings_.add("events of unknown customers", "events " + eid() + ": unknown customer " + cell_text(q, 1) + " (skipped)");
          continue;
        }
        if (q.null(2)) {
          warnings_.add("events without type", "events " + eid() + ": no type (skipped)");
          continue;
        }
        auto t = q.null(3) ? std::nullopt : cell_time(q, 3, tz_);
        if (!t) {
          warnings_.add("bad events.at", "events " + eid() + ": " + (q.null(3) ? "no at" : "malformed at '" + cell_text(q, 3) + "'") + " (skipped)");
          continue;
        }
        f.event_id.push_back(q.i64(0));
        f.event_row.push_back(static_cast<uint32_t>(r));
        f.event_type.push_back(intern(q, 2));
        f.event_day.push_back(t->day);
        f.event_local_seconds.push_back(t->local_seconds);
        f.event_payload.emplace_back(q.null(4) ? std::string_view() : q.text(4));
      }
    }
    std::vector<uint32_t> perm = time_order(f.event_day, f.event_local_seconds, f.event_id);
    f.event_id = permute(f.event_id, perm);
    f.event_row = permute(f.event_row, perm);
    f.event_type = permute(f.event_type, perm);
    f.event_day = permute(f.event_day, perm);
    f.event_local_seconds = permute(f.event_local_seconds, perm);
    f.event_payload = permute(f.event_payload, perm);
  }

  void load_tags(const IdIndex& index) {
    auto have = table_columns(db_, "tags");
    std::vector<uint32_t> row;
    std::vector<int64_t> tag;
    std::vector<Days> set_at;
    if (!have.empty()) {
      Query q(db_, select_sql(have, "tags", {"rowid", "customer_id", "tag", "set_at"}));
      while (q.step()) {
        auto rid = [&q] { return std::string("rowid ") + cell_text(q, 0); };
        auto cid = cell_int(q, 1);
        int64_t r = cid ? index.find(*cid) : -1;
        if (r < 0) {
          warnings_.add("tags of unknown customers", "tags " + rid() + ": unknown customer " + cell_text(q, 1) + " (skipped)");
          continue;
        }
        if (q.null(2)) {
          warnings_.add("tags without name", "tags " + rid() + ": null tag (skipped)");
          continue;
        }
        row.push_back(static_cast<uint32_t>(r));
        tag.push_back(intern(q, 2));
        set_at.push_back(optional_day(q, 3, "tags", "set_at", rid));  // null: set on every date
      }
    }
    Offsets offsets;
    // By tag, then earliest set_at first (kNoDay is the smallest), so dedupe keeps the earliest.
    auto perm = csr_order(row, facts_.rows(), offsets, [&](uint32_t a, uint32_t b) {
      return tag[a] != tag[b] ? tag[a] < tag[b] : set_at[a] < set_at[b];
    });
    facts_.tag_offsets.assign(facts_.rows() + 1, 0);
    for (size_t r = 0; r < facts_.rows(); ++r) {
      facts_.tag_offsets[r] = static_cast<uint32_t>(facts_.tag.size());
      for (uint32_t k = offsets[r]; k < offsets[r + 1]; ++k) {
        uint32_t i = perm[k];
        if (facts_.tag.size() > facts_.tag_offsets[r] && facts_.tag.back() == tag[i]) continue;  // duplicate tag
        facts_.tag.push_back(tag[i]);
        facts_.tag_set_at.push_back(set_at[i]);
      }
    }
    facts_.tag_offsets[facts_.rows()] = static_cast<uint32_t>(facts_.tag.size());
  }

  void load_outbox(const IdIndex& index) {
    auto have = table_columns(db_, "outbox");
    if (have.empty()) return;
    Query q(db_, select_sql(have, "outbox", {"id", "run_date", "customer_id", "rule", "action", "target", "idem_key", "channel"},
                            " ORDER BY run_date, id"));
    while (q.step()) {
      Facts::OutboxEntry e;
      e.id = q.i64(0);
      auto d = q.type(1) == SQLITE_TEXT ? parse_timestamp(q.text(1), tz_) : std::nullopt;
      if (!d) {
        warnings_.add("bad outbox.run_date", "outbox id " + std::to_string(e.id) + ": malformed run_date '" + cell_text(q, 1) + "' (ignored for dedupe)");
        continue;
      }
      e.run_date = d->day;
      e.customer_id = q.i64(2);
      e.row = index.find(e.customer_id);
      e.rule = std::string(q.text(3));
      e.action = std::string(q.text(4));
      e.target = std::string(q.text(5));
      e.idem_key = std::string(q.text(6));
      if (!q.null(7)) e.channel = std::string(q.text(7));
      facts_.outbox.push_back(std::move(e));
    }
  }

  sqlite3* db_;
  sqlite3* second_;
  const TimeZone& tz_;
  std::optional<size_t> orders_hint_;
  Facts facts_;
  Warnings warnings_;
};

}  // namespace

std::vector<lang::CheckOptions::Extra> SqliteStore::extra_attributes() {
  std::vector<lang::CheckOptions::Extra> out;
  for (const ExtraColumn& e : extra_columns(table_columns(impl_->db.getHandle(), "customers"), nullptr))
    out.push_back({e.name, e.type});
  return out;
}

namespace {

// A read-only connection to the same file for the parallel load, or null when there is none
// (an in-memory store, or the file cannot be opened again).
struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;

DbHandle open_second(sqlite3* db) {
  const char* file = sqlite3_db_filename(db, "main");
  if (!file || !*file) return nullptr;  // ":memory:" or a temporary database
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file, &raw, SQLITE_OPEN_READONLY, nullptr);
  DbHandle second(raw);
  if (rc != SQLITE_OK) return nullptr;
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return second;
}

int64_t data_version(sqlite3* db) {
  Query q(db, "PRAGMA data_version");
  return q.step() ? q.i64(0) : -1;
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    throw StoreError(std::string("cannot read the store: ") + sqlite3_errmsg(db) + " in: " + sql);
}

// Starts the read transaction of `db` now (BEGIN alone defers it to the first read).
void start_read(sqlite3* db) {
  Query q(db, "SELECT 1 FROM sqlite_master LIMIT 1");
  q.step();
}

// Opens read transactions on `main` (already in BEGIN, not yet reading) and `second` that see
// the same snapshot. There is no snapshot API in this SQLite build, so: `second` reads
// PRAGMA data_version (v0), `main` starts its read, `second` starts its read and reads
// data_version again (v1). data_version changes when another connection commits, so v0 == v1
// means no commit landed between the two reads, and main's snapshot (taken in between) is
// second's. Returns false (both transactions closed, main back in autocommit) when a commit did.
bool start_same_snapshot(sqlite3* main, sqlite3* second) {
  int64_t before = data_version(second);
  exec(main, "BEGIN");
  start_read(main);
  exec(second, "BEGIN");
  start_read(second);
  if (data_version(second) == before) return true;
  exec(second, "ROLLBACK");
  exec(main, "ROLLBACK");
  return false;
}

}  // namespace

void SqliteStore::set_parallel_load_min_orders(size_t orders) { impl_->parallel_load_min_orders = orders; }

LoadResult SqliteStore::load_facts(const TimeZone& tz) {
  // One read transaction: every table is read from the same snapshot, even while a run or an
  // import writes (WAL readers do not block writers). Big stores read orders and items on a
  // second connection and thread, on the same snapshot (start_same_snapshot; docs/store.md).
  sqlite3* db = impl_->db.getHandle();
  bool own_tx = sqlite3_get_autocommit(db) != 0;
  DbHandle second;
  std::optional<size_t> orders_hint;
  if (own_tx) orders_hint = rows_hint(db, "orders");
  if (own_tx && *orders_hint >= impl_->parallel_load_min_orders) {
    second = open_second(db);
    // A commit between the two reads: try once more, then read on one connection.
    try {
      for (int attempt = 0; second && attempt < 2; ++attempt)
        if (start_same_snapshot(db, second.get())) break;
        else if (attempt == 1) second.reset();
    } catch (const StoreError&) {
      second.reset();
      if (!sqlite3_get_autocommit(db)) impl_->db.tryExec("ROLLBACK");
    }
  }
  if (own_tx && !second) impl_->db.exec("BEGIN");
  try {
    Loader loader(db, tz, second.get(), orders_hint);
    LoadResult res = loader.run();
    load_model_rows(db, res.facts);  // load_models.cpp
    if (second) exec(second.get(), "COMMIT");
    if (own_tx) impl_->db.exec("COMMIT");
    return res;
  } catch (...) {
    if (own_tx) impl_->db.tryExec("ROLLBACK");
    throw;
  }
}

}  // namespace crm::engine
