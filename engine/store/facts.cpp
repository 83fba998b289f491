// Lookups over the in-memory facts: customer id -> row, the orders and events of one day, the
// extra customer columns as checker attributes, and one-customer slices (slice_facts).
#include "engine/store/facts.hpp"

#include <algorithm>
#include <tuple>

namespace crm::engine {

std::optional<size_t> Facts::row_of(int64_t id) const {
  // Ids are often dense (1..N): try the row the id would have then, before searching.
  if (!customer_id.empty()) {
    uint64_t guess = static_cast<uint64_t>(id) - static_cast<uint64_t>(customer_id.front());
    if (guess < customer_id.size() && customer_id[guess] == id) return static_cast<size_t>(guess);
  }
  auto it = std::lower_bound(customer_id.begin(), customer_id.end(), id);
  if (it == customer_id.end() || *it != id) return std::nullopt;
  return static_cast<size_t>(it - customer_id.begin());
}

std::pair<size_t, size_t> Facts::orders_on(Days d) const {
  auto lo = std::partition_point(orders_by_day.begin(), orders_by_day.end(), [&](uint32_t o) { return order_day[o] < d; });
  auto hi = std::partition_point(lo, orders_by_day.end(), [&](uint32_t o) { return order_day[o] <= d; });
  return {static_cast<size_t>(lo - orders_by_day.begin()), static_cast<size_t>(hi - orders_by_day.begin())};
}

std::pair<size_t, size_t> Facts::events_on(Days d) const {
  auto lo = std::lower_bound(event_day.begin(), event_day.end(), d);
  auto hi = std::upper_bound(lo, event_day.end(), d);
  return {static_cast<size_t>(lo - event_day.begin()), static_cast<size_t>(hi - event_day.begin())};
}

std::vector<lang::CheckOptions::Extra> Facts::extra_attributes() const {
  std::vector<lang::CheckOptions::Extra> out;
  for (const auto& e : extra) out.push_back({e.name, e.type});
  return out;
}

namespace {

// Row ranges of a CSR layout.
template <class T>
void copy_range(std::vector<T>& out, const std::vector<T>& in, size_t b, size_t e) {
  out.assign(in.begin() + static_cast<std::ptrdiff_t>(b), in.begin() + static_cast<std::ptrdiff_t>(e));
}

// Every vector of `list` (a tuple of Facts member pointers): out.*m = [b, e) of in.*m.
template <class List>
void copy_ranges(const List& list, Facts& out, const Facts& in, size_t b, size_t e) {
  std::apply([&](auto... m) { (copy_range(out.*m, in.*m, b, e), ...); }, list);
}

// The per-row ranges of a CSR layout: out's offsets and every vector of `list`.
template <class List>
void slice_csr(const List& list, Offsets Facts::*offsets, Facts& out, const Facts& in, size_t r) {
  size_t b = (in.*offsets)[r], e = (in.*offsets)[r + 1];
  out.*offsets = {0, static_cast<uint32_t>(e - b)};
  copy_ranges(list, out, in, b, e);
}

}  // namespace

void FactsRowIndex::build(const Facts& facts) {
  size_t rows = facts.rows();
  auto index = [&](size_t n, auto row_of, Offsets& offsets, Offsets& idx) {
    offsets.assign(rows + 1, 0);
    for (size_t i = 0; i < n; ++i)
      if (int64_t r = row_of(i); r >= 0) offsets[static_cast<size_t>(r) + 1]++;
    for (size_t r = 0; r < rows; ++r) offsets[r + 1] += offsets[r];
    idx.assign(offsets[rows], 0);
    std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < n; ++i)
      if (int64_t r = row_of(i); r >= 0) idx[fill[static_cast<size_t>(r)]++] = static_cast<uint32_t>(i);
  };
  index(facts.event_id.size(), [&](size_t i) { return static_cast<int64_t>(facts.event_row[i]); }, event_offsets,
        event_index);
  index(facts.outbox.size(), [&](size_t i) { return facts.outbox[i].row; }, outbox_offsets, outbox_index);
}

void slice_facts(const Facts& f, const FactsRowIndex& index, size_t r, Facts& s) {
  s.strings = f.strings;
  s.timezone = f.timezone;
  s.currency = f.currency;
  s.money_digits = f.money_digits;
  copy_ranges(kCustomerVectors, s, f, r, r + 1);
  for (size_t k = 0; k < kOptInCount; ++k) s.opt_in[k].assign(1, f.opt_in[k][r]);
  s.extra.resize(f.extra.size());
  for (size_t k = 0; k < f.extra.size(); ++k) {
    const auto& e = f.extra[k];
    auto& o = s.extra[k];
    o.name = e.name;
    o.type = e.type;
    o.declared_type = e.declared_type;
    if (e.i64.empty()) o.i64.clear(); else o.i64.assign(1, e.i64[r]);
    if (e.f64.empty()) o.f64.clear(); else o.f64.assign(1, e.f64[r]);
    o.valid.assign(1, e.valid[r]);
  }
  // Orders and their items.
  size_t o0 = f.order_offsets[r], o1 = f.order_offsets[r + 1];
  slice_csr(kOrderVectors, &Facts::order_offsets, s, f, r);
  s.order_row.assign(o1 - o0, 0);
  size_t i0 = f.item_offsets[o0], i1 = f.item_offsets[o1];
  s.item_offsets.resize(o1 - o0 + 1);
  for (size_t o = o0; o <= o1; ++o) s.item_offsets[o - o0] = static_cast<uint32_t>(f.item_offsets[o] - i0);
  copy_range(s.item_sku, f.item_sku, i0, i1);
  copy_range(s.item_category, f.item_category, i0, i1);
  s.orders_by_day.resize(o1 - o0);
  for (size_t k = 0; k < o1 - o0; ++k) s.orders_by_day[k] = static_cast<uint32_t>(k);
  std::sort(s.orders_by_day.begin(), s.orders_by_day.end(), [&](uint32_t a, uint32_t b) {
    if (s.order_day[a] != s.order_day[b]) return s.order_day[a] < s.order_day[b];
    if (s.order_local_seconds[a] != s.order_local_seconds[b]) return s.order_local_seconds[a] < s.order_local_seconds[b];
    return s.order_id[a] < s.order_id[b];
  });
  // Subscriptions, surveys, referrals, tags.
  slice_csr(kSubscriptionVectors, &Facts::sub_offsets, s, f, r);
  slice_csr(kSurveyVectors, &Facts::survey_offsets, s, f, r);
  slice_csr(kReferralVectors, &Facts::referral_offsets, s, f, r);
  slice_csr(kTagVectors, &Facts::tag_offsets, s, f, r);
  // Events (in the facts' time order) and the outbox history.
  std::apply([&](auto... m) { ((s.*m).clear(), ...); }, kEventVectors);
  s.event_row.clear();
  for (uint32_t k = index.event_offsets[r]; k < index.event_offsets[r + 1]; ++k) {
    size_t i = index.event_index[k];
    std::apply([&](auto... m) { ((s.*m).push_back((f.*m)[i]), ...); }, kEventVectors);
    s.event_row.push_back(0);
  }
  s.outbox.clear();
  for (uint32_t k = index.outbox_offsets[r]; k < index.outbox_offsets[r + 1]; ++k) {
    s.outbox.push_back(f.outbox[index.outbox_index[k]]);
    s.outbox.back().row = 0;
  }
}

}  // namespace crm::engine
