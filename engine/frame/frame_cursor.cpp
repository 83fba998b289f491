// The incremental frame (FrameCursor): advances a frame day by day, recomputing only the rows
// whose facts are dated in the days it moves over (the from-scratch build: frame_builder.cpp).
#include "engine/frame/attributes.hpp"
#include "engine/frame/frame_internal.hpp"
#include "engine/frame/model_attributes.hpp"

namespace crm::engine {

using namespace frame_detail;

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
  plan_->models.day = kNoDay;
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
    // model_attributes.cpp: the customers with orders since day_ summed again, every value anew.
    const RfmChanges changes{day_, &purchase_rows_};
    if (fill_model_columns(f_, d, plan_->needed_set, plan_->all, frame_, nullptr, &plan_->models, &changes)) ++layout_;
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
  build_frame(f_, d, *plan_, frame_);
  if (plan_->layout_changed) ++layout_;
  const size_t n = f_.rows();
  if (Column* tags = overlay.empty() ? nullptr : col("tags")) {
    ListPatch p;
    p.col = tags;
    std::vector<int64_t> scratch;
    std::vector<TagOverlay::Change> changes;
    for (size_t r = 0; r < n; ++r) {
      if (!overlay.has(r)) continue;
      overlay.changes(r, changes);
      tags_row(f_, r, d, &changes, p.vals, scratch);
      p.end_row(static_cast<uint32_t>(r));
    }
    p.apply();
  }
  first_purchase_.assign(n, kNoDay);
  last_purchase_.assign(n, kNoDay);
  subscription_.assign(n, -1);
  next_birthday_.assign(n, kNoDay);
  sub_start_ymd_.assign(n, Ymd{});
  sub_day_.assign(n, 0);
  for_rows(n, [&](size_t begin, size_t end) {  // rows are independent: each writes its own
    for (size_t r = begin; r < end; ++r) {
      PurchaseRow p = purchase_row(f_, r, d);
      first_purchase_[r] = p.first;
      last_purchase_[r] = p.last;
      subscription_[r] = latest_subscription(f_, r, d);
      set_sub_start(r);
      if (f_.birthday[r] != kNoDay) next_birthday_[r] = d + days_until_birthday(f_.birthday[r], d);
    }
  });
  last_touched_ = n;
  last_facts_ = 0;
}

void FrameCursor::set_sub_start(size_t r) {
  if (subscription_[r] < 0) return;
  sub_start_ymd_[r] = civil_from_days(f_.sub_start[subscription_[r]]);
  sub_day_[r] = static_cast<uint8_t>(sub_start_ymd_[r].d);
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

namespace {
constexpr size_t kParallelPurchaseRows = 4096;  // below, a thread costs more than it saves
}  // namespace

void FrameCursor::step(Days d, const TagOverlay& overlay, const std::vector<uint32_t>& overlay_rows) {
  // The rows with a fact dated in (day_, d], and those whose tag overlay changed, with what
  // their facts change (row << 8 | kTouch* bits, merged per row below).
  std::vector<uint64_t> touched;
  touched.reserve(overlay_rows.size() + 1024);
  for (uint32_t r : overlay_rows) touched.push_back(touch(r, kTouchTags));
  const size_t o_begin = f_.orders_on(day_ + 1).first, o_end = f_.orders_on(d).second;
  for (size_t k = o_begin; k < o_end; ++k) {
    uint32_t o = f_.orders_by_day[k];
    if (f_.order_status[o] == OrderStatus::Paid || f_.order_status[o] == OrderStatus::Refunded)  // refunds: net_spent
      touched.push_back(touch(f_.order_row[o], kTouchPurchases));
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
  purchase_rows_.clear();
  for (auto [r, what] : rows)
    if (what & kTouchPurchases) purchase_rows_.push_back(r);

  // First the columns that move with the date alone, for every row (touched rows are then
  // recomputed below, as of d): a day later is one more day since, one fewer until.
  // Rows are independent (each writes its own): on several threads from kParallelRows rows.
  const Days delta = d - day_;
  Column* since[] = {col("days_since_first_purchase"), col("days_since_last_purchase"), col("days_since"),
                     col("days_since_signup")};
  Column* age = col("age");
  Column* until_birthday = col("days_until_birthday");
  Column* months = col("subscription.months");
  const Ymd e = civil_from_days(d);
  const unsigned e_last = days_in_month(e.y, e.m);
  for_rows(f_.rows(), [&](size_t begin, size_t end) {
    for (Column* c : since) {
      // Valid rows only (a purchase, a sign-up on or before the last day); a first purchase or a
      // sign-up dated since then is a fact of a touched row.
      if (c)
        for (size_t r = begin; r < end; ++r) c->i64[r] += delta * c->valid[r];
    }
    if (age || until_birthday) {
      Days* next = next_birthday_.data();
      for (size_t r = begin; r < end; ++r) {
        // A birthday today or passed since the last day: about one row in 365 a day (kNoDay, no
        // birthday, is the smallest Days).
        if (next[r] > kNoDay && next[r] <= d) [[unlikely]] {
          next[r] = d + days_until_birthday(f_.birthday[r], d);
          if (age) {
            clear(*age, r);
            int a = age_on(f_.birthday[r], d);
            if (a >= 0) set(*age, r, a);
          }
        }
      }
      if (until_birthday) {  // every row with a birthday, branch-free (vectorized)
        int64_t* until = until_birthday->i64.data();
        for (size_t r = begin; r < end; ++r) until[r] = next[r] != kNoDay ? int64_t{next[r]} - d : until[r];
      }
    }
    if (months) {
      // A day later, a count of whole months moves only for the subscriptions started on this day
      // of the month, or on a later one when this is the month's last day (whole_months): the
      // other rows keep theirs. Over several days at once, every row is recomputed.
      const bool one_day = delta == 1;
      const auto today = static_cast<uint8_t>(e.d);
      const bool last_day = e.d == e_last;
      for (size_t r = begin; r < end; ++r) {
        if (one_day && sub_day_[r] != today && !(last_day && sub_day_[r] > today)) [[likely]]
          continue;
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
  });

  PurchaseCols pc{col("purchase_count"),
                  col("total_spent"),
                  col("first_purchase_date"),
                  col("last_purchase_date"),
                  col("days_since_first_purchase"),
                  col("days_since_last_purchase"),
                  col("days_since"),
                  col("avg_order_value"),
                  col("net_spent"),
                  col("refund_count")};
  SubscriptionCols sc{col("subscription.active"),       col("subscription.status"),
                      col("subscription.months"),       col("subscription.cycles"),
                      col("subscription.cancel_reason"), f_.strings->find("active"),
                      f_.strings->find("cancelled"),                 f_.strings->find("paused")};
  Column* satisfaction = col("satisfaction");
  Column* referral_count = col("referral_count");
  Column* signup = col("days_since_signup");
  ListPatch last_purchased, purchased, categories, tags;
  last_purchased.col = col("last_purchased");
  purchased.col = col("purchased");
  categories.col = col("categories");
  tags.col = col("tags");
  // The purchase rows' sums first, on two threads when there are many: each reads its customer's
  // orders (scattered over memory: a few cache misses a row), nothing else.
  std::vector<PurchaseRow> purchases(purchase_rows_.size());
  for_chunks(purchases.size(), purchases.size() >= kParallelPurchaseRows ? kAttributeThreads : 1,
             [&](size_t begin, size_t end, size_t) {
               for (size_t k = begin; k < end; ++k) purchases[k] = purchase_row(f_, purchase_rows_[k], d);
             });
  size_t next_purchase = 0;
  std::vector<int64_t> scratch;
  std::vector<TagOverlay::Change> changes;
  for (auto [r, what] : rows) {
    if (what & kTouchPurchases) {
      const PurchaseRow& p = purchases[next_purchase++];
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
      if (categories.col) {
        categories_row(f_, r, d, categories.vals, scratch);
        categories.end_row(r);
      }
    }
    if (what & kTouchSubscription) {
      subscription_[r] = latest_subscription(f_, r, d);
      set_sub_start(r);
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
      const bool changed = overlay.has(r);
      if (changed) overlay.changes(r, changes);
      tags_row(f_, r, d, changed ? &changes : nullptr, tags.vals, scratch);
      tags.end_row(r);
    }
  }
  last_purchased.apply();
  purchased.apply();
  categories.apply();
  tags.apply();
  step_windows(d, rows);
}

void FrameCursor::step_windows(Days d, const std::vector<std::pair<uint32_t, uint8_t>>& rows) {
  // A window moves with the date: recompute the rows with an order that entered it (a touched
  // purchase row) or left it (dated in (day_ - days, d - days]).
  std::vector<uint32_t> moved;
  for (const Window& w : plan_->windows) {
    Column* c = col(w.name.c_str());
    if (!c) continue;
    moved.clear();
    for (auto [r, what] : rows)
      if (what & kTouchPurchases) moved.push_back(r);
    const Days days = static_cast<Days>(w.days);
    const size_t l_begin = f_.orders_on(day_ - days + 1).first, l_end = f_.orders_on(d - days).second;
    for (size_t k = l_begin; k < l_end; ++k) moved.push_back(f_.order_row[f_.orders_by_day[k]]);
    std::sort(moved.begin(), moved.end());
    moved.erase(std::unique(moved.begin(), moved.end()), moved.end());
    for (uint32_t r : moved) {
      clear(*c, r);
      window_row(f_, r, d, w, *c);
    }
  }
}

}  // namespace crm::engine
