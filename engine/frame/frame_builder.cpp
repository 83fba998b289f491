// The from-scratch frame build: the builtin customer attributes as of one date, as plain loops
// over the sorted columnar facts (no per-customer maps), split over a couple of threads for
// large stores (compute_frame; FrameCursor::full). The incremental cursor: frame_cursor.cpp.
#include "engine/frame/attributes.hpp"
#include "engine/frame/frame_internal.hpp"
#include "engine/frame/model_attributes.hpp"

namespace crm::engine {

using namespace frame_detail;

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
    if (fill_model_columns(f_, d_, plan_.needed_set, plan_.all, frame_, &plan_.produced, &plan_.models))  // model_attributes.cpp
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
                                    kNetSpent, kRefundCount, kLastPurchased};
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
      // Net spend and refunds only when wanted (the scratch columns are for the seven above).
      Column* net = want(kNetSpent) ? &scalar_col(kNetSpent, Type::decimal()) : nullptr;
      Column* refunds = want(kRefundCount) ? &scalar_col(kRefundCount, Type::integer()) : nullptr;
      PurchaseCols cols{&count, &spent, &first, &last, &since_first, &since_last, nullptr, &avg, net, refunds};
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
    if (want(kCategories))
      list(slot(kCategories), TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
        categories_row(f_, r, d_, out, scratch);
      });
    for (const Window& w : plan_.windows) {
      auto [it, inserted] = frame_.columns.try_emplace(w.name);
      plan_.layout_changed = plan_.layout_changed || inserted;
      Column& c = it->second;
      plan_.produced.push_back(&c);
      reset_scalar(c, w.spent ? Type::decimal() : Type::integer(), n_);
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r) window_row(f_, r, d_, w, c);
      });
    }
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

void build_frame(const Facts& facts, Days d, FramePlan& plan, Frame& out) { FrameBuilder(facts, d, plan, out).build(); }

Frame compute_frame(const Facts& facts, Days d, const std::vector<std::string>& needed_names) {
  FramePlan plan(needed_names);
  Frame frame;
  FrameBuilder(facts, d, plan, frame).build();
  return frame;
}

}  // namespace crm::engine
