// Unit tests of the loader's parts rewritten for speed (issue 17): the string pool (blocks and an
// open-addressing index), the time order of orders (keys sorted per day), and BackgroundTask.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/store/load_scans.hpp"
#include "engine/store/string_pool.hpp"

using namespace crm;
using namespace crm::engine;
using namespace crm::engine::loading;

TEST_CASE("string pool: ids in first-intern order, found again after growth, long and empty texts") {
  StringPool pool;
  std::vector<std::string> texts;
  for (int k = 0; k < 50'000; ++k) texts.push_back("customer" + std::to_string(k) + "@example.com");
  texts.push_back("");
  texts.push_back(std::string(300'000, 'x'));  // longer than a block
  for (size_t k = 0; k < texts.size(); ++k) CHECK(pool.intern(texts[k]) == static_cast<int64_t>(k));
  CHECK(pool.size() == texts.size());
  for (size_t k = 0; k < texts.size(); k += 997) {
    CHECK(pool.intern(texts[k]) == static_cast<int64_t>(k));  // again: the same id
    CHECK(pool.find(texts[k]) == static_cast<int64_t>(k));
    CHECK(pool.get(static_cast<int64_t>(k)) == texts[k]);
  }
  CHECK(pool.get(50'001) == texts[50'001]);
  CHECK(pool.find("nobody@example.com") == -1);
  CHECK(StringPool().find("") == -1);
  StringPool reserved;
  reserved.reserve(1000);
  CHECK(reserved.intern("a") == 0);
  CHECK(reserved.intern("b") == 1);
  CHECK(reserved.find("a") == 0);
}

TEST_CASE("time order: by day, then local time, then id, then position") {
  // 20,000 orders over 30 days, many sharing a time; a few sharing time and id.
  std::vector<Days> day;
  std::vector<int64_t> secs, id;
  for (int k = 0; k < 20'000; ++k) {
    Days d = 20'000 + (k * 7919) % 30;
    day.push_back(d);
    secs.push_back(int64_t{d} * 86'400 + (k * 104'729) % 50);
    id.push_back(k % 1000 == 0 ? 5 : (k * 31) % 20'000);
  }
  std::vector<uint32_t> want(day.size());
  std::iota(want.begin(), want.end(), 0u);
  std::stable_sort(want.begin(), want.end(), [&](uint32_t a, uint32_t b) {
    if (day[a] != day[b]) return day[a] < day[b];
    if (secs[a] != secs[b]) return secs[a] < secs[b];
    return id[a] < id[b];
  });
  CHECK(time_order(day, secs, id) == want);
}

TEST_CASE("background task: runs the work, threaded or not, and rethrows what it threw") {
  for (bool threaded : {false, true}) {
    int done = 0;
    BackgroundTask ok(threaded, [&] { done = 1; });
    ok.finish();
    CHECK(done == 1);
    BackgroundTask bad(true, [] { throw std::runtime_error("no"); });
    CHECK_THROWS_AS(bad.finish(), std::runtime_error);
  }
  CHECK_THROWS_AS(BackgroundTask(false, [] { throw std::runtime_error("now"); }), std::runtime_error);
}
