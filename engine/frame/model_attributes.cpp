// The lifetime-model columns of a frame (see model_attributes.hpp). Every column here depends on
// the day for every customer (T grows daily), so a FrameCursor refills them each day: its
// ModelCache keeps every customer's (x, t_x, T) summary, summed again only for the customers with
// orders in the days moved over, and DayPredictions evaluates the model with the per-day
// constants hoisted (tests/bench/fit_bench.sh times it).
#include "engine/frame/model_attributes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <thread>
#include <unordered_map>

#include "engine/frame/attributes.hpp"
#include "engine/frame/frame_internal.hpp"
#include "engine/frame/day_predictions.hpp"

#include "engine/lifetime/next_buckets.hpp"

namespace crm::engine {
namespace {

using frame_detail::for_rows;

constexpr double kDaysPerMonth = 365.25 / 12;
constexpr size_t kDefaultRecommended = 3;  // the subject placeholder {recommended}

// "name(arg1,arg2)" -> name and the argument texts; nullopt when `s` has no parentheses.
std::optional<std::pair<std::string, std::vector<std::string>>> split_call(const std::string& s) {
  size_t open = s.find('(');
  if (open == std::string::npos || s.back() != ')') return std::nullopt;
  std::vector<std::string> args;
  std::string inner = s.substr(open + 1, s.size() - open - 2);
  size_t start = 0;
  for (size_t i = 0; i <= inner.size(); ++i)
    if (i == inner.size() || inner[i] == ',') {
      args.push_back(inner.substr(start, i - start));
      start = i + 1;
    }
  return std::make_pair(s.substr(0, open), args);
}

struct ModelColumn {
  enum Kind { PAlive, OrderValue, Purchases, Clv, Recommended } kind;
  double n = 0;     // days, months or list length
  double rate = 0;  // yearly discount rate of predicted_clv
};

std::optional<ModelColumn> parse_column(const std::string& name) {
  if (name == "p_alive") return ModelColumn{ModelColumn::PAlive};
  if (name == "expected_order_value") return ModelColumn{ModelColumn::OrderValue};
  if (name == "recommended") return ModelColumn{ModelColumn::Recommended, kDefaultRecommended};
  auto call = split_call(name);
  if (!call || call->second.empty()) return std::nullopt;
  char* end = nullptr;
  double n = std::strtod(call->second[0].c_str(), &end);
  if (!(n >= 1)) return std::nullopt;
  const auto& fn = call->first;
  const size_t args = call->second.size();
  if (fn == "expected_purchases" && args == 1) return ModelColumn{ModelColumn::Purchases, n};
  if (fn == "recommended" && args == 1) return ModelColumn{ModelColumn::Recommended, n};
  if (fn == "predicted_clv" && args <= 2) {
    double rate = args == 2 ? std::strtod(call->second[1].c_str(), &end) : 0;
    if (!(rate >= 0)) return std::nullopt;
    return ModelColumn{ModelColumn::Clv, n, rate};
  }
  return std::nullopt;
}


Column& take(Frame& frame, const std::string& name, const lang::Type& type, bool& inserted, std::vector<const Column*>* produced) {
  auto [it, fresh] = frame.columns.try_emplace(name);
  inserted = inserted || fresh;
  Column& c = it->second;
  c.type = type;
  if (produced) produced->push_back(&c);
  return c;
}

void scalar_nulls(Column& c, size_t n) {
  c.i64.clear();
  c.f64.assign(n, 0.0);
  c.valid.assign(n, 0);
  c.list_offsets.clear();
  c.list_values.clear();
}

}  // namespace

std::string model_column_name(const lang::Expr& call) {
  if (call.kind != lang::Expr::Kind::Call || call.args.empty() || !call.args[0] ||
      call.args[0]->kind != lang::Expr::Kind::Int)
    return "";
  std::string out = call.text + "(" + std::to_string(call.args[0]->ival);
  if (call.args.size() > 1 && call.args[1]) {
    const lang::Expr& r = *call.args[1];
    double rate = r.kind == lang::Expr::Kind::Decimal ? r.dval : static_cast<double>(r.ival);
    if (rate != 0) out += fmt::format(",{}", rate);
  }
  return out + ")";
}

bool is_model_column(const std::string& name) { return parse_column(name).has_value(); }

RfmRow rfm_of(const Facts& f, size_t r, Days d) {
  RfmRow o;
  int days = 0;
  double cur_total = 0, repeat_sum = 0;
  for (uint32_t k = f.order_offsets[r]; k < f.order_offsets[r + 1]; ++k) {
    const Days day = f.order_day[k];
    if (day > d) break;
    if (f.order_status[k] != OrderStatus::Paid) continue;
    if (day != o.last) {
      if (days > 1) repeat_sum += cur_total;  // the day before was a repeat purchase
      if (days == 0) o.first = day;
      o.last = day;
      cur_total = 0;
      ++days;
    }
    cur_total += f.order_total[k];
  }
  if (days > 1) repeat_sum += cur_total;
  o.x = days > 0 ? days - 1 : 0;
  o.mean = o.x > 0 ? repeat_sum / o.x : 0;
  return o;
}

std::vector<std::vector<int64_t>> recommend_all(const Facts& f, Days d, size_t n) {
  using model::kBucketCount;
  const size_t rows = f.rows();
  // The next-purchase table of the paid orders dated before d, keyed by SKU string id.
  std::unordered_map<int64_t, std::array<int64_t, kBucketCount>> followed, holding;
  std::array<int64_t, kBucketCount> all_followed{};
  std::unordered_map<uint64_t, std::unordered_map<int64_t, int64_t>> pairs;  // from << 3 | bucket -> to -> count
  std::vector<int64_t> prev, cur;
  // The customer's purchase days as sorted SKU sets: calls `on(day, skus)` for each paid day <= last.
  auto purchases = [&](size_t r, Days last, auto&& on) {
    Days day = kNoDay;
    cur.clear();
    for (uint32_t k = f.order_offsets[r]; k < f.order_offsets[r + 1]; ++k) {
      if (f.order_day[k] > last) break;
      if (f.order_status[k] != OrderStatus::Paid) continue;
      if (f.order_day[k] != day && day != kNoDay) {
        std::sort(cur.begin(), cur.end());
        cur.erase(std::unique(cur.begin(), cur.end()), cur.end());
        on(day, cur);
        cur.clear();
      }
      day = f.order_day[k];
      cur.insert(cur.end(), f.item_sku.begin() + f.item_offsets[k], f.item_sku.begin() + f.item_offsets[k + 1]);
    }
    if (day != kNoDay) {
      std::sort(cur.begin(), cur.end());
      cur.erase(std::unique(cur.begin(), cur.end()), cur.end());
      on(day, cur);
    }
  };
  for (size_t r = 0; r < rows; ++r) {
    Days prev_day = kNoDay;
    purchases(r, d - 1, [&](Days day, const std::vector<int64_t>& skus) {
      if (prev_day != kNoDay) {
        int b = model::bucket_of(day - prev_day);
        if (b >= 0) {
          ++all_followed[static_cast<size_t>(b)];
          for (int64_t to : skus) ++holding[to][static_cast<size_t>(b)];
          for (int64_t from : prev) {
            ++followed[from][static_cast<size_t>(b)];
            auto& m = pairs[static_cast<uint64_t>(from) << 3 | static_cast<uint64_t>(b)];
            for (int64_t to : skus) ++m[to];
          }
        }
      }
      prev = skus;
      prev_day = day;
    });
  }
  std::vector<std::vector<int64_t>> out(rows);
  if (pairs.empty()) return out;
  const StringPool& pool = *f.strings;
  // Scores per SKU in dense arrays indexed by string id (a map per customer was most of a day's
  // cost on Online Retail), with the SKUs touched for this customer; the same sums in the same
  // order as before, so the same ranking.
  const size_t ids = pool.size();
  std::vector<std::array<int64_t, kBucketCount>> hold(ids, std::array<int64_t, kBucketCount>{});
  for (const auto& [to, counts] : holding)
    if (to >= 0 && static_cast<size_t>(to) < ids) hold[static_cast<size_t>(to)] = counts;
  std::vector<std::pair<double, double>> score(ids, {0.0, 0.0});
  std::vector<uint8_t> in_score(ids, 0);
  std::vector<int64_t> touched;
  auto add = [&](int64_t to, double conf, double lift) {
    const auto k = static_cast<size_t>(to);
    if (!in_score[k]) {
      in_score[k] = 1;
      touched.push_back(to);
    }
    score[k].first += conf;
    score[k].second += lift;
  };
  // A (from, bucket)'s next SKUs with their confidence and lift, the same for every customer:
  // computed on first use, then read as an array.
  struct Edge {
    int64_t to;
    double conf, lift;
  };
  std::unordered_map<uint64_t, std::vector<Edge>> edges;
  auto edges_of = [&](int64_t from, int b) -> const std::vector<Edge>* {
    const uint64_t key = static_cast<uint64_t>(from) << 3 | static_cast<uint64_t>(b);
    auto [e, fresh] = edges.try_emplace(key);
    if (fresh) {
      auto it = pairs.find(key);
      if (it != pairs.end()) {
        const double fol = static_cast<double>(followed[from][static_cast<size_t>(b)]);
        const double all_b = static_cast<double>(all_followed[static_cast<size_t>(b)]);
        e->second.reserve(it->second.size());
        for (const auto& [to, c] : it->second) {
          double conf = static_cast<double>(c) / fol;
          double base = static_cast<double>(hold[static_cast<size_t>(to)][static_cast<size_t>(b)]) / all_b;
          e->second.push_back({to, conf, conf / base});
        }
      }
    }
    return e->second.empty() ? nullptr : &e->second;
  };
  std::vector<std::pair<int64_t, std::pair<double, double>>> ranked;
  for (size_t r = 0; r < rows; ++r) {
    Days last_day = kNoDay;
    std::vector<int64_t> last;
    purchases(r, d, [&](Days day, const std::vector<int64_t>& skus) {
      last_day = day;
      last = skus;
    });
    if (last_day == kNoDay) continue;
    int b = model::bucket_of(std::max(d - last_day, 0));
    if (b < 0) b = kBucketCount - 1;
    for (int64_t to : touched) {
      in_score[static_cast<size_t>(to)] = 0;
      score[static_cast<size_t>(to)] = {0.0, 0.0};
    }
    touched.clear();
    for (int64_t from : last) {  // the bucket of the days elapsed
      const std::vector<Edge>* e = edges_of(from, b);
      if (!e) continue;
      for (const Edge& x : *e) add(x.to, x.conf, x.lift);
    }
    if (touched.empty())  // nothing in that bucket: every bucket pooled
      for (int64_t from : last) {
        auto fit = followed.find(from);
        if (fit == followed.end()) continue;
        int64_t total = 0;
        for (auto x : fit->second) total += x;
        if (total == 0) continue;
        std::unordered_map<int64_t, int64_t> counts;
        for (int bb = 0; bb < kBucketCount; ++bb) {
          auto it = pairs.find(static_cast<uint64_t>(from) << 3 | static_cast<uint64_t>(bb));
          if (it != pairs.end())
            for (const auto& [to, c] : it->second) counts[to] += c;
        }
        for (const auto& [to, c] : counts) add(to, static_cast<double>(c) / static_cast<double>(total), 0.0);
      }
    ranked.clear();
    for (int64_t to : touched) ranked.emplace_back(to, score[static_cast<size_t>(to)]);
    const size_t top = std::min(n, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(top), ranked.end(), [&](const auto& a, const auto& b) {
      if (a.second.first != b.second.first) return a.second.first > b.second.first;
      if (a.second.second != b.second.second) return a.second.second > b.second.second;
      return pool.get(a.first) < pool.get(b.first);
    });
    for (size_t i = 0; i < ranked.size() && i < n; ++i) out[r].push_back(ranked[i].first);
  }
  return out;
}

namespace {

// The cache's RfmRows as of d: only the rows of `changes` again when the cache is as of its
// `since` (orders are dated, so the other rows' sums are the same), else every row.
void update_rfm(const Facts& f, Days d, ModelCache& c, const RfmChanges* changes) {
  const size_t n = f.rows();
  if (changes && changes->rows && c.day != kNoDay && c.day == changes->since && c.day <= d && c.rfm.size() == n) {
    for (uint32_t r : *changes->rows) c.rfm[r] = rfm_of(f, r, d);
  } else {
    c.rfm.resize(n);
    for_rows(n, [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) c.rfm[r] = rfm_of(f, r, d);
    });
  }
  c.day = d;
}

}  // namespace

bool fill_model_columns(const Facts& f, Days d, const std::set<std::string>& needed, bool all, Frame& frame,
                        std::vector<const Column*>* produced, ModelCache* cache, const RfmChanges* changes) {
  std::vector<std::pair<std::string, ModelColumn>> cols;
  for (const auto& name : needed)
    if (auto c = parse_column(name)) cols.emplace_back(name, *c);
  if (all) {
    for (const char* name : {"p_alive", "expected_order_value"})
      if (!needed.count(name)) cols.emplace_back(name, *parse_column(name));
  }
  ModelCache local;
  ModelCache& mc = cache ? *cache : local;
  if (cols.empty()) {
    mc.day = kNoDay;  // not kept up to date
    return false;
  }
  const size_t n = f.rows();
  bool inserted = false;
  bool need_rfm = false;
  for (const auto& [name, c] : cols) need_rfm = need_rfm || c.kind != ModelColumn::Recommended;
  std::optional<model::LifetimeModels> m;
  if (need_rfm) m = model::pick_models(f.models, d, f.models_strictly_before);
  if (m) update_rfm(f, d, mc, changes);
  else mc.day = kNoDay;
  const std::vector<RfmRow>& rfm = mc.rfm;
  std::optional<DayPredictions> predict;
  bool have_p_alive = false;
  // P(alive) per row, computed once for every purchase column of the day.
  auto p_alive = [&]() -> const std::vector<double>& {
    if (!have_p_alive) predict->p_alive(mc.p_alive);
    have_p_alive = true;
    return mc.p_alive;
  };
  if (m && m->has_purchase_model()) predict.emplace(*m, d, rfm);
  std::map<size_t, std::vector<std::vector<int64_t>>> recommended_by_n;
  for (const auto& [name, c] : cols) {
    if (c.kind == ModelColumn::Recommended) {
      Column& col = take(frame, name, lang::Type::list(lang::TypeKind::String), inserted, produced);
      // {recommended} is recommended(3): one table and ranking per N a day.
      auto memo = recommended_by_n.find(static_cast<size_t>(c.n));
      if (memo == recommended_by_n.end())
        memo = recommended_by_n.emplace(static_cast<size_t>(c.n), recommend_all(f, d, static_cast<size_t>(c.n))).first;
      const auto& lists = memo->second;
      col.i64.clear();
      col.f64.clear();
      col.valid.assign(n, 1);
      col.list_offsets.assign(1, 0);
      col.list_values.clear();
      for (size_t r = 0; r < n; ++r) {
        col.list_values.insert(col.list_values.end(), lists[r].begin(), lists[r].end());
        col.list_offsets.push_back(static_cast<uint32_t>(col.list_values.size()));
      }
      continue;
    }
    Column& col = take(frame, name, lang::Type::decimal(), inserted, produced);
    scalar_nulls(col, n);
    if (!m) continue;
    const bool purchase = m->has_purchase_model(), spend = m->gamma_gamma.has_value();
    if (c.kind != ModelColumn::OrderValue && !purchase) continue;
    if (c.kind == ModelColumn::Clv && !spend) continue;
    // The column's values per row (rows without a purchase are skipped below), in the order of
    // the operations of LifetimeModels' functions.
    const std::vector<double>* values = nullptr;
    switch (c.kind) {
      case ModelColumn::PAlive: values = &p_alive(); break;
      case ModelColumn::OrderValue: break;
      case ModelColumn::Purchases:
        predict->expected(c.n, p_alive(), mc.expected);
        values = &mc.expected;
        break;
      case ModelColumn::Clv:
        if (c.rate == 0) {
          predict->expected(c.n * kDaysPerMonth, p_alive(), mc.expected);
          values = &mc.expected;
          break;
        }
        {
          // Month by month: the purchases expected in month k, discounted k months.
          const double monthly = std::pow(1 + c.rate, 1.0 / 12) - 1;
          mc.prev.assign(n, 0.0);
          mc.sum.assign(n, 0.0);
          for (int k = 1; k <= static_cast<int>(c.n); ++k) {
            predict->expected(k * kDaysPerMonth, p_alive(), mc.expected);
            const double discount = std::pow(1 + monthly, k);
            for_rows(n, [&](size_t b, size_t e) {
              for (size_t r = b; r < e; ++r) {
                if (rfm[r].first == kNoDay) continue;
                mc.sum[r] += (mc.expected[r] - mc.prev[r]) / discount;
                mc.prev[r] = mc.expected[r];
              }
            });
          }
          values = &mc.sum;
        }
        break;
      case ModelColumn::Recommended: break;
    }
    for_rows(n, [&, &c = c](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) {
        const RfmRow& p = rfm[r];
        if (p.first == kNoDay) continue;
        double v = NAN;
        switch (c.kind) {
          case ModelColumn::OrderValue:
            if (spend) v = m->expected_order_value(p.x, p.mean);
            break;
          case ModelColumn::Clv: v = (*values)[r] * m->expected_order_value(p.x, p.mean); break;
          default: v = (*values)[r];
        }
        if (std::isfinite(v)) {
          col.f64[r] = v;
          col.valid[r] = 1;
        }
      }
    });
  }
  return inserted;
}

}  // namespace crm::engine
