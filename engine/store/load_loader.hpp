// The Loader: builds the columnar, sorted Facts and the warnings from any Source (SqliteSource,
// PgSource), so every backend gives byte-identical Facts and warnings for the same data.
#pragma once
#include <exception>
#include <map>
#include <memory>
#include <thread>

#include "engine/store/currency.hpp"
#include "engine/store/load_scans.hpp"
#include "engine/store/load_warnings.hpp"
#include "engine/store/store.hpp"

namespace crm::engine::loading {

template <class Src>
class Loader {
  using Query = typename Src::Cursor;

 public:
  // `second`: another connection reading the same snapshot (see Store::load_facts), or null to
  // read everything on `db`.
  // `orders_hint`: rows_hint of orders if the caller has it.
  // `shard`: load only that shard's customers (crm run --shard); rows of others are skipped quietly.
  Loader(Src& db, const TimeZone& tz, Src* second = nullptr, std::optional<size_t> orders_hint = std::nullopt,
         std::optional<Shard> shard = std::nullopt)
      : db_(db), second_(second), shard_(shard), tz_(tz), orders_hint_(orders_hint) {
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
      std::optional<int64_t> middle = db_.orders_middle();
      std::string upper = middle ? db_.orders_from(*middle) : "";
      std::exception_ptr error;
      std::thread thread([&] {
        try {
          std::optional<size_t> half = orders_hint_ && middle ? std::optional<size_t>(*orders_hint_ / 2 + 1) : orders_hint_;
          scan.orders = scan_orders(*second_, tz2, half, upper);
          scan.items = scan_items(*second_);
        } catch (...) {
          error = std::current_exception();
        }
      });
      OrderScan lower;
      try {
        load_customers();
        if (middle) lower = scan_orders(db_, tz_, orders_hint_, db_.orders_below(*middle));
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
    load_items(second_ ? &scan : nullptr);
    load_subscriptions(index);
    load_surveys(index);
    load_referrals(index);
    load_events(index);
    load_tags(index);
    load_outbox(index);
    load_currency();
    if (by_day_) by_day_->finish();  // started by load_orders
    return {std::move(facts_), warnings_.finish()};
  }

  // meta `currency`: the digits money is shown with (currency.hpp); a value that is not an ISO
  // code warns and keeps the default.
  void load_currency() {
    auto have = db_.columns("meta");
    if (have.empty()) return;
    auto q = db_.query(have, "meta", {"key", "value"});
    while (q.step()) {
      if (q.null(0) || q.null(1) || cell_text(q, 0) != "currency") continue;
      std::string code = cell_text(q, 1);
      if (!is_currency_code(code)) {
        warnings_.add("bad meta.currency", "meta: currency '" + code + "' is not an ISO 4217 code (money keeps 2 decimals)");
        continue;
      }
      facts_.currency = code;
      facts_.money_digits = currency_digits(code);
    }
  }

 private:
  // False for a customer id of another shard.
  bool mine(std::optional<int64_t> cid) const { return !shard_ || !cid || shard_of(*cid, shard_->count) == shard_->index; }

  // The customer row of a fact row whose column 1 is its customer id, or -1 when the row is
  // skipped: a customer of another shard (silently), or an unknown one (warned under `group`:
  // "<table> <where()>: unknown <who> <id> (skipped)").
  template <typename Where>
  int64_t fact_customer_row(const Query& q, const IdIndex& index, const char* group, const char* table, const char* who,
                            const Where& where) {
    auto cid = cell_int(q, 1);
    int64_t r = cid ? index.find(*cid) : -1;
    if (r < 0 && mine(cid))
      warnings_.add(group, std::string(table) + " " + where() + ": unknown " + who + " " + cell_text(q, 1) + " (skipped)");
    return r;
  }

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
    auto have = db_.columns("customers");
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
    auto q = db_.query(have, "customers", wanted, " ORDER BY 1");
    if (size_t hint = db_.rows_hint("customers")) {
      // Every column presized: no copy-on-grow of a million-row vector.
      facts_.customer_id.reserve(hint);
      facts_.name.reserve(hint);
      facts_.email.reserve(hint);
      facts_.birthday.reserve(hint);
      facts_.created_at.reserve(hint);
      for (auto& o : facts_.opt_in) o.reserve(hint);
      facts_.referred_by.reserve(hint);
      facts_.referred_by_valid.reserve(hint);
      for (ExtraColumn& e : facts_.extra) {
        if (e.type.kind == lang::TypeKind::Decimal) e.f64.reserve(hint);
        else e.i64.reserve(hint);
        e.valid.reserve(hint);
      }
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
      if (!mine(id)) continue;
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
        if (r < 0 && !mine(o.cid)) continue;
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
        if (r < 0 && !mine(s.cid[i])) continue;
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
    auto perm = std::make_shared<const std::vector<uint32_t>>(csr_order(row, rows, facts_.order_offsets, [&](uint32_t a, uint32_t b) {
      return secs[a] != secs[b] ? secs[a] < secs[b] : id[a] < id[b];
    }));
    facts_.order_id = permute(id, *perm);
    // The orders' time order (orders_by_day) on a second thread while this one permutes the
    // other columns and reads the items and the other tables (run() waits for it): that thread
    // permutes order_local_seconds and order_day (its own the scan's columns), which nothing
    // here reads, then sorts; both read order_id and perm. Small stores do it here and now.
    by_day_ = std::make_unique<BackgroundTask>(
        kept >= kThreadedTimeOrderMin, [this, perm, secs = std::move(s.secs), day = std::move(s.day)]() mutable {
          facts_.order_local_seconds = permute(secs, *perm);
          facts_.order_day = permute(day, *perm);
          facts_.orders_by_day = time_order(facts_.order_day, facts_.order_local_seconds, facts_.order_id);
        });
    facts_.order_row = permute(row, *perm);
    facts_.order_total = permute(s.total, *perm);
    facts_.order_status = permute(s.status, *perm);
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
    // Categories after every SKU, in products order (-1: the product has none).
    std::vector<int64_t> product_category(s.sku.size(), -1);
    for (size_t k = 0; k < s.category.size(); ++k)
      if (s.category[k]) product_category[k] = facts_.strings->intern(*s.category[k]);
    IdIndex order_index(facts_.order_id);
    std::vector<uint32_t> order_of;
    std::vector<int64_t> sku, category;
    order_of.reserve(s.order_id.size());
    sku.reserve(s.order_id.size());
    category.reserve(s.order_id.size());
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
      category.push_back(product_category[s.product[i]]);
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
    auto& out_category = facts_.item_category;
    out.reserve(perm.size());
    out_category.reserve(perm.size());
    for (size_t o = 0; o < n_orders; ++o) {
      out_off[o] = static_cast<uint32_t>(out.size());
      for (uint32_t k = offsets[o]; k < offsets[o + 1]; ++k) {
        int64_t s = sku[perm[k]];
        if (out.size() == out_off[o] || out.back() != s) {
          out.push_back(s);
          out_category.push_back(category[perm[k]]);
        }
      }
    }
    out_off[n_orders] = static_cast<uint32_t>(out.size());
  }

  void load_subscriptions(const IdIndex& index) {
    auto have = db_.columns("subscriptions");
    std::vector<uint32_t> row;
    std::vector<int64_t> id, status, cycles, reason;
    std::vector<uint8_t> cycles_valid;
    std::vector<Days> start, cancelled;
    if (!have.empty()) {
      auto q = db_.query(have, "subscriptions",
                              {"id", "customer_id", "started_at", "status", "cycles", "cancelled_at", "cancel_reason"});
      while (q.step()) {
        auto sid = [&q] { return std::string("id ") + cell_text(q, 0); };
        int64_t r = fact_customer_row(q, index, "subscriptions of unknown customers", "subscriptions", "customer", sid);
        if (r < 0) continue;
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
    auto have = db_.columns("surveys");
    std::vector<uint32_t> row;
    std::vector<Days> day;
    std::vector<int64_t> score;
    if (!have.empty()) {
      auto q = db_.query(have, "surveys", {"rowid", "customer_id", "answered_at", "satisfaction"});
      while (q.step()) {
        auto rid = [&q] { return std::string("rowid ") + cell_text(q, 0); };
        int64_t r = fact_customer_row(q, index, "surveys of unknown customers", "surveys", "customer", rid);
        if (r < 0) continue;
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
    auto have = db_.columns("referrals");
    std::vector<uint32_t> row;
    std::vector<Days> day;
    if (!have.empty()) {
      auto q = db_.query(have, "referrals", {"rowid", "referrer_id", "created_at"});
      while (q.step()) {
        auto rid = [&q] { return std::string("rowid ") + cell_text(q, 0); };
        int64_t r = fact_customer_row(q, index, "referrals by unknown customers", "referrals", "referrer", rid);
        if (r < 0) continue;
        row.push_back(static_cast<uint32_t>(r));
        day.push_back(optional_day(q, 2, "referrals", "created_at", rid));  // null: counted on every date
      }
    }
    auto perm = csr_order(row, facts_.rows(), facts_.referral_offsets, [&](uint32_t a, uint32_t b) { return day[a] < day[b]; });
    facts_.referral_day = permute(day, perm);
  }

  void load_events(const IdIndex& index) {
    auto have = db_.columns("events");
    auto& f = facts_;
    if (!have.empty()) {
      auto q = db_.query(have, "events", {"id", "customer_id", "type", "at", "payload"});
      while (q.step()) {
        auto eid = [&q] { return std::string("id ") + cell_text(q, 0); };
        int64_t r = fact_customer_row(q, index, "events of unknown customers", "events", "customer", eid);
        if (r < 0) continue;
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
    auto have = db_.columns("tags");
    std::vector<uint32_t> row;
    std::vector<int64_t> tag;
    std::vector<Days> set_at;
    if (!have.empty()) {
      auto q = db_.query(have, "tags", {"rowid", "customer_id", "tag", "set_at"});
      while (q.step()) {
        auto rid = [&q] { return std::string("rowid ") + cell_text(q, 0); };
        int64_t r = fact_customer_row(q, index, "tags of unknown customers", "tags", "customer", rid);
        if (r < 0) continue;
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

  // The outbox in (run_date, id) order. A backend without an index on run_date (SQLite since
  // schema version 6, Src::kOutboxByRunDate false) reads it in id order, the table's own, and
  // checks the order as rows come: a store whose days were run in date order already has its
  // rows in (run_date, id) order, so nothing is sorted. At the first row out of that order (a
  // day run after a later one, a run_date not text) it reads again, sorted by the SQL.
  void load_outbox(const IdIndex& index) {
    auto have = db_.columns("outbox");
    if (have.empty()) return;
    if (!Src::kOutboxByRunDate && read_outbox(have, index, " ORDER BY id", true)) return;
    read_outbox(have, index, " ORDER BY run_date, id", false);
  }

  // Reads the outbox with `tail`; with `check`, gives up (false, nothing kept) at a row whose
  // run_date is not text or sorts before the previous row's (bytewise, as SQLite's BINARY).
  bool read_outbox(const std::vector<ColumnInfo>& have, const IdIndex& index, const std::string& tail, bool check) {
    auto q = db_.query(have, "outbox", {"id", "run_date", "customer_id", "rule", "action", "target", "idem_key", "channel"},
                       tail);
    std::vector<Facts::OutboxEntry> out;
    std::vector<std::string> bad;  // warnings, added once the read stands
    std::string last;
    bool first = true;
    while (q.step()) {
      if (check) {
        if (q.type(1) != SQLITE_TEXT) return false;
        std::string_view at = q.text(1);
        if (!first && at < std::string_view(last)) return false;  // equal: ids ascend, as ORDER BY run_date, id
        last.assign(at);
        first = false;
      }
      Facts::OutboxEntry e;
      e.id = q.i64(0);
      auto d = q.type(1) == SQLITE_TEXT ? parse_timestamp(q.text(1), tz_) : std::nullopt;
      if (!d) {
        bad.push_back("outbox id " + std::to_string(e.id) + ": malformed run_date '" + cell_text(q, 1) + "' (ignored for dedupe)");
        continue;
      }
      e.run_date = d->day;
      e.customer_id = q.i64(2);
      e.row = index.find(e.customer_id);
      if (!mine(e.customer_id)) continue;
      e.rule = std::string(q.text(3));
      e.action = std::string(q.text(4));
      e.target = std::string(q.text(5));
      e.idem_key = std::string(q.text(6));
      if (!q.null(7)) e.channel = std::string(q.text(7));
      out.push_back(std::move(e));
    }
    for (auto& m : bad) warnings_.add("bad outbox.run_date", std::move(m));
    facts_.outbox = std::move(out);
    return true;
  }

  Src& db_;
  Src* second_;
  std::optional<Shard> shard_;
  const TimeZone& tz_;
  std::optional<size_t> orders_hint_;
  Facts facts_;
  Warnings warnings_;
  // The orders' time order, sorting while the load goes on (load_orders). Last: destroyed
  // (joined) before the facts it writes.
  std::unique_ptr<BackgroundTask> by_day_;
};

}  // namespace crm::engine::loading
