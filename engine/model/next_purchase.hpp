// "What buyers of a product bought next": for each product (or category), the products bought
// in the same customer's next purchase, split by the days elapsed, with confidence and lift;
// and the recommendation of the next SKUs for one customer (`crm analyze next-purchase`).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/lifetime/next_buckets.hpp"
#include "lang/date.hpp"

namespace crm::engine {
class SqlSession;
}

namespace crm::model {

// The buckets (kBucketCount, kBucketLast, kMaxGapDays, bucket_of) are in
// engine/lifetime/next_buckets.hpp.
std::string bucket_name(int bucket);  // "0-3"

enum class ProductKey { sku, category };

struct NextRow {
  std::string next;   // the SKU (or category) bought next
  int64_t count = 0;  // purchases of the product followed, in this bucket, by one holding `next`
  double confidence = 0;  // count / the product's next purchases in the bucket
  double lift = 0;        // confidence / the share of all next purchases in the bucket holding `next`
};

struct ProductNext {
  std::string product;
  std::string name;  // product name (sku) or empty
  int64_t purchases = 0;  // purchases holding the product
  std::array<int64_t, kBucketCount> followed{};  // of those, followed by a next purchase in each bucket
  std::array<std::vector<NextRow>, kBucketCount> next;  // best first (count, then lift, then name)
};

struct NextPurchaseTable {
  ProductKey key = ProductKey::sku;
  Days as_of = 0;
  int64_t transitions = 0;  // purchase -> next purchase pairs within kMaxGapDays
  std::vector<ProductNext> products;  // most purchases first
  const ProductNext* find(const std::string& product) const;
};

// Reads paid orders with their items up to `as_of` (default: all) in the store's time zone; a
// customer's orders of one day are one purchase. Keeps all next products (top_n = 0) or the
// best top_n per product and bucket.
NextPurchaseTable next_purchase_table(engine::SqlSession& db, ProductKey key, std::optional<Days> as_of, size_t top_n = 0);

// The n best next SKUs for a customer whose last purchase held `last_skus`, `days_elapsed` days
// ago: the products' next rows in the bucket of days_elapsed (the last bucket beyond it),
// scored by summed confidence (ties: lift, then SKU), leaving out `exclude`. When the bucket has
// nothing for these products, all buckets' counts are pooled. A table built with key = sku.
std::vector<std::string> recommend_next(const NextPurchaseTable& table, const std::vector<std::string>& last_skus,
                                        int days_elapsed, size_t n, const std::vector<std::string>& exclude = {});

// Outputs of `crm analyze next-purchase`.
std::string next_purchase_text(const NextPurchaseTable& t, size_t top_n);
std::string next_purchase_jsonl(const NextPurchaseTable& t, size_t top_n);
std::string next_purchase_csv(const NextPurchaseTable& t, size_t top_n);

}  // namespace crm::model
