// compute_frame: the builtin customer attributes as of one date, as plain loops over the sorted
// columnar facts (no per-customer maps), split over a couple of threads for large stores.
#include "engine/frame/attributes.hpp"
#include "engine/frame/model_attributes.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

#include "lang/builtins.hpp"

namespace crm::engine {

using lang::Type;
using lang::TypeKind;

int age_on(Days birthday, Days d) {
  Ymd b = civil_from_days(birthday), t = civil_from_days(d);
  unsigned bm = b.m, bd = b.d;
  if (bm == 2 && bd == 29 && !is_leap(t.y)) bd = 28;
  int age = t.y - b.y;
  if (t.m < bm || (t.m == bm && t.d < bd)) --age;
  return age;
}

namespace {

Days birthday_in_year(Ymd b, int y) {
  unsigned d = b.d;
  if (b.m == 2 && d == 29 && !is_leap(y)) d = 28;
  return days_from_civil(y, b.m, d);
}

}  // namespace

int days_until_birthday(Days birthday, Days d) {
  Ymd b = civil_from_days(birthday);
  int y = civil_from_days(d).y;
  Days next = birthday_in_year(b, y);
  if (next < d) next = birthday_in_year(b, y + 1);
  return next - d;
}

int whole_months(Days start, Days end) {
  if (end < start) return 0;
  Ymd s = civil_from_days(start), e = civil_from_days(end);
  int months = (e.y - s.y) * 12 + static_cast<int>(e.m) - static_cast<int>(s.m);
  if (e.d < s.d && e.d != days_in_month(e.y, e.m)) --months;
  return std::max(months, 0);
}

namespace {

// Runs fn(begin, end, chunk) over [0, n) in up to kAttributeThreads chunks.
void for_chunks(size_t n, size_t chunks, const std::function<void(size_t, size_t, size_t)>& fn) {
  if (chunks <= 1) {
    fn(0, n, 0);
    return;
  }
  std::vector<std::thread> threads;
  size_t per = (n + chunks - 1) / chunks;
  for (size_t c = 1; c < chunks; ++c) {
    size_t b = std::min(n, c * per), e = std::min(n, (c + 1) * per);
    threads.emplace_back([&fn, b, e, c] { fn(b, e, c); });
  }
  fn(0, std::min(n, per), 0);
  for (auto& t : threads) t.join();
}

void set(Column& c, size_t r, int64_t v) {
  c.i64[r] = v;
  c.valid[r] = 1;
}

void set_f(Column& c, size_t r, double v) {
  c.f64[r] = v;
  c.valid[r] = 1;
}


void clear(Column& c, size_t r) {
  if (!c.f64.empty()) c.f64[r] = 0;
  if (!c.i64.empty()) c.i64[r] = 0;
  c.valid[r] = 0;
}

// Row-level computations shared by the full build (FrameBuilder) and the incremental FrameCursor,
// so both give the same values by construction.

// The paid orders of row r dated on or before d.
struct PurchaseRow {
  int64_t count = 0;
  double sum = 0;
  Days first = kNoDay, last = kNoDay;
  int64_t last_order = -1;
};

PurchaseRow purchase_row(const Facts& f, size_t r, Days d) {
  PurchaseRow p;
  for (uint32_t o = f.order_offsets[r], end = f.order_offsets[r + 1]; o < end && f.order_day[o] <= d; ++o) {
    if (f.order_status[o] != OrderStatus::Paid) continue;
    if (p.count == 0) p.first = f.order_day[o];
    p.last = f.order_day[o];
    p.sum += f.order_total[o];
    p.last_order = o;
    ++p.count;
  }
  return p;
}

// Purchase columns (any may be null: not wanted). Clears the row first.
struct PurchaseCols {
  Column *count = nullptr, *spent = nullptr, *first = nullptr, *last = nullptr, *since_first = nullptr,
         *since_last = nullptr, *days_since = nullptr, *avg = nullptr;
  void store(size_t r, const PurchaseRow& p, Days d) const {
    for (Column* c : {count, spent, first, last, since_first, since_last, days_since, avg})
      if (c) clear(*c, r);
    if (count) set(*count, r, p.count);
    if (spent) set_f(*spent, r, p.sum);
    if (p.count == 0) return;
    if (first) set(*first, r, p.first);
    if (last) set(*last, r, p.last);
    if (since_first) set(*since_first, r, d - p.first);
    if (since_last) set(*since_last, r, d - p.last);
    if (days_since) set(*days_since, r, d - p.last);
    if (avg) set_f(*avg, r, p.sum / static_cast<double>(p.count));
  }
};

void last_purchased_row(const Facts& f, int64_t last_order, std::vector<int64_t>& out) {
  if (last_order < 0) return;
  out.insert(out.end(), f.item_sku.begin() + f.item_offsets[last_order], f.item_sku.begin() + f.item_offsets[last_order + 1]);
}

void purchased_row(const Facts& f, size_t r, Days d, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
  scratch.clear();
  for (uint32_t o = f.order_offsets[r], end = f.order_offsets[r + 1]; o < end && f.order_day[o] <= d; ++o) {
    if (f.order_status[o] != OrderStatus::Paid) continue;
    scratch.insert(scratch.end(), f.item_sku.begin() + f.item_offsets[o], f.item_sku.begin() + f.item_offsets[o + 1]);
  }
  std::sort(scratch.begin(), scratch.end());
  scratch.erase(std::unique(scratch.begin(), scratch.end()), scratch.end());
  out.insert(out.end(), scratch.begin(), scratch.end());
}

// The latest subscription of row r started on or before d (-1: none).
int64_t latest_subscription(const Facts& f, size_t r, Days d) {
  int64_t s = -1;
  for (uint32_t i = f.sub_offsets[r], end = f.sub_offsets[r + 1]; i < end && f.sub_start[i] <= d; ++i) s = i;
  return s;
}

// The day subscription.months counts to: the cancellation when it happened by d, else d.
Days subscription_until(const Facts& f, int64_t s, Days d) {
  Days cancel = f.sub_cancelled[s];
  return cancel != kNoDay && cancel <= d ? cancel : d;
}

struct SubscriptionCols {
  Column *active = nullptr, *status = nullptr, *months = nullptr, *cycles = nullptr, *reason = nullptr;
  // The loader interns both (compute_frame never interns: frames may be computed in parallel).
  int64_t active_id = -1, cancelled_id = -1, paused_id = -1;
  void store(const Facts& f, size_t r, int64_t s, Days d) const {
    for (Column* c : {active, status, months, cycles, reason})
      if (c) clear(*c, r);
    if (s < 0) {
      if (active) set(*active, r, 0);
      return;
    }
    Days cancel = f.sub_cancelled[s];
    int64_t st = f.sub_status[s];
    bool cancelled_by_d = (cancel != kNoDay && cancel <= d) || (cancel == kNoDay && st >= 0 && st == cancelled_id);
    if (cancel != kNoDay && cancel <= d) st = cancelled_id;
    else if (cancel != kNoDay && st >= 0 && st == cancelled_id) st = active_id;  // cancelled later: live as of D
    if (status && st >= 0) set(*status, r, st);
    if (active) set(*active, r, st >= 0 && st == active_id ? 1 : 0);
    if (months) set(*months, r, whole_months(f.sub_start[s], subscription_until(f, s, d)));
    if (cycles && f.sub_cycles_valid[s]) set(*cycles, r, f.sub_cycles[s]);
    // The stored reason is the cancellation's, or the pause's while the subscription is paused
    // (the store keeps one reason column; a pause has no date of its own, like the status).
    bool paused = st >= 0 && st == paused_id;
    if (reason && (cancelled_by_d || paused) && f.sub_cancel_reason[s] >= 0) set(*reason, r, f.sub_cancel_reason[s]);
  }
};

int64_t latest_survey(const Facts& f, size_t r, Days d) {
  int64_t last = -1;
  for (uint32_t i = f.survey_offsets[r], end = f.survey_offsets[r + 1]; i < end && f.survey_day[i] <= d; ++i) last = i;
  return last;
}

int64_t referrals_by(const Facts& f, size_t r, Days d) {
  auto b = f.referral_day.begin() + f.referral_offsets[r], e = f.referral_day.begin() + f.referral_offsets[r + 1];
  return std::upper_bound(b, e, d) - b;
}

// The stored tags of row r set on or before d (sorted by id), then `changes` in order (set: add
// when absent; unset: remove), sorted again.
void tags_row(const Facts& f, size_t r, Days d, const std::vector<std::pair<int64_t, bool>>* changes,
              std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
  scratch.clear();
  for (uint32_t i = f.tag_offsets[r], end = f.tag_offsets[r + 1]; i < end; ++i)
    if (f.tag_set_at[i] == kNoDay || f.tag_set_at[i] <= d) scratch.push_back(f.tag[i]);
  if (changes) {
    for (auto [tag, on] : *changes) {
      auto pos = std::find(scratch.begin(), scratch.end(), tag);
      if (on && pos == scratch.end()) scratch.push_back(tag);
      if (!on && pos != scratch.end()) scratch.erase(pos);
    }
    std::sort(scratch.begin(), scratch.end());
  }
  out.insert(out.end(), scratch.begin(), scratch.end());
}

// Resets `c` to what scalar(t, n) makes (zeros, all null), keeping its allocations.
void reset_scalar(Column& c, Type t, size_t n) {
  c.type = t;
  if (t.kind == TypeKind::Decimal) {
    c.f64.assign(n, 0.0);
    c.i64.clear();
  } else {
    c.i64.assign(n, 0);
    c.f64.clear();
  }
  c.valid.assign(n, 0);
  c.list_offsets.clear();
  c.list_values.clear();
}

// The builtin attribute columns FrameBuilder can produce (extras come from the facts).
enum Attr : uint8_t {
  kId, kName, kEmail, kBirthday, kCreatedAt, kOptIn0, kOptInLast = kOptIn0 + kOptInCount - 1, kReferredBy,
  kPurchaseCount, kTotalSpent, kFirstPurchaseDate, kLastPurchaseDate, kDaysSinceFirstPurchase,
  kDaysSinceLastPurchase, kDaysSince, kAvgOrderValue, kLastPurchased, kPurchased, kDaysSinceSignup, kAge,
  kDaysUntilBirthday, kSubActive, kSubStatus, kSubMonths, kSubCycles, kSubCancelReason, kSatisfaction,
  kReferralCount, kTags, kAttrCount
};

const char* attr_name(size_t a) {
  static const char* const kNames[kAttrCount] = {
      "id", "name", "email", "birthday", "created_at", kOptInColumns[0], kOptInColumns[1], kOptInColumns[2],
      kOptInColumns[3], kOptInColumns[4], "referred_by", "purchase_count", "total_spent", "first_purchase_date",
      "last_purchase_date", "days_since_first_purchase", "days_since_last_purchase", "days_since",
      "avg_order_value", "last_purchased", "purchased", "days_since_signup", "age", "days_until_birthday",
      "subscription.active", "subscription.status", "subscription.months", "subscription.cycles",
      "subscription.cancel_reason", "satisfaction", "referral_count", "tags"};
  static_assert(kOptInCount == 5);
  return kNames[a];
}
}  // namespace

// What a frame holds, resolved once from the needed names, and where each column sits in the
// frame it was last built into (so a rebuild of the same frame finds its columns without a
// lookup by name and reuses their allocations).
struct FramePlan {
  explicit FramePlan(const std::vector<std::string>& needed) : all(needed.empty()), needed_set(needed.begin(), needed.end()) {
    for (size_t a = 0; a < kAttrCount; ++a) want[a] = all || needed_set.count(attr_name(a)) > 0;
  }
  bool wants(const std::string& name) const { return all || needed_set.count(name) > 0; }
  // Forgets where the columns are (a different frame, or columns erased).
  void forget() {
    std::fill(std::begin(slot), std::end(slot), nullptr);
    extras.clear();
  }

  bool all;
  std::set<std::string> needed_set;
  bool want[kAttrCount] = {};
  Column* slot[kAttrCount] = {};
  struct Extra {
    std::string name;
    bool want = false;
    Column* slot = nullptr;
  };
  std::vector<Extra> extras;  // per Facts::extra, as of the last build
  // Scratch: purchase columns computed but not wanted, per-row last orders, list building.
  Column unwanted[8];
  std::vector<int64_t> last_order, scratch;
  std::vector<const Column*> produced;
  bool layout_changed = false;  // the last build inserted or erased columns
};

namespace {

class FrameBuilder {
 public:
  FrameBuilder(const Facts& f, Days d, FramePlan& plan, Frame& out) : f_(f), d_(d), n_(f.rows()), plan_(plan), frame_(out) {
    chunks_ = n_ >= kParallelRows ? std::max(1u, std::min(kAttributeThreads, std::thread::hardware_concurrency())) : 1;
    frame_.rows = n_;
    frame_.today = d;
    frame_.customer_id = f.customer_id;
    frame_.strings = f.strings;
    plan_.layout_changed = false;
    plan_.produced.clear();
  }

  void build() {
    customer_columns();
    purchases();
    profile();
    subscription();
    surveys_referrals_tags();
    extras();
    if (fill_model_columns(f_, d_, plan_.needed_set, plan_.all, frame_, &plan_.produced))  // model_attributes.cpp
      plan_.layout_changed = true;
    if (frame_.columns.size() != plan_.produced.size()) {  // columns of an earlier build no longer made
      for (auto it = frame_.columns.begin(); it != frame_.columns.end();) {
        if (std::find(plan_.produced.begin(), plan_.produced.end(), &it->second) == plan_.produced.end())
          it = frame_.columns.erase(it);
        else
          ++it;
      }
      plan_.forget();
      plan_.layout_changed = true;
    }
  }

 private:
  bool want(Attr a) const { return plan_.want[a]; }
  // The frame's column for `a` (inserted on first use), emptied.
  Column& slot(Attr a) {
    Column*& c = plan_.slot[a];
    if (!c) {
      auto [it, inserted] = frame_.columns.try_emplace(attr_name(a));
      c = &it->second;
      plan_.layout_changed = plan_.layout_changed || inserted;
    }
    plan_.produced.push_back(c);
    return *c;
  }
  // A scalar column of n_ rows, all null: the frame's (when wanted) or the plan's scratch `k`.
  Column& scalar_col(Attr a, Type t, size_t k = 0) {
    Column& c = want(a) ? slot(a) : plan_.unwanted[k];
    reset_scalar(c, t, n_);
    return c;
  }

  // A list column: fn(row, out, scratch) appends row's values; chunks are merged in row order.
  void list(Column& c, TypeKind elem, const std::function<void(size_t, std::vector<int64_t>&, std::vector<int64_t>&)>& fn) {
    c.type = Type::list(elem);
    c.i64.clear();
    c.f64.clear();
    c.valid.assign(n_, 1);
    c.list_offsets.assign(n_ + 1, 0);
    c.list_values.clear();
    if (chunks_ == 1) {
      std::vector<int64_t>& scratch = plan_.scratch;
      for (size_t r = 0; r < n_; ++r) {
        fn(r, c.list_values, scratch);
        c.list_offsets[r + 1] = static_cast<uint32_t>(c.list_values.size());
      }
      return;
    }
    std::vector<std::vector<int64_t>> values(chunks_);
    for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t chunk) {
      std::vector<int64_t>& out = values[chunk];
      std::vector<int64_t> scratch;
      for (size_t r = b; r < e; ++r) {
        size_t before = out.size();
        fn(r, out, scratch);
        c.list_offsets[r + 1] = static_cast<uint32_t>(out.size() - before);  // a length for now
      }
    });
    for (size_t r = 0; r < n_; ++r) c.list_offsets[r + 1] += c.list_offsets[r];
    c.list_values.reserve(c.list_offsets[n_]);
    for (auto& v : values) c.list_values.insert(c.list_values.end(), v.begin(), v.end());
  }

  void customer_columns() {
    if (want(kId)) {
      Column& c = scalar_col(kId, Type::integer());
      c.i64 = f_.customer_id;
      c.valid.assign(n_, 1);
    }
    auto strings = [&](Attr a, const std::vector<int64_t>& ids) {
      if (!want(a)) return;
      Column& c = scalar_col(a, Type::string());
      for (size_t r = 0; r < n_; ++r)
        if (ids[r] >= 0) set(c, r, ids[r]);
    };
    strings(kName, f_.name);
    strings(kEmail, f_.email);
    auto dates = [&](Attr a, const std::vector<Days>& days) {
      if (!want(a)) return;
      Column& c = scalar_col(a, Type::date());
      for (size_t r = 0; r < n_; ++r)
        if (days[r] != kNoDay) set(c, r, days[r]);
    };
    dates(kBirthday, f_.birthday);
    dates(kCreatedAt, f_.created_at);
    for (size_t k = 0; k < kOptInCount; ++k) {
      const auto a = static_cast<Attr>(kOptIn0 + k);
      if (!want(a)) continue;
      Column& c = scalar_col(a, Type::boolean());
      for (size_t r = 0; r < n_; ++r)
        if (f_.opt_in[k][r] >= 0) set(c, r, f_.opt_in[k][r]);
    }
    if (want(kReferredBy)) {
      Column& c = scalar_col(kReferredBy, Type::integer());
      c.i64 = f_.referred_by;
      c.valid = f_.referred_by_valid;
    }
  }

  void purchases() {
    static const Attr kScalars[] = {kPurchaseCount, kTotalSpent, kFirstPurchaseDate, kLastPurchaseDate,
                                    kDaysSinceFirstPurchase, kDaysSinceLastPurchase, kDaysSince, kAvgOrderValue,
                                    kLastPurchased};
    bool any = false;
    for (Attr a : kScalars) any = any || want(a);
    if (any) {
      Column& count = scalar_col(kPurchaseCount, Type::integer(), 0);
      Column& spent = scalar_col(kTotalSpent, Type::decimal(), 1);
      Column& first = scalar_col(kFirstPurchaseDate, Type::date(), 2);
      Column& last = scalar_col(kLastPurchaseDate, Type::date(), 3);
      Column& since_first = scalar_col(kDaysSinceFirstPurchase, Type::integer(), 4);
      Column& since_last = scalar_col(kDaysSinceLastPurchase, Type::integer(), 5);
      Column& avg = scalar_col(kAvgOrderValue, Type::decimal(), 6);
      PurchaseCols cols{&count, &spent, &first, &last, &since_first, &since_last, nullptr, &avg};
      std::vector<int64_t>& last_order = plan_.last_order;
      last_order.assign(n_, -1);
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r) {
          PurchaseRow p = purchase_row(f_, r, d_);
          cols.store(r, p, d_);
          last_order[r] = p.last_order;
        }
      });
      if (want(kDaysSince)) slot(kDaysSince) = since_last;
      if (want(kLastPurchased))
        list(slot(kLastPurchased), TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>&) {
          last_purchased_row(f_, last_order[r], out);
        });
    }
    if (want(kPurchased))
      list(slot(kPurchased), TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
        purchased_row(f_, r, d_, out, scratch);
      });
  }

  void profile() {
    if (want(kDaysSinceSignup)) {
      Column& c = scalar_col(kDaysSinceSignup, Type::integer());
      for (size_t r = 0; r < n_; ++r)
        if (f_.created_at[r] != kNoDay && f_.created_at[r] <= d_) set(c, r, d_ - f_.created_at[r]);
    }
    if (want(kAge)) {
      Column& c = scalar_col(kAge, Type::integer());
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r) {
          if (f_.birthday[r] == kNoDay) continue;
          int a = age_on(f_.birthday[r], d_);
          if (a >= 0) set(c, r, a);
        }
      });
    }
    if (want(kDaysUntilBirthday)) {
      Column& c = scalar_col(kDaysUntilBirthday, Type::integer());
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r)
          if (f_.birthday[r] != kNoDay) set(c, r, days_until_birthday(f_.birthday[r], d_));
      });
    }
  }

  void subscription() {
    static const Attr kAttrs[] = {kSubActive, kSubStatus, kSubMonths, kSubCycles, kSubCancelReason};
    bool any = false;
    for (Attr a : kAttrs) any = any || want(a);
    if (!any) return;
    Column& active = scalar_col(kSubActive, Type::boolean(), 0);
    Column& status = scalar_col(kSubStatus, Type::string(), 1);
    Column& months = scalar_col(kSubMonths, Type::integer(), 2);
    Column& cycles = scalar_col(kSubCycles, Type::integer(), 3);
    Column& reason = scalar_col(kSubCancelReason, Type::string(), 4);
    SubscriptionCols cols{&active, &status, &months, &cycles, &reason, f_.strings->find("active"), f_.strings->find("cancelled"),
                          f_.strings->find("paused")};
    for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
      for (size_t r = b; r < e; ++r) cols.store(f_, r, latest_subscription(f_, r, d_), d_);
    });
  }

  void surveys_referrals_tags() {
    if (want(kSatisfaction)) {
      Column& c = scalar_col(kSatisfaction, Type::integer());
      for (size_t r = 0; r < n_; ++r) {
        int64_t last = latest_survey(f_, r, d_);
        if (last >= 0) set(c, r, f_.survey_satisfaction[last]);
      }
    }
    if (want(kReferralCount)) {
      Column& c = scalar_col(kReferralCount, Type::integer());
      for (size_t r = 0; r < n_; ++r) set(c, r, referrals_by(f_, r, d_));
    }
    if (want(kTags))
      list(slot(kTags), TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
        tags_row(f_, r, d_, nullptr, out, scratch);
      });
  }

  void extras() {
    auto& plan = plan_.extras;
    if (plan.size() != f_.extra.size()) plan.resize(f_.extra.size());
    for (size_t k = 0; k < f_.extra.size(); ++k) {
      const ExtraColumn& e = f_.extra[k];
      FramePlan::Extra& x = plan[k];
      if (x.name != e.name || (x.want && !x.slot)) {  // another column than last time
        x.name = e.name;
        x.want = plan_.wants(e.name);
        x.slot = nullptr;
        if (x.want) {
          auto [it, inserted] = frame_.columns.try_emplace(e.name);
          x.slot = &it->second;
          plan_.layout_changed = plan_.layout_changed || inserted;
        }
      }
      if (!x.want) continue;
      Column& c = *x.slot;
      plan_.produced.push_back(&c);
      c.type = e.type;
      c.i64 = e.i64;
      c.f64 = e.f64;
      c.valid = e.valid;
      c.list_offsets.clear();
      c.list_values.clear();
    }
  }

  const Facts& f_;
  Days d_;
  size_t n_;
  size_t chunks_ = 1;
  FramePlan& plan_;
  Frame& frame_;
};

}  // namespace

Frame compute_frame(const Facts& facts, Days d, const std::vector<std::string>& needed_names) {
  FramePlan plan(needed_names);
  Frame frame;
  FrameBuilder(facts, d, plan, frame).build();
  return frame;
}

void replace_lists(Column& c, const std::vector<uint32_t>& rows, const std::vector<uint32_t>& off,
                 const std::vector<int64_t>& vals) {
  if (rows.empty()) return;
  bool same = true;
  for (size_t i = 0; i < rows.size() && same; ++i)
    same = c.list_offsets[rows[i] + 1] - c.list_offsets[rows[i]] == off[i + 1] - off[i];
  if (same) {
    for (size_t i = 0; i < rows.size(); ++i)
      std::copy(vals.begin() + off[i], vals.begin() + off[i + 1], c.list_values.begin() + c.list_offsets[rows[i]]);
    return;
  }
  const size_t n = c.list_offsets.size() - 1;
  std::vector<uint32_t> new_off(n + 1);
  std::vector<int64_t> new_vals;
  new_vals.reserve(c.list_values.size() + vals.size());
  size_t next = 0;  // the first row not yet copied
  auto copy_rows = [&](size_t end_row) {  // rows [next, end_row) unchanged; also offset end_row
    const int64_t shift = static_cast<int64_t>(new_vals.size()) - c.list_offsets[next];
    for (size_t k = next; k <= end_row && k <= n; ++k) new_off[k] = static_cast<uint32_t>(c.list_offsets[k] + shift);
    new_vals.insert(new_vals.end(), c.list_values.begin() + c.list_offsets[next], c.list_values.begin() + c.list_offsets[end_row]);
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    copy_rows(rows[i]);
    new_vals.insert(new_vals.end(), vals.begin() + off[i], vals.begin() + off[i + 1]);
    next = rows[i] + 1;
  }
  copy_rows(n);
  new_off[n] = static_cast<uint32_t>(new_vals.size());
  c.list_offsets = std::move(new_off);
  c.list_values = std::move(new_vals);
}

namespace {

// One list column's new rows during a step.
struct ListPatch {
  Column* col = nullptr;
  std::vector<uint32_t> rows, off{0};
  std::vector<int64_t> vals;
  void end_row(uint32_t r) {
    rows.push_back(r);
    off.push_back(static_cast<uint32_t>(vals.size()));
  }
  void apply() {
    if (col) replace_lists(*col, rows, off, vals);
  }
};

}  // namespace

FrameCursor::FrameCursor(const Facts& facts, std::vector<std::string> needed_names)
    : f_(facts), needed_(std::move(needed_names)), plan_(std::make_unique<FramePlan>(needed_)) {}

FrameCursor::~FrameCursor() = default;

void FrameCursor::restart() {
  has_day_ = false;
  side_facts_.clear();
  side_indexed_ = false;
}

Column* FrameCursor::col(const char* name) {
  auto it = frame_.columns.find(name);
  return it == frame_.columns.end() ? nullptr : &it->second;
}

Frame& FrameCursor::advance(Days d, const TagOverlay& overlay, const std::vector<uint32_t>& overlay_rows) {
  if (has_day_ && d > day_) {
    step(d, overlay, overlay_rows);
    if (fill_model_columns(f_, d, plan_->needed_set, plan_->all, frame_, nullptr)) ++layout_;  // model_attributes.cpp
    last_incremental_ = true;
  } else {
    full(d, overlay);
    last_incremental_ = false;
  }
  has_day_ = true;
  day_ = d;
  frame_.today = d;
  return frame_;
}

void FrameCursor::full(Days d, const TagOverlay& overlay) {
  // Into the frame's own columns: the same values as compute_frame(f_, d, needed_), without
  // allocating again what the previous day (or customer) already allocated.
  FrameBuilder(f_, d, *plan_, frame_).build();
  if (plan_->layout_changed) ++layout_;
  const size_t n = f_.rows();
  if (Column* tags = overlay.empty() ? nullptr : col("tags")) {
    ListPatch p;
    p.col = tags;
    std::vector<int64_t> scratch;
    for (size_t r = 0; r < overlay.size() && r < n; ++r) {
      if (overlay[r].empty()) continue;
      tags_row(f_, r, d, &overlay[r], p.vals, scratch);
      p.end_row(static_cast<uint32_t>(r));
    }
    p.apply();
  }
  first_purchase_.assign(n, kNoDay);
  last_purchase_.assign(n, kNoDay);
  subscription_.assign(n, -1);
  next_birthday_.assign(n, kNoDay);
  sub_start_ymd_.assign(n, Ymd{});
  for (size_t r = 0; r < n; ++r) {
    PurchaseRow p = purchase_row(f_, r, d);
    first_purchase_[r] = p.first;
    last_purchase_[r] = p.last;
    subscription_[r] = latest_subscription(f_, r, d);
    if (subscription_[r] >= 0) sub_start_ymd_[r] = civil_from_days(f_.sub_start[subscription_[r]]);
    if (f_.birthday[r] != kNoDay) next_birthday_[r] = d + days_until_birthday(f_.birthday[r], d);
  }
  last_touched_ = n;
  last_facts_ = 0;
}

namespace {
// What a fact of a row changes (FrameCursor::step recomputes only those attributes).
constexpr uint8_t kTouchPurchases = 1, kTouchSubscription = 2, kTouchSurvey = 4, kTouchReferral = 8, kTouchTags = 16,
                  kTouchSignup = 32;
uint64_t touch(size_t row, uint8_t what) { return static_cast<uint64_t>(row) << 8 | what; }
}  // namespace

void FrameCursor::index_side_facts() {
  if (side_indexed_) return;
  side_indexed_ = true;
  const size_t n = f_.rows();
  for (size_t r = 0; r < n; ++r) {
    for (uint32_t i = f_.sub_offsets[r]; i < f_.sub_offsets[r + 1]; ++i) {
      side_facts_.push_back({f_.sub_start[i], touch(r, kTouchSubscription)});
      if (f_.sub_cancelled[i] != kNoDay) side_facts_.push_back({f_.sub_cancelled[i], touch(r, kTouchSubscription)});
    }
    for (uint32_t i = f_.survey_offsets[r]; i < f_.survey_offsets[r + 1]; ++i)
      side_facts_.push_back({f_.survey_day[i], touch(r, kTouchSurvey)});
    for (uint32_t i = f_.referral_offsets[r]; i < f_.referral_offsets[r + 1]; ++i)
      side_facts_.push_back({f_.referral_day[i], touch(r, kTouchReferral)});
    for (uint32_t i = f_.tag_offsets[r]; i < f_.tag_offsets[r + 1]; ++i)
      if (f_.tag_set_at[i] != kNoDay) side_facts_.push_back({f_.tag_set_at[i], touch(r, kTouchTags)});
    if (f_.created_at[r] != kNoDay) side_facts_.push_back({f_.created_at[r], touch(r, kTouchSignup)});
  }
  std::sort(side_facts_.begin(), side_facts_.end());
}

void FrameCursor::step(Days d, const TagOverlay& overlay, const std::vector<uint32_t>& overlay_rows) {
  // The rows with a fact dated in (day_, d], and those whose tag overlay changed, with what
  // their facts change (row << 8 | kTouch* bits, merged per row below).
  std::vector<uint64_t> touched;
  touched.reserve(overlay_rows.size() + 1024);
  for (uint32_t r : overlay_rows) touched.push_back(touch(r, kTouchTags));
  const size_t o_begin = f_.orders_on(day_ + 1).first, o_end = f_.orders_on(d).second;
  for (size_t k = o_begin; k < o_end; ++k) {
    uint32_t o = f_.orders_by_day[k];
    if (f_.order_status[o] == OrderStatus::Paid) touched.push_back(touch(f_.order_row[o], kTouchPurchases));
  }
  index_side_facts();
  auto s_begin = std::lower_bound(side_facts_.begin(), side_facts_.end(), std::pair<Days, uint64_t>{day_ + 1, 0});
  auto s_end = std::lower_bound(s_begin, side_facts_.end(), std::pair<Days, uint64_t>{d + 1, 0});
  for (auto it = s_begin; it != s_end; ++it) touched.push_back(it->second);
  last_facts_ = (o_end - o_begin) + static_cast<size_t>(s_end - s_begin);
  std::sort(touched.begin(), touched.end());
  std::vector<std::pair<uint32_t, uint8_t>> rows;  // (row, what), one per row, by row
  for (uint64_t t : touched) {
    auto r = static_cast<uint32_t>(t >> 8);
    auto what = static_cast<uint8_t>(t & 0xff);
    if (!rows.empty() && rows.back().first == r) rows.back().second |= what;
    else rows.push_back({r, what});
  }
  last_touched_ = rows.size();

  // First the columns that move with the date alone, for every row (touched rows are then
  // recomputed below, as of d): a day later is one more day since, one fewer until.
  const Days delta = d - day_;
  const size_t n = f_.rows();
  for (const char* name : {"days_since_first_purchase", "days_since_last_purchase", "days_since", "days_since_signup"}) {
    // Valid rows only (a purchase, a sign-up on or before the last day); a first purchase or a
    // sign-up dated since then is a fact of a touched row.
    if (Column* c = col(name))
      for (size_t r = 0; r < n; ++r) c->i64[r] += delta * c->valid[r];
  }
  Column* age = col("age");
  Column* until_birthday = col("days_until_birthday");
  if (age || until_birthday) {
    for (size_t r = 0; r < n; ++r) {
      if (next_birthday_[r] == kNoDay) continue;
      if (next_birthday_[r] <= d) {  // a birthday is today or has passed since the last day
        next_birthday_[r] = d + days_until_birthday(f_.birthday[r], d);
        if (age) {
          clear(*age, r);
          int a = age_on(f_.birthday[r], d);
          if (a >= 0) set(*age, r, a);
        }
      }
      if (until_birthday) until_birthday->i64[r] = next_birthday_[r] - d;
    }
  }
  if (Column* months = col("subscription.months")) {
    const Ymd e = civil_from_days(d);
    const unsigned e_last = days_in_month(e.y, e.m);
    for (size_t r = 0; r < n; ++r) {
      int64_t s = subscription_[r];
      if (s < 0) continue;
      Days cancel = f_.sub_cancelled[s];
      if (cancel != kNoDay && cancel <= d) continue;  // counted to the cancellation: set when it happened
      const Ymd& st = sub_start_ymd_[r];  // whole_months(start, d), start <= d
      int m = (e.y - st.y) * 12 + static_cast<int>(e.m) - static_cast<int>(st.m);
      if (e.d < st.d && e.d != e_last) --m;
      months->i64[r] = std::max(m, 0);
    }
  }

  PurchaseCols pc{col("purchase_count"),
                  col("total_spent"),
                  col("first_purchase_date"),
                  col("last_purchase_date"),
                  col("days_since_first_purchase"),
                  col("days_since_last_purchase"),
                  col("days_since"),
                  col("avg_order_value")};
  SubscriptionCols sc{col("subscription.active"),       col("subscription.status"),
                      col("subscription.months"),       col("subscription.cycles"),
                      col("subscription.cancel_reason"), f_.strings->find("active"),
                      f_.strings->find("cancelled"),                 f_.strings->find("paused")};
  Column* satisfaction = col("satisfaction");
  Column* referral_count = col("referral_count");
  Column* signup = col("days_since_signup");
  ListPatch last_purchased, purchased, tags;
  last_purchased.col = col("last_purchased");
  purchased.col = col("purchased");
  tags.col = col("tags");
  std::vector<int64_t> scratch;
  for (auto [r, what] : rows) {
    if (what & kTouchPurchases) {
      PurchaseRow p = purchase_row(f_, r, d);
      pc.store(r, p, d);
      first_purchase_[r] = p.first;
      last_purchase_[r] = p.last;
      if (last_purchased.col) {
        last_purchased_row(f_, p.last_order, last_purchased.vals);
        last_purchased.end_row(r);
      }
      if (purchased.col) {
        purchased_row(f_, r, d, purchased.vals, scratch);
        purchased.end_row(r);
      }
    }
    if (what & kTouchSubscription) {
      subscription_[r] = latest_subscription(f_, r, d);
      if (subscription_[r] >= 0) sub_start_ymd_[r] = civil_from_days(f_.sub_start[subscription_[r]]);
      sc.store(f_, r, subscription_[r], d);
    }
    if ((what & kTouchSignup) && signup) {
      Days created = f_.created_at[r];
      clear(*signup, r);
      if (created != kNoDay && created <= d) set(*signup, r, d - created);
    }
    if ((what & kTouchSurvey) && satisfaction) {
      clear(*satisfaction, r);
      int64_t last = latest_survey(f_, r, d);
      if (last >= 0) set(*satisfaction, r, f_.survey_satisfaction[last]);
    }
    if ((what & kTouchReferral) && referral_count) set(*referral_count, r, referrals_by(f_, r, d));
    if ((what & kTouchTags) && tags.col) {
      const bool changed = r < overlay.size() && !overlay[r].empty();
      tags_row(f_, r, d, changed ? &overlay[r] : nullptr, tags.vals, scratch);
      tags.end_row(r);
    }
  }
  last_purchased.apply();
  purchased.apply();
  tags.apply();
}

}  // namespace crm::engine
