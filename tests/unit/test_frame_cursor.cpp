// FrameCursor (incremental attributes) against compute_frame: over a generated sample shop,
// every column, every row, every day of a range (crossing birthdays, month ends, orders,
// subscriptions starting and cancelling), with tag changes made along the way, must equal the
// frame computed from scratch with those tag changes applied.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "engine/frame/attributes.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/import/sample_shop.hpp"
#include "lang/builtins.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

// compute_frame, then the overlay rows' tags: stored tags as of d, then the changes in order.
Frame expected(const Facts& f, Days d, const std::vector<std::string>& cols, const TagOverlay& overlay) {
  Frame fr = compute_frame(f, d, cols);
  auto it = fr.columns.find("tags");
  if (it == fr.columns.end()) return fr;
  Column& tags = it->second;
  std::vector<uint32_t> off{0};
  std::vector<int64_t> vals;
  for (size_t r = 0; r < fr.rows; ++r) {
    std::vector<int64_t> row(tags.list_values.begin() + tags.list_offsets[r], tags.list_values.begin() + tags.list_offsets[r + 1]);
    if (overlay.has(r)) {
      std::vector<TagOverlay::Change> changes;
      overlay.changes(r, changes);
      for (auto [tag, on] : changes) {
        auto pos = std::find(row.begin(), row.end(), tag);
        if (on && pos == row.end()) row.push_back(tag);
        if (!on && pos != row.end()) row.erase(pos);
      }
      std::sort(row.begin(), row.end());
    }
    vals.insert(vals.end(), row.begin(), row.end());
    off.push_back(static_cast<uint32_t>(vals.size()));
  }
  tags.list_offsets = off;
  tags.list_values = vals;
  return fr;
}

void check_equal(const Frame& want, const Frame& got, Days d) {
  REQUIRE(want.rows == got.rows);
  CHECK(got.today == d);
  REQUIRE(want.columns.size() == got.columns.size());
  for (const auto& [name, w] : want.columns) {
    const Column* g = got.column(name);
    REQUIRE_MESSAGE(g != nullptr, name);
    for (size_t r = 0; r < want.rows; ++r) {
      INFO("column ", name, ", row ", r, ", day ", format_date(d));
      REQUIRE(w.valid[r] == g->valid[r]);
      if (!w.valid[r]) continue;
      if (!w.list_offsets.empty()) {
        std::vector<int64_t> a(w.list_values.begin() + w.list_offsets[r], w.list_values.begin() + w.list_offsets[r + 1]);
        std::vector<int64_t> b(g->list_values.begin() + g->list_offsets[r], g->list_values.begin() + g->list_offsets[r + 1]);
        REQUIRE(a == b);
      } else if (!w.f64.empty()) {
        REQUIRE(w.f64[r] == g->f64[r]);
      } else {
        REQUIRE(w.i64[r] == g->i64[r]);
      }
    }
  }
}

}  // namespace

TEST_CASE("FrameCursor: incremental days equal compute_frame with the tag overlay") {
  auto path = std::filesystem::temp_directory_path() / ("crm_test_cursor_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  examples::ShopOptions opt;
  opt.customers = 400;
  opt.seed = 11;
  opt.orders_per_customer = 6;
  examples::generate_shop(path.string(), opt);
  Facts facts;
  {
    SqliteStore s = SqliteStore::open(path.string());
    facts = s.load_facts("Asia/Tokyo").facts;
  }
  std::filesystem::remove(path);
  REQUIRE(facts.rows() == 400);
  const Days from = opt.as_of - 420, to = opt.as_of + 5;  // past the last fact too
  // Subscriptions started on a month's 29th-31st (or its last day), through the range: their
  // whole months move on the last day of a shorter month, and on their own day of the others.
  size_t moved = 0;
  for (size_t r = 0; r < facts.rows() && moved < 60; ++r) {
    const uint32_t s = facts.sub_offsets[r];
    if (facts.sub_offsets[r + 1] - s != 1) continue;
    const Ymd m = civil_from_days(from + static_cast<Days>(moved % 12) * 30);
    const unsigned day = std::min(29 + static_cast<unsigned>(moved % 3), days_in_month(m.y, m.m));
    facts.sub_start[s] = days_from_civil(m.y, m.m, day);
    facts.sub_cancelled[s] = moved % 2 ? facts.sub_start[s] + 200 : kNoDay;
    ++moved;
  }
  REQUIRE(moved == 60);

  // Every attribute of lang/builtins.def the store provides (compute_frame with no names).
  std::vector<std::string> cols;
  for (const auto& [name, c] : compute_frame(facts, opt.as_of, {}).columns) cols.push_back(name);
  // And time windows, which move with the date (an order leaves them DAYS days later).
  for (const char* w : {"purchases_in(1)", "purchases_in(30)", "spent_in(7)", "spent_in(90)"}) cols.push_back(w);
  std::sort(cols.begin(), cols.end());
  REQUIRE(std::count(cols.begin(), cols.end(), "tags") == 1);
  REQUIRE(std::count(cols.begin(), cols.end(), "categories") == 1);

  FrameCursor cursor(facts, cols);
  TagOverlay overlay;
  std::vector<uint32_t> dirty;
  const int64_t vip = facts.strings->intern("vip"), test_tag = facts.strings->intern("cursor_test");
  size_t incremental = 0;
  for (Days d = from; d <= to; d += (d % 7 == 3 ? 3 : 1)) {  // some multi-day jumps
    Frame& got = cursor.advance(d, overlay, dirty);
    dirty.clear();
    incremental += cursor.last_incremental();
    check_equal(expected(facts, d, cols, overlay), got, d);
    // Tag changes as a run would make them: settled after the day, seen from the next one.
    for (uint32_t r = static_cast<uint32_t>(d % 13); r < facts.rows(); r += 37) {
      overlay.add(r, (d + r) % 3 == 0 ? vip : test_tag, (d + r) % 2 == 0);
      dirty.push_back(r);
    }
  }
  CHECK(incremental > 300);
  // Going back recomputes from scratch.
  Frame& back = cursor.advance(from + 10, overlay, dirty);
  CHECK_FALSE(cursor.last_incremental());
  check_equal(expected(facts, from + 10, cols, overlay), back, from + 10);
}

TEST_CASE("FrameCursor: restart on refilled facts recomputes into the same columns") {
  // The embedding API's use: one cursor over facts whose contents are replaced between calls.
  auto make = [](int customers, uint64_t seed) {
    auto path = std::filesystem::temp_directory_path() /
                ("crm_test_cursor_restart_" + std::to_string(::getpid()) + "_" + std::to_string(seed) + ".db");
    std::filesystem::remove(path);
    examples::ShopOptions opt;
    opt.customers = customers;
    opt.seed = seed;
    opt.orders_per_customer = 5;
    examples::generate_shop(path.string(), opt);
    Facts f;
    {
      SqliteStore s = SqliteStore::open(path.string());
      f = s.load_facts("Asia/Tokyo").facts;
    }
    std::filesystem::remove(path);
    return std::make_pair(std::move(f), opt.as_of);
  };
  auto [a, as_of] = make(120, 21);
  auto b = make(40, 22).first;
  std::vector<std::string> cols;
  for (const auto& [name, c] : compute_frame(a, as_of, {}).columns) cols.push_back(name);

  Facts work = a;
  FrameCursor cursor(work, cols);
  TagOverlay overlay;
  std::vector<uint32_t> dirty;
  check_equal(expected(work, as_of, cols, overlay), cursor.advance(as_of, overlay, dirty), as_of);
  cursor.advance(as_of + 3, overlay, dirty);  // indexes a's side facts
  const uint64_t layout = cursor.layout();
  const Column* tags = cursor.advance(as_of + 4, overlay, dirty).column("tags");
  const Facts* sources[] = {&b, &a, &b};
  const Days days[] = {as_of - 200, as_of - 30, as_of + 1};
  for (int k = 0; k < 3; ++k) {
    work = *sources[k];
    cursor.restart();
    Frame& got = cursor.advance(days[k], overlay, dirty);
    CHECK_FALSE(cursor.last_incremental());
    check_equal(expected(work, days[k], cols, overlay), got, days[k]);
    CHECK(cursor.layout() == layout);       // the same columns, refilled
    CHECK(got.column("tags") == tags);      // the same Column objects (an Evaluator stays bound)
    Frame& next = cursor.advance(days[k] + 9, overlay, dirty);  // side facts indexed anew
    CHECK(cursor.last_incremental());
    check_equal(expected(work, days[k] + 9, cols, overlay), next, days[k] + 9);
  }
}
