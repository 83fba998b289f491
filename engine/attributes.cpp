// compute_frame: the builtin customer attributes as of one date, as plain loops over the sorted
// columnar facts (no per-customer maps), split over a couple of threads for large stores.
#include "engine/attributes.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

#include "stdlib/builtins.hpp"

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

Column scalar(Type t, size_t n) {
  Column c;
  c.type = t;
  if (t.kind == TypeKind::Decimal) c.f64.assign(n, 0.0);
  else c.i64.assign(n, 0);
  c.valid.assign(n, 0);
  return c;
}

void set(Column& c, size_t r, int64_t v) {
  c.i64[r] = v;
  c.valid[r] = 1;
}

void set_f(Column& c, size_t r, double v) {
  c.f64[r] = v;
  c.valid[r] = 1;
}

class FrameBuilder {
 public:
  FrameBuilder(const Facts& f, Days d, const std::vector<std::string>& needed) : f_(f), d_(d), n_(f.rows()) {
    all_ = needed.empty();
    want_.insert(needed.begin(), needed.end());
    chunks_ = n_ >= kParallelRows ? std::max(1u, std::min(kAttributeThreads, std::thread::hardware_concurrency())) : 1;
    frame_.rows = n_;
    frame_.today = d;
    frame_.customer_id = f.customer_id;
    frame_.strings = f.strings;
  }

  Frame build() {
    customer_columns();
    purchases();
    profile();
    subscription();
    surveys_referrals_tags();
    extras();
    return std::move(frame_);
  }

 private:
  bool want(const std::string& name) const { return all_ || want_.count(name) > 0; }
  void put(const std::string& name, Column c) { frame_.columns[name] = std::move(c); }

  // A list column: fn(row, out) appends row's values; chunks are merged in row order.
  Column list(TypeKind elem, const std::function<void(size_t, std::vector<int64_t>&, std::vector<int64_t>&)>& fn) {
    Column c;
    c.type = Type::list(elem);
    c.valid.assign(n_, 1);
    c.list_offsets.assign(n_ + 1, 0);
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
    return c;
  }

  void customer_columns() {
    if (want("id")) {
      Column c = scalar(Type::integer(), n_);
      c.i64 = f_.customer_id;
      c.valid.assign(n_, 1);
      put("id", std::move(c));
    }
    auto strings = [&](const char* name, const std::vector<int64_t>& ids) {
      if (!want(name)) return;
      Column c = scalar(Type::string(), n_);
      for (size_t r = 0; r < n_; ++r)
        if (ids[r] >= 0) set(c, r, ids[r]);
      put(name, std::move(c));
    };
    strings("name", f_.name);
    strings("email", f_.email);
    auto dates = [&](const char* name, const std::vector<Days>& days) {
      if (!want(name)) return;
      Column c = scalar(Type::date(), n_);
      for (size_t r = 0; r < n_; ++r)
        if (days[r] != kNoDay) set(c, r, days[r]);
      put(name, std::move(c));
    };
    dates("birthday", f_.birthday);
    dates("created_at", f_.created_at);
    for (size_t k = 0; k < kOptInCount; ++k) {
      if (!want(kOptInColumns[k])) continue;
      Column c = scalar(Type::boolean(), n_);
      for (size_t r = 0; r < n_; ++r)
        if (f_.opt_in[k][r] >= 0) set(c, r, f_.opt_in[k][r]);
      put(kOptInColumns[k], std::move(c));
    }
    if (want("referred_by")) {
      Column c = scalar(Type::integer(), n_);
      c.i64 = f_.referred_by;
      c.valid = f_.referred_by_valid;
      put("referred_by", std::move(c));
    }
  }


  void purchases() {
    static const char* kScalars[] = {"purchase_count", "total_spent", "first_purchase_date", "last_purchase_date",
                                     "days_since_first_purchase", "days_since_last_purchase", "days_since",
                                     "avg_order_value", "last_purchased"};
    bool any = false;
    for (const char* s : kScalars) any = any || want(s);
    if (any) {
      Column count = scalar(Type::integer(), n_), spent = scalar(Type::decimal(), n_), first = scalar(Type::date(), n_),
             last = scalar(Type::date(), n_), since_first = scalar(Type::integer(), n_),
             since_last = scalar(Type::integer(), n_), avg = scalar(Type::decimal(), n_);
      std::vector<int64_t> last_order(n_, -1);
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r) {
          int64_t k = 0, lo = -1;
          double sum = 0;
          Days fd = kNoDay, ld = kNoDay;
          for (uint32_t o = f_.order_offsets[r], end = f_.order_offsets[r + 1]; o < end && f_.order_day[o] <= d_; ++o) {
            if (f_.order_status[o] != OrderStatus::Paid) continue;
            if (k == 0) fd = f_.order_day[o];
            ld = f_.order_day[o];
            sum += f_.order_total[o];
            lo = o;
            ++k;
          }
          set(count, r, k);
          set_f(spent, r, sum);
          last_order[r] = lo;
          if (k == 0) continue;
          set(first, r, fd);
          set(last, r, ld);
          set(since_first, r, d_ - fd);
          set(since_last, r, d_ - ld);
          set_f(avg, r, sum / static_cast<double>(k));
        }
      });
      if (want("purchase_count")) put("purchase_count", std::move(count));
      if (want("total_spent")) put("total_spent", std::move(spent));
      if (want("first_purchase_date")) put("first_purchase_date", std::move(first));
      if (want("last_purchase_date")) put("last_purchase_date", std::move(last));
      if (want("days_since_first_purchase")) put("days_since_first_purchase", std::move(since_first));
      if (want("days_since")) put("days_since", since_last);
      if (want("days_since_last_purchase")) put("days_since_last_purchase", std::move(since_last));
      if (want("avg_order_value")) put("avg_order_value", std::move(avg));
      if (want("last_purchased"))
        put("last_purchased", list(TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>&) {
              int64_t o = last_order[r];
              if (o < 0) return;
              out.insert(out.end(), f_.item_sku.begin() + f_.item_offsets[o], f_.item_sku.begin() + f_.item_offsets[o + 1]);
            }));
    }
    if (want("purchased"))
      put("purchased", list(TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>& scratch) {
            scratch.clear();
            for (uint32_t o = f_.order_offsets[r], end = f_.order_offsets[r + 1]; o < end && f_.order_day[o] <= d_; ++o) {
              if (f_.order_status[o] != OrderStatus::Paid) continue;
              scratch.insert(scratch.end(), f_.item_sku.begin() + f_.item_offsets[o], f_.item_sku.begin() + f_.item_offsets[o + 1]);
            }
            std::sort(scratch.begin(), scratch.end());
            scratch.erase(std::unique(scratch.begin(), scratch.end()), scratch.end());
            out.insert(out.end(), scratch.begin(), scratch.end());
          }));
  }

  void profile() {
    if (want("days_since_signup")) {
      Column c = scalar(Type::integer(), n_);
      for (size_t r = 0; r < n_; ++r)
        if (f_.created_at[r] != kNoDay && f_.created_at[r] <= d_) set(c, r, d_ - f_.created_at[r]);
      put("days_since_signup", std::move(c));
    }
    if (want("age")) {
      Column c = scalar(Type::integer(), n_);
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r) {
          if (f_.birthday[r] == kNoDay) continue;
          int a = age_on(f_.birthday[r], d_);
          if (a >= 0) set(c, r, a);
        }
      });
      put("age", std::move(c));
    }
    if (want("days_until_birthday")) {
      Column c = scalar(Type::integer(), n_);
      for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
        for (size_t r = b; r < e; ++r)
          if (f_.birthday[r] != kNoDay) set(c, r, days_until_birthday(f_.birthday[r], d_));
      });
      put("days_until_birthday", std::move(c));
    }
  }

  void subscription() {
    static const char* kNames[] = {"subscription.active", "subscription.status", "subscription.months", "subscription.cycles",
                                   "subscription.cancel_reason"};
    bool any = false;
    for (const char* s : kNames) any = any || want(s);
    if (!any) return;
    // The loader interns both (compute_frame never interns: frames may be computed in parallel).
    const int64_t active_id = f_.strings->find("active"), cancelled_id = f_.strings->find("cancelled");
    Column active = scalar(Type::boolean(), n_), status = scalar(Type::string(), n_), months = scalar(Type::integer(), n_),
           cycles = scalar(Type::integer(), n_), reason = scalar(Type::string(), n_);
    for_chunks(n_, chunks_, [&](size_t b, size_t e, size_t) {
      for (size_t r = b; r < e; ++r) {
        int64_t s = -1;
        for (uint32_t i = f_.sub_offsets[r], end = f_.sub_offsets[r + 1]; i < end && f_.sub_start[i] <= d_; ++i) s = i;
        if (s < 0) {
          set(active, r, 0);
          continue;
        }
        Days cancel = f_.sub_cancelled[s];
        int64_t st = f_.sub_status[s];
        bool cancelled_by_d = (cancel != kNoDay && cancel <= d_) || (cancel == kNoDay && st >= 0 && st == cancelled_id);
        if (cancel != kNoDay && cancel <= d_) st = cancelled_id;
        else if (cancel != kNoDay && st >= 0 && st == cancelled_id) st = active_id;  // cancelled later: live as of D
        if (st >= 0) set(status, r, st);
        set(active, r, st >= 0 && st == active_id ? 1 : 0);
        Days until = cancel != kNoDay && cancel <= d_ ? cancel : d_;
        set(months, r, whole_months(f_.sub_start[s], until));
        if (f_.sub_cycles_valid[s]) set(cycles, r, f_.sub_cycles[s]);
        if (cancelled_by_d && f_.sub_cancel_reason[s] >= 0) set(reason, r, f_.sub_cancel_reason[s]);
      }
    });
    if (want("subscription.active")) put("subscription.active", std::move(active));
    if (want("subscription.status")) put("subscription.status", std::move(status));
    if (want("subscription.months")) put("subscription.months", std::move(months));
    if (want("subscription.cycles")) put("subscription.cycles", std::move(cycles));
    if (want("subscription.cancel_reason")) put("subscription.cancel_reason", std::move(reason));
  }

  void surveys_referrals_tags() {
    if (want("satisfaction")) {
      Column c = scalar(Type::integer(), n_);
      for (size_t r = 0; r < n_; ++r) {
        int64_t last = -1;
        for (uint32_t i = f_.survey_offsets[r], end = f_.survey_offsets[r + 1]; i < end && f_.survey_day[i] <= d_; ++i) last = i;
        if (last >= 0) set(c, r, f_.survey_satisfaction[last]);
      }
      put("satisfaction", std::move(c));
    }
    if (want("referral_count")) {
      Column c = scalar(Type::integer(), n_);
      for (size_t r = 0; r < n_; ++r) {
        auto b = f_.referral_day.begin() + f_.referral_offsets[r], e = f_.referral_day.begin() + f_.referral_offsets[r + 1];
        set(c, r, std::upper_bound(b, e, d_) - b);
      }
      put("referral_count", std::move(c));
    }
    if (want("tags"))
      put("tags", list(TypeKind::String, [&](size_t r, std::vector<int64_t>& out, std::vector<int64_t>&) {
            for (uint32_t i = f_.tag_offsets[r], end = f_.tag_offsets[r + 1]; i < end; ++i)
              if (f_.tag_set_at[i] == kNoDay || f_.tag_set_at[i] <= d_) out.push_back(f_.tag[i]);
          }));
  }

  void extras() {
    for (const ExtraColumn& e : f_.extra) {
      if (!want(e.name)) continue;
      Column c;
      c.type = e.type;
      c.i64 = e.i64;
      c.f64 = e.f64;
      c.valid = e.valid;
      put(e.name, std::move(c));
    }
  }

  const Facts& f_;
  Days d_;
  size_t n_;
  bool all_ = false;
  std::set<std::string> want_;
  size_t chunks_ = 1;
  Frame frame_;
};

}  // namespace

Frame compute_frame(const Facts& facts, Days d, const std::vector<std::string>& needed_names) {
  return FrameBuilder(facts, d, needed_names).build();
}

}  // namespace crm::engine
