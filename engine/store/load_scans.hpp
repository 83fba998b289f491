// The shared pieces of the loaders: the id index, the CSR and time sorts, and the scans of
// orders and order items (templates over a Source: SqliteSource, PgSource), which can run on a
// second connection and thread while the first reads customers.
#pragma once
#include <algorithm>
#include <exception>
#include <thread>
#include <utility>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/store/load_cells.hpp"
#include "engine/store/load_extra.hpp"

namespace crm::engine::loading {

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
// Within a day the (time, id, index) keys are copied out and sorted in place: the day's rows
// are spread over the whole table, and a sort through the indexes waits on memory at every
// comparison. Equal (time, id) keep index order.
inline std::vector<uint32_t> time_order(const std::vector<Days>& day, const std::vector<int64_t>& secs, const std::vector<int64_t>& id) {
  size_t n = day.size();
  std::vector<uint32_t> perm(n);
  auto less = [&](uint32_t a, uint32_t b) {
    return secs[a] != secs[b] ? secs[a] < secs[b] : id[a] != id[b] ? id[a] < id[b] : a < b;
  };
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
  struct Key {
    int64_t secs, id;
    uint32_t index;
  };
  std::vector<Key> keys;
  for (size_t k = 0; k < span; ++k) {
    if (start[k + 1] - start[k] < 2) continue;
    keys.clear();
    for (uint32_t j = start[k]; j < start[k + 1]; ++j) keys.push_back({secs[perm[j]], id[perm[j]], perm[j]});
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
      return a.secs != b.secs ? a.secs < b.secs : a.id != b.id ? a.id < b.id : a.index < b.index;
    });
    for (uint32_t j = start[k]; j < start[k + 1]; ++j) perm[j] = keys[j - start[k]].index;
  }
  return perm;
}

// Runs `work` on a thread of its own, or at once when `threaded` is false. finish() waits for it
// and rethrows what it threw; the destructor waits too (when the caller throws first).
class BackgroundTask {
 public:
  template <class F>
  BackgroundTask(bool threaded, F work) {
    if (!threaded) {
      work();
      return;
    }
    thread_ = std::thread([this, work = std::move(work)]() mutable {
      try {
        work();
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;
  ~BackgroundTask() {
    if (thread_.joinable()) thread_.join();
  }
  void finish() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  std::thread thread_;
  std::exception_ptr error_;
};
// Orders from which the loader sorts them into time order on a second thread.
constexpr size_t kThreadedTimeOrderMin = 100'000;

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
template <class Src>
OrderScan scan_orders(Src& src, const TimeZone& tz, std::optional<size_t> hint, const std::string& where = "") {
  OrderScan s;
  auto have = src.columns("orders");
  if (have.empty()) return s;
  s.have_table = true;
  auto q = src.query(have, "orders", {"id", "customer_id", "ordered_at", "total", "status"}, where);
  if (size_t n = hint ? *hint : src.rows_hint("orders")) {
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
  std::vector<std::optional<std::string>> category;  // their categories (nullopt: null or no column)
  std::vector<int64_t> order_id;
  std::vector<uint32_t> product;
};

template <class Src>
ItemScan scan_items(Src& src) {
  ItemScan s;
  auto items = src.columns("order_items");
  auto products = src.columns("products");
  if (items.empty() || products.empty()) return s;
  s.have_tables = true;
  std::vector<int64_t> product_ids;
  {
    // In sku order (bytewise), as SQLite reads it through the sku index: the order SKUs are interned in.
    auto p = src.query(products, "products", {"id", "sku", "category"}, src.bytewise_order_by(products, "sku"));
    while (p.step()) {
      auto pid = cell_int(p, 0);
      if (!pid || p.null(1)) continue;
      product_ids.push_back(*pid);
      s.sku.emplace_back(p.text(1));
      if (p.null(2)) s.category.emplace_back();
      else s.category.emplace_back(std::string(p.text(2)));
    }
  }
  IdIndex product_index(product_ids);
  auto q = src.query(items, "order_items", {"order_id", "product_id"});
  if (size_t hint = src.rows_hint("order_items")) {
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

// `tail` appended to `head`: the scan of the whole range.
inline void append(OrderScan& head, OrderScan&& tail) {
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

}  // namespace crm::engine::loading
