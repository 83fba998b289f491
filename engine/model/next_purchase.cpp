// The next-purchase table (see next_purchase.hpp): purchases as (customer, day, product set),
// each followed by the customer's next purchase day; counts per product, bucket and next product.
#include "engine/model/next_purchase.hpp"

#include "engine/store/sql_session.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include "engine/model/rfm_summary.hpp"

namespace crm::model {

std::string bucket_name(int b) {
  int first = b == 0 ? 0 : kBucketLast[static_cast<size_t>(b - 1)] + 1;
  return std::to_string(first) + "-" + std::to_string(kBucketLast[static_cast<size_t>(b)]);
}

const ProductNext* NextPurchaseTable::find(const std::string& product) const {
  for (const auto& p : products)
    if (p.product == product) return &p;
  return nullptr;
}

namespace {

struct Item {
  int64_t customer;
  Days day;
  int32_t key;  // index into the keys (sku or category)
};

void sort_rows(std::vector<NextRow>& rows) {
  std::sort(rows.begin(), rows.end(), [](const NextRow& a, const NextRow& b) {
    return std::tie(b.count, b.lift, a.next) < std::tie(a.count, a.lift, b.next);
  });
}

}  // namespace

NextPurchaseTable next_purchase_table(engine::SqlSession& db, ProductKey key, std::optional<Days> as_of, size_t top_n) {
  NextPurchaseTable t;
  t.key = key;
  // Products: id -> key index (sku or category; "(none)" for a product without a category).
  std::vector<std::string> keys, names;
  std::unordered_map<std::string, int32_t> key_index;
  std::unordered_map<int64_t, int32_t> product_key;
  db.query("SELECT id, sku, name, category FROM products ORDER BY id", [&](const engine::SqlRow& q) {
    std::string k = key == ProductKey::sku ? q.text(1) : (q.null(3) ? "(none)" : q.text(3));
    auto [it, fresh] = key_index.emplace(k, static_cast<int32_t>(keys.size()));
    if (fresh) {
      keys.push_back(k);
      names.push_back(key == ProductKey::sku ? q.text(2) : "");
    }
    product_key[q.i64(0)] = it->second;
  });
  engine::TimeZone tz = store_time_zone(db);
  std::vector<Item> items;
  Days last = INT32_MIN;
  db.query("SELECT o.customer_id, o.ordered_at, i.product_id FROM orders o JOIN order_items i ON i.order_id = o.id"
           " WHERE o.status = 'paid' AND o.customer_id IS NOT NULL",
           [&](const engine::SqlRow& q) {
             auto pk = product_key.find(q.i64(2));
             if (pk == product_key.end()) return;
             std::optional<engine::LocalTime> lt = q.type(1) == engine::SqlValue::Type::Int
                                                       ? std::optional(engine::local_time_of_epoch(q.i64(1), tz))
                                                       : engine::parse_timestamp(q.text(1), tz);
             if (!lt || (as_of && lt->day > *as_of)) return;
             last = std::max(last, lt->day);
             items.push_back({q.i64(0), lt->day, pk->second});
           });
  t.as_of = as_of ? *as_of : (last == INT32_MIN ? 0 : last);
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return std::tie(a.customer, a.day, a.key) < std::tie(b.customer, b.day, b.key); });
  items.erase(std::unique(items.begin(), items.end(),
                          [](const Item& a, const Item& b) { return a.customer == b.customer && a.day == b.day && a.key == b.key; }),
              items.end());

  const size_t nk = keys.size();
  std::vector<int64_t> purchases(nk, 0);
  std::vector<std::array<int64_t, kBucketCount>> followed(nk);
  std::array<int64_t, kBucketCount> all_followed{};
  std::vector<std::array<int64_t, kBucketCount>> holding(nk);  // next purchases holding a key, per bucket
  std::unordered_map<uint64_t, int64_t> pair_counts;           // (from * nk + to) * buckets + bucket
  // Walk purchases: [i, j) is one purchase, [j, k) the same customer's next one.
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    while (j < items.size() && items[j].customer == items[i].customer && items[j].day == items[i].day) ++j;
    for (size_t a = i; a < j; ++a) ++purchases[static_cast<size_t>(items[a].key)];
    if (j < items.size() && items[j].customer == items[i].customer) {
      size_t k = j;
      while (k < items.size() && items[k].customer == items[j].customer && items[k].day == items[j].day) ++k;
      int b = bucket_of(items[j].day - items[i].day);
      if (b >= 0) {
        ++t.transitions;
        ++all_followed[static_cast<size_t>(b)];
        for (size_t c = j; c < k; ++c) ++holding[static_cast<size_t>(items[c].key)][static_cast<size_t>(b)];
        for (size_t a = i; a < j; ++a) {
          ++followed[static_cast<size_t>(items[a].key)][static_cast<size_t>(b)];
          for (size_t c = j; c < k; ++c)
            ++pair_counts[(static_cast<uint64_t>(items[a].key) * nk + static_cast<uint64_t>(items[c].key)) * kBucketCount +
                          static_cast<uint64_t>(b)];
        }
      }
    }
    i = j;
  }
  std::vector<ProductNext> out(nk);
  for (size_t k = 0; k < nk; ++k) {
    out[k].product = keys[k];
    out[k].name = names[k];
    out[k].purchases = purchases[k];
    out[k].followed = followed[k];
  }
  for (const auto& [code, n] : pair_counts) {
    size_t b = code % kBucketCount, pair = code / kBucketCount, from = pair / nk, to = pair % nk;
    NextRow r;
    r.next = keys[to];
    r.count = n;
    r.confidence = static_cast<double>(n) / static_cast<double>(followed[from][b]);
    double base = static_cast<double>(holding[to][b]) / static_cast<double>(all_followed[b]);
    r.lift = r.confidence / base;
    out[from].next[b].push_back(std::move(r));
  }
  for (auto& p : out)
    for (auto& rows : p.next) {
      sort_rows(rows);
      if (top_n > 0 && rows.size() > top_n) rows.resize(top_n);
    }
  out.erase(std::remove_if(out.begin(), out.end(), [](const ProductNext& p) { return p.purchases == 0; }), out.end());
  std::sort(out.begin(), out.end(), [](const ProductNext& a, const ProductNext& b) {
    return std::tie(b.purchases, a.product) < std::tie(a.purchases, b.product);
  });
  t.products = std::move(out);
  return t;
}

std::vector<std::string> recommend_next(const NextPurchaseTable& table, const std::vector<std::string>& last_skus,
                                        int days_elapsed, size_t n, const std::vector<std::string>& exclude) {
  int b = bucket_of(std::max(days_elapsed, 0));
  if (b < 0) b = kBucketCount - 1;
  auto score = [&](bool pooled) {
    std::map<std::string, std::pair<double, double>> s;  // next -> (summed confidence, summed lift)
    for (const auto& sku : last_skus) {
      const ProductNext* p = table.find(sku);
      if (!p) continue;
      if (!pooled) {
        for (const auto& r : p->next[static_cast<size_t>(b)]) {
          s[r.next].first += r.confidence;
          s[r.next].second += r.lift;
        }
        continue;
      }
      int64_t total = 0;
      for (auto f : p->followed) total += f;
      if (total == 0) continue;
      std::map<std::string, int64_t> counts;
      for (const auto& rows : p->next)
        for (const auto& r : rows) counts[r.next] += r.count;
      for (const auto& [next, c] : counts) s[next].first += static_cast<double>(c) / static_cast<double>(total);
    }
    return s;
  };
  auto s = score(false);
  if (s.empty()) s = score(true);
  std::vector<std::pair<std::string, std::pair<double, double>>> ranked;
  for (const auto& e : s)
    if (std::find(exclude.begin(), exclude.end(), e.first) == exclude.end()) ranked.push_back(e);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return std::tie(b.second.first, b.second.second, a.first) < std::tie(a.second.first, a.second.second, b.first);
  });
  std::vector<std::string> outv;
  for (size_t i = 0; i < ranked.size() && outv.size() < n; ++i) outv.push_back(ranked[i].first);
  return outv;
}

std::string next_purchase_text(const NextPurchaseTable& t, size_t top_n) {
  std::string out = fmt::format("Next purchases by {} up to {}: {} purchase -> next purchase pairs within {} days\n",
                                t.key == ProductKey::sku ? "SKU" : "category", format_date(t.as_of), t.transitions, kMaxGapDays);
  for (const auto& p : t.products) {
    int64_t followed = 0;
    for (auto f : p.followed) followed += f;
    out += fmt::format("\n{}{}: {} purchases, {} followed within {} days\n", p.product, p.name.empty() ? "" : " (" + p.name + ")",
                       p.purchases, followed, kMaxGapDays);
    for (int b = 0; b < kBucketCount; ++b) {
      const auto& rows = p.next[static_cast<size_t>(b)];
      if (rows.empty()) continue;
      out += fmt::format("  {:>6} days ({}):", bucket_name(b), p.followed[static_cast<size_t>(b)]);
      for (size_t i = 0; i < rows.size() && (top_n == 0 || i < top_n); ++i)
        out += fmt::format("{} {} {} ({:.0f}%, lift {:.2f})", i ? "," : "", rows[i].next, rows[i].count,
                           100 * rows[i].confidence, rows[i].lift);
      out += "\n";
    }
  }
  return out;
}

std::string next_purchase_jsonl(const NextPurchaseTable& t, size_t top_n) {
  std::string out;
  for (const auto& p : t.products)
    for (int b = 0; b < kBucketCount; ++b) {
      const auto& rows = p.next[static_cast<size_t>(b)];
      for (size_t i = 0; i < rows.size() && (top_n == 0 || i < top_n); ++i) {
        nlohmann::ordered_json j;
        j["product"] = p.product;
        j["days"] = bucket_name(b);
        j["followed"] = p.followed[static_cast<size_t>(b)];
        j["next"] = rows[i].next;
        j["count"] = rows[i].count;
        j["confidence"] = rows[i].confidence;
        j["lift"] = rows[i].lift;
        out += j.dump() + "\n";
      }
    }
  return out;
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}
}  // namespace

std::string next_purchase_csv(const NextPurchaseTable& t, size_t top_n) {
  std::string out = "product,days,followed,next,count,confidence,lift\n";
  for (const auto& p : t.products)
    for (int b = 0; b < kBucketCount; ++b) {
      const auto& rows = p.next[static_cast<size_t>(b)];
      for (size_t i = 0; i < rows.size() && (top_n == 0 || i < top_n); ++i)
        out += fmt::format("{},{},{},{},{},{:.6f},{:.6f}\n", csv_field(p.product), bucket_name(b), p.followed[static_cast<size_t>(b)],
                           csv_field(rows[i].next), rows[i].count, rows[i].confidence, rows[i].lift);
    }
  return out;
}

}  // namespace crm::model
