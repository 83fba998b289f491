// crm analyze next-purchase --db STORE [--by sku|category] [--as-of D] [--format text|jsonl|csv]
// [--top N]: what buyers of each product bought next, by days elapsed (engine/model/next_purchase).
#include <fmt/core.h>

#include <charconv>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/model/next_purchase.hpp"
#include "engine/store/sqlite_store.hpp"
#include "lang/terminal_safe.hpp"

namespace crm::cli {

int cmd_analyze(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm analyze next-purchase --db STORE [--by sku|category] [--as-of DATE]\n"
      "                                 [--format text|jsonl|csv] [--top N]\n\n"
      "For each product (or category), what the same customer bought in their next purchase,\n"
      "split by the days elapsed (0-3, 4-7, 8-14, 15-30, 31-60, 61-180; later ones are not\n"
      "counted). A customer's paid orders of one day are one purchase. For each next product:\n"
      "count, confidence (its share of the product's next purchases in that bucket) and lift\n"
      "(confidence over the share of all next purchases in the bucket that hold it).\n\n"
      "Options:\n"
      "  --db STORE                the store\n"
      "  --by sku|category         group products by SKU (default) or by category\n"
      "  --as-of DATE              only orders on or before DATE (default: all)\n"
      "  --format text|jsonl|csv   text (default), one JSON object per row, or CSV\n"
      "  --top N                   the N most frequent next products per product and bucket\n"
      "                            (default 5; 0 = all)\n"
      "  --help                    show this help\n\n"
      "Exit codes: 0 ok, 1 store error, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db", "--by", "--as-of", "--format", "--top"}}, error);
  if (!args) return usage_error("analyze", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("analyze", "expected an analysis: next-purchase");
  if (args->positional[0] != "next-purchase")
    return usage_error("analyze", "unknown analysis '" + args->positional[0] + "' (known: next-purchase)");
  if (args->positional.size() > 1) return usage_error("analyze", "unexpected argument '" + args->positional[1] + "'");
  auto db = args->option("--db");
  if (!db) return usage_error("analyze", "--db STORE is required");
  std::string by = args->option("--by").value_or("sku");
  if (by != "sku" && by != "category") return usage_error("analyze", "--by expects sku or category, not '" + by + "'");
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl" && format != "csv")
    return usage_error("analyze", "--format expects text, jsonl or csv, not '" + format + "'");
  size_t top = 5;
  if (auto n = args->option("--top")) {
    auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), top);
    if (ec != std::errc() || end != n->data() + n->size() || top > 1'000'000)
      return usage_error("analyze", "--top expects a whole number from 0 to 1000000, not '" + *n + "'");
  }
  std::optional<Days> as_of;
  if (!date_option(*args, "--as-of", as_of, error)) return usage_error("analyze", error);
  auto store = engine::open_store_read_only(*db);
  auto table = model::next_purchase_table(store->sql(), by == "sku" ? model::ProductKey::sku : model::ProductKey::category, as_of, top);
  if (format == "jsonl") fmt::print("{}", model::next_purchase_jsonl(table, top));
  else if (format == "csv") fmt::print("{}", model::next_purchase_csv(table, top));
  else fmt::print("{}", lang::terminal_safe(model::next_purchase_text(table, top)));  // SKUs and names are shop data
  return kExitOk;
}

}  // namespace crm::cli
