// Unit tests of schema version 6's outbox without outbox_by_run_date: the loader's outbox is in
// (run_date, id) order whether the rows' ids follow their dates or not (a day run after a later
// one), and a day's tag changes written in batches apply in their order, as one by one.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

std::vector<int64_t> outbox_ids(const Facts& f) {
  std::vector<int64_t> ids;
  for (const auto& e : f.outbox) ids.push_back(e.id);
  return ids;
}

SqliteStore store_with(const std::string& path, const std::string& outbox_values) {
  SqliteStore s = SqliteStore::open(path, true);
  s.db().exec("INSERT INTO customers (id) VALUES (1), (2);"
              "INSERT INTO outbox (id, run_date, customer_id, rule, action, target, idem_key) VALUES " +
              outbox_values);
  return s;
}

std::set<std::pair<int64_t, std::string>> tags_of(SqliteStore& s) {
  std::set<std::pair<int64_t, std::string>> out;
  SQLite::Statement q(s.db(), "SELECT customer_id, tag FROM tags");
  while (q.executeStep()) out.emplace(q.getColumn(0).getInt64(), q.getColumn(1).getString());
  return out;
}

}  // namespace

TEST_CASE("outbox order: version 6 has no outbox_by_run_date") {
  test::TempDir dir("outbox_order");
  SqliteStore s = SqliteStore::open(dir.file("a.db"), true);
  SQLite::Statement q(s.db(), "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' AND name = ?");
  q.bind(1, "outbox_by_run_date");
  REQUIRE(q.executeStep());
  CHECK(q.getColumn(0).getInt() == 0);
}

TEST_CASE("outbox order: rows in date order are read as they are") {
  test::TempDir dir("outbox_order");
  SqliteStore s = store_with(dir.file("in_order.db"),
                             "(1, '2026-11-20', 1, 'r', 'send', 'm', 'r|1|a|0'), (2, '2026-11-20', 2, 'r', 'send', 'm', 'r|2|a|0'),"
                             "(5, '2026-11-21', 1, 'r', 'send', 'm', 'r|1|b|0'), (9, '2026-11-22', 2, 'r', 'send', 'm', 'r|2|c|0')");
  auto res = s.load_facts("UTC");
  CHECK(res.warnings.empty());
  CHECK(outbox_ids(res.facts) == std::vector<int64_t>{1, 2, 5, 9});
  CHECK(res.facts.outbox[3].run_date == day("2026-11-22"));
}

TEST_CASE("outbox order: a day run after a later one still loads in (run_date, id) order") {
  test::TempDir dir("outbox_order");
  // Ids 1-2 on the 22nd, then the 20th backfilled (ids 3-4), then the 21st (5), then the 20th again (6).
  SqliteStore s = store_with(dir.file("backfill.db"),
                             "(1, '2026-11-22', 1, 'r', 'send', 'm', 'r|1|c|0'), (2, '2026-11-22', 2, 'r', 'send', 'm', 'r|2|c|0'),"
                             "(3, '2026-11-20', 2, 'r', 'send', 'm', 'r|2|a|0'), (4, '2026-11-20', 1, 'r', 'send', 'm', 'r|1|a|0'),"
                             "(5, '2026-11-21', 1, 'r', 'send', 'm', 'r|1|b|0'), (6, '2026-11-20', 1, 'q', 'send', 'm', 'q|1|a|0')");
  auto res = s.load_facts("UTC");
  CHECK(res.warnings.empty());
  CHECK(outbox_ids(res.facts) == std::vector<int64_t>{3, 4, 6, 5, 1, 2});
  CHECK(res.facts.outbox[0].run_date == day("2026-11-20"));
  CHECK(res.facts.outbox[5].run_date == day("2026-11-22"));
}

TEST_CASE("outbox order: a run_date that is not text sorts as SQL does, its warning given once") {
  test::TempDir dir("outbox_order");
  SqliteStore s = store_with(dir.file("odd.db"),
                             "(1, '2026-11-20', 1, 'r', 'send', 'm', 'r|1|a|0'), (2, '2026-11-21', 1, 'r', 'send', 'm', 'r|1|b|0'),"
                             "(3, NULL, 2, 'r', 'send', 'm', 'r|2|x|0'), (4, '2026-11-21', 2, 'r', 'send', 'm', 'r|2|b|0'),"
                             "(7, 'soon', 2, 'r', 'send', 'm', 'r|2|y|0')");
  auto res = s.load_facts("UTC");
  REQUIRE(res.warnings.size() == 2);  // NULL first (as ORDER BY run_date puts it), then 'soon'
  CHECK(res.warnings[0].find("outbox id 3: malformed run_date") != std::string::npos);
  CHECK(res.warnings[1].find("outbox id 7: malformed run_date 'soon'") != std::string::npos);
  CHECK(outbox_ids(res.facts) == std::vector<int64_t>{1, 2, 4});
}

TEST_CASE("outbox order: a day's tag changes in batches apply in their order") {
  test::TempDir dir("outbox_order");
  SqliteStore s = SqliteStore::open(dir.file("tags.db"), true);
  s.db().exec("INSERT INTO tags VALUES (7, 'old', '2026-01-01')");
  std::vector<TagChange> tags;
  std::set<std::pair<int64_t, std::string>> want = {{7, "old"}};
  // 250 sets (over two full batches of 100), with repeats inside a batch; then an untag of a
  // tag just set, a set again, a run of sets shorter than a batch and the untag of an old tag.
  for (int64_t c = 1; c <= 250; ++c) {
    std::string tag = c % 3 ? "vip" : "loyal";
    tags.push_back({c % 200, tag, true});
    want.emplace(c % 200, tag);
  }
  tags.push_back({5, "vip", false});
  want.erase({5, "vip"});
  tags.push_back({6, "vip", false});
  tags.push_back({6, "vip", true});
  tags.push_back({8, "new", true});
  tags.push_back({8, "new", true});
  tags.push_back({7, "old", false});
  want.erase({7, "old"});
  want.emplace(8, "new");
  s.set_tags(day("2026-11-23"), tags);
  CHECK(tags_of(s) == want);
  SQLite::Statement q(s.db(), "SELECT count(*), count(DISTINCT set_at), min(set_at) FROM tags");
  REQUIRE(q.executeStep());
  CHECK(q.getColumn(0).getInt() == static_cast<int>(want.size()));  // no duplicate rows
  CHECK(q.getColumn(1).getInt() == 1);
  CHECK(q.getColumn(2).getString() == "2026-11-23");
}
