// Internals of the frame stage shared by the from-scratch build (frame_builder.cpp) and the
// incremental cursor (frame_cursor.cpp): row-level computations, so both give the same values by
// construction, the attribute table, and the FramePlan. Not part of the stage's interface.
#pragma once
#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/frame/attributes.hpp"
#include "engine/frame/model_attributes.hpp"
#include "lang/builtins.hpp"

namespace crm::engine {
namespace frame_detail {

using lang::Type;
using lang::TypeKind;

// Runs fn(begin, end, chunk) over [0, n) in up to kAttributeThreads chunks.
inline void for_chunks(size_t n, size_t chunks, const std::function<void(size_t, size_t, size_t)>& fn) {
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

// Runs fn(begin, end) over [0, n): in kAttributeThreads chunks from kParallelRows rows (rows are
// independent: each writes its own).
template <typename Fn>
void for_rows(size_t n, Fn&& fn) {
  const size_t chunks = n >= kParallelRows ? std::max(1u, std::min(kAttributeThreads, std::thread::hardware_concurrency())) : 1;
  for_chunks(n, chunks, [&fn](size_t b, size_t e, size_t) { fn(b, e); });
}

inline void set(Column& c, size_t r, int64_t v) {
  c.i64[r] = v;
  c.valid[r] = 1;
}

inline void set_f(Column& c, size_t r, double v) {
  c.f64[r] = v;
  c.valid[r] = 1;
}


inline void clear(Column& c, size_t r) {
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
  double net = 0;       // sum plus the negative totals of refunded orders (docs/store.md)
  int64_t refunds = 0;  // orders with status refunded, or paid with a negative total
  Days first = kNoDay, last = kNoDay;
  int64_t last_order = -1;
};

inline PurchaseRow purchase_row(const Facts& f, size_t r, Days d) {
  PurchaseRow p;
  for (uint32_t o = f.order_offsets[r], end = f.order_offsets[r + 1]; o < end && f.order_day[o] <= d; ++o) {
    // A refund: an order with status refunded (the refunded order itself, or a separate refund
    // row with a negative total), or a paid row with a negative total (money given back).
    if (f.order_status[o] == OrderStatus::Refunded) {
      ++p.refunds;
      if (f.order_total[o] < 0) p.net += f.order_total[o];
      continue;
    }
    if (f.order_status[o] != OrderStatus::Paid) continue;
    if (f.order_total[o] < 0) ++p.refunds;
    if (p.count == 0) p.first = f.order_day[o];
    p.last = f.order_day[o];
    p.sum += f.order_total[o];
    p.net += f.order_total[o];
    p.last_order = o;
    ++p.count;
  }
  return p;
}

// Purchase columns (any may be null: not wanted). Clears the row first.
struct PurchaseCols {
  Column *count = nullptr, *spent = nullptr, *first = nullptr, *last = nullptr, *since_first = nullptr,
         *since_last = nullptr, *days_since = nullptr, *avg = nullptr, *net = nullptr, *refunds = nullptr;
  void store(size_t r, const PurchaseRow& p, Days d) const {
    for (Column* c : {count, spent, first, last, since_first, since_last, days_since, avg, net, refunds})
      if (c) clear(*c, r);
    if (count) set(*count, r, p.count);
    if (spent) set_f(*spent, r, p.sum);
    if (net) set_f(*net, r, p.net);
    if (refunds) set(*refunds, r, p.refunds);
    if (p.count == 0) return;
    if (first) set(*first, r, p.first);
    if (last) set(*last, r, p.last);
    if (since_first) set(*since_first, r, d - p.first);
    if (since_last) set(*since_last, r, d - p.last);
    if (days_since) set(*days_since, r, d - p.last);
    if (avg) set_f(*avg, r, p.sum / static_cast<double>(p.count));
  }
};

inline void last_purchased_row(const Facts& f, int64_t last_order, std::vector<int64_t>& out) {
  if (last_order < 0) return;
  out.insert(out.end(), f.item_sku.begin() + f.item_offsets[last_order], f.item_sku.begin() + f.item_offsets[last_order + 1]);
}

inline void purchased_row(const Facts& f, size_t r, Days d, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
  scratch.clear();
  for (uint32_t o = f.order_offsets[r], end = f.order_offsets[r + 1]; o < end && f.order_day[o] <= d; ++o) {
    if (f.order_status[o] != OrderStatus::Paid) continue;
    scratch.insert(scratch.end(), f.item_sku.begin() + f.item_offsets[o], f.item_sku.begin() + f.item_offsets[o + 1]);
  }
  std::sort(scratch.begin(), scratch.end());
  scratch.erase(std::unique(scratch.begin(), scratch.end()), scratch.end());
  out.insert(out.end(), scratch.begin(), scratch.end());
}

// The distinct categories (string ids, sorted) of the products in row r's paid orders dated on
// or before d; items whose product has no category add nothing.
inline void categories_row(const Facts& f, size_t r, Days d, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
  scratch.clear();
  for (uint32_t o = f.order_offsets[r], end = f.order_offsets[r + 1]; o < end && f.order_day[o] <= d; ++o) {
    if (f.order_status[o] != OrderStatus::Paid) continue;
    for (uint32_t k = f.item_offsets[o]; k < f.item_offsets[o + 1] && k < f.item_category.size(); ++k)
      if (f.item_category[k] >= 0) scratch.push_back(f.item_category[k]);
  }
  std::sort(scratch.begin(), scratch.end());
  scratch.erase(std::unique(scratch.begin(), scratch.end()), scratch.end());
  out.insert(out.end(), scratch.begin(), scratch.end());
}

// A time-windowed column, purchases_in(DAYS) or spent_in(DAYS) (lang/builtins.hpp), parsed
// from its column name: the orders dated in [d - days + 1, d].
struct Window {
  std::string name;
  bool spent = false;  // spent_in (decimal) rather than purchases_in (int)
  int64_t days = 0;
};

inline bool parse_window(const std::string& name, Window& w) {
  for (bool spent : {false, true}) {
    std::string prefix = spent ? "spent_in(" : "purchases_in(";
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 2 || name.back() != ')') continue;
    std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 1);
    if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
    w = {name, spent, std::stoll(digits)};
    return w.days >= 1;
  }
  return false;
}

// Row r's value of window w as of d: the paid orders dated in the window (as purchase_count
// counts them), or their totals plus the negative totals of refunds dated in it (as net_spent).
inline void window_row(const Facts& f, size_t r, Days d, const Window& w, Column& c) {
  const Days from = d - static_cast<Days>(w.days) + 1;
  auto b = f.order_day.begin() + f.order_offsets[r], e = f.order_day.begin() + f.order_offsets[r + 1];
  int64_t count = 0;
  double sum = 0;
  for (auto it = std::lower_bound(b, e, from); it != e && *it <= d; ++it) {
    size_t o = static_cast<size_t>(it - f.order_day.begin());
    if (f.order_status[o] == OrderStatus::Refunded) {
      if (f.order_total[o] < 0) sum += f.order_total[o];
    } else if (f.order_status[o] == OrderStatus::Paid) {
      ++count;
      sum += f.order_total[o];
    }
  }
  if (w.spent) set_f(c, r, sum);
  else set(c, r, count);
}

// The latest subscription of row r started on or before d (-1: none).
inline int64_t latest_subscription(const Facts& f, size_t r, Days d) {
  int64_t s = -1;
  for (uint32_t i = f.sub_offsets[r], end = f.sub_offsets[r + 1]; i < end && f.sub_start[i] <= d; ++i) s = i;
  return s;
}

// The day subscription.months counts to: the cancellation when it happened by d, else d.
inline Days subscription_until(const Facts& f, int64_t s, Days d) {
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

inline int64_t latest_survey(const Facts& f, size_t r, Days d) {
  int64_t last = -1;
  for (uint32_t i = f.survey_offsets[r], end = f.survey_offsets[r + 1]; i < end && f.survey_day[i] <= d; ++i) last = i;
  return last;
}

inline int64_t referrals_by(const Facts& f, size_t r, Days d) {
  auto b = f.referral_day.begin() + f.referral_offsets[r], e = f.referral_day.begin() + f.referral_offsets[r + 1];
  return std::upper_bound(b, e, d) - b;
}

// The stored tags of row r set on or before d (sorted by id), then `changes` in order (set: add
// when absent; unset: remove), sorted again.
inline void tags_row(const Facts& f, size_t r, Days d, const std::vector<std::pair<int64_t, bool>>* changes,
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
inline void reset_scalar(Column& c, Type t, size_t n) {
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
  kDaysSinceLastPurchase, kDaysSince, kAvgOrderValue, kNetSpent, kRefundCount, kLastPurchased, kPurchased, kCategories, kDaysSinceSignup, kAge,
  kDaysUntilBirthday, kSubActive, kSubStatus, kSubMonths, kSubCycles, kSubCancelReason, kSatisfaction,
  kReferralCount, kTags, kAttrCount
};

inline const char* attr_name(size_t a) {
  static const char* const kNames[kAttrCount] = {
      "id", "name", "email", "birthday", "created_at", kOptInColumns[0], kOptInColumns[1], kOptInColumns[2],
      kOptInColumns[3], kOptInColumns[4], "referred_by", "purchase_count", "total_spent", "first_purchase_date",
      "last_purchase_date", "days_since_first_purchase", "days_since_last_purchase", "days_since",
      "avg_order_value", "net_spent", "refund_count", "last_purchased", "purchased", "categories", "days_since_signup", "age", "days_until_birthday",
      "subscription.active", "subscription.status", "subscription.months", "subscription.cycles",
      "subscription.cancel_reason", "satisfaction", "referral_count", "tags"};
  static_assert(kOptInCount == 5);
  return kNames[a];
}

}  // namespace frame_detail

// What a frame holds, resolved once from the needed names, and where each column sits in the
// frame it was last built into (so a rebuild of the same frame finds its columns without a
// lookup by name and reuses their allocations).
struct FramePlan {
  explicit FramePlan(const std::vector<std::string>& needed) : all(needed.empty()), needed_set(needed.begin(), needed.end()) {
    for (size_t a = 0; a < frame_detail::kAttrCount; ++a) want[a] = all || needed_set.count(frame_detail::attr_name(a)) > 0;
    for (const std::string& name : needed_set) {
      frame_detail::Window w;
      if (frame_detail::parse_window(name, w)) windows.push_back(w);
    }
  }
  bool wants(const std::string& name) const { return all || needed_set.count(name) > 0; }
  // Forgets where the columns are (a different frame, or columns erased).
  void forget() {
    std::fill(std::begin(slot), std::end(slot), nullptr);
    extras.clear();
  }

  bool all;
  std::set<std::string> needed_set;
  bool want[frame_detail::kAttrCount] = {};
  Column* slot[frame_detail::kAttrCount] = {};
  struct Extra {
    std::string name;
    bool want = false;
    Column* slot = nullptr;
  };
  std::vector<Extra> extras;  // per Facts::extra, as of the last build
  std::vector<frame_detail::Window> windows;  // purchases_in(N) / spent_in(N) columns wanted
  // Scratch: purchase columns computed but not wanted, per-row last orders, list building.
  Column unwanted[8];
  std::vector<int64_t> last_order, scratch;
  std::vector<const Column*> produced;
  bool layout_changed = false;  // the last build inserted or erased columns
  ModelCache models;  // the model columns' per-customer summaries (model_attributes.hpp)
};

// Fills `out` with the attributes of `plan` as of day `d` from scratch, into the columns `out`
// already has (frame_builder.cpp; compute_frame and FrameCursor::full).
void build_frame(const Facts& facts, Days d, FramePlan& plan, Frame& out);

}  // namespace crm::engine
