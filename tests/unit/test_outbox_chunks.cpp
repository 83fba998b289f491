// Unit tests of the chunked outbox write (Store::write_actions with OutboxRows): a day handed to
// the store in chunks writes exactly what it writes in one piece (same ids, same keys, duplicates
// inside the day dropped across chunk boundaries), and a run's ActionOutboxRows makes the rows
// and tag changes of outbox_writes.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "engine/run/outbox.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("outbox_chunks") {}
};

Days day(const char* s) { return *parse_date(s); }

// A vector handed out in chunks of what the store asks for, counting them.
class ChunkedRows final : public OutboxRows {
 public:
  explicit ChunkedRows(const std::vector<OutboxRow>& rows) : rows_(rows) {}
  size_t count() const override { return rows_.size(); }
  const std::vector<OutboxRow>* next(size_t max) override {
    if (at_ >= rows_.size()) return nullptr;
    largest_ask = std::max(largest_ask, max);
    size_t n = std::min(max, rows_.size() - at_);
    chunk_.assign(rows_.begin() + static_cast<std::ptrdiff_t>(at_), rows_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    ++chunks;
    return &chunk_;
  }
  int chunks = 0;
  size_t largest_ask = 0;

 private:
  const std::vector<OutboxRow>& rows_;
  std::vector<OutboxRow> chunk_;
  size_t at_ = 0;
};

// (id, customer, idem_key, payload) of every outbox row, by id.
std::vector<std::tuple<int64_t, int64_t, std::string, std::string>> outbox(SqliteStore& s) {
  std::vector<std::tuple<int64_t, int64_t, std::string, std::string>> out;
  SQLite::Statement q(s.db(), "SELECT id, customer_id, idem_key, payload FROM outbox ORDER BY id");
  while (q.executeStep())
    out.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getString(),
                     q.getColumn(3).getString());
  return out;
}

}  // namespace

TEST_CASE("outbox chunks: a day written in chunks is the day written at once") {
  // 70,050 rows: more than two chunks; every 7th row repeats the key of a row 40,000 earlier
  // (another chunk), which must be dropped as a duplicate within the day.
  std::vector<OutboxRow> rows;
  for (int k = 0; k < 70'050; ++k) {
    int c = k % 7 == 6 && k >= 40'000 ? k - 40'000 : k;
    rows.push_back({c, "r", "send", "m", std::string("email"), "{\"n\":" + std::to_string(k) + "}",
                    "r|" + std::to_string(c) + "|"});
  }
  TempDir dir;
  SqliteStore whole = SqliteStore::open(dir.file("whole.db"), true);
  SqliteStore parts = SqliteStore::open(dir.file("parts.db"), true);
  size_t n_whole = whole.write_actions(day("2026-11-24"), rows, {}, true);
  ChunkedRows source(rows);
  size_t n_parts = parts.write_actions(day("2026-11-24"), source, {}, true);
  CHECK(source.chunks >= 3);
  CHECK(source.largest_ask < rows.size());
  CHECK(n_whole == n_parts);
  CHECK(n_parts < rows.size());  // the repeats were dropped
  CHECK(outbox(whole) == outbox(parts));
  CHECK(parts.last_completed_run() == day("2026-11-24"));
  ChunkedRows again(rows);  // the same day again: nothing new
  CHECK(parts.write_actions(day("2026-11-24"), again, {}, true) == 0);
  CHECK(outbox(whole) == outbox(parts));
}

TEST_CASE("outbox chunks: ActionOutboxRows makes outbox_writes' rows and tags, chunk by chunk") {
  std::vector<ActionOut> actions;
  for (int k = 0; k < 1000; ++k) {
    ActionOut a;
    a.customer = k;
    a.rule_name = "welcome";
    a.kind = k % 5 == 0 ? lang::ActionKind::Tag : lang::ActionKind::Send;
    a.target = k % 5 == 0 ? "vip" : "hello";
    if (a.kind == lang::ActionKind::Send) a.channel = lang::Channel::Email;
    a.status = k % 3 == 0 ? Status::BlockedConsent : Status::Sent;
    a.dedupe = "once";
    actions.push_back(a);
  }
  std::vector<OutboxRow> rows;
  std::vector<TagChange> tags;
  outbox_writes(actions, rows, tags);
  ActionOutboxRows chunked(actions);
  CHECK(chunked.count() == rows.size());
  CHECK(chunked.tags().size() == tags.size());
  for (size_t k = 0; k < tags.size(); ++k) {
    CHECK(chunked.tags()[k].customer_id == tags[k].customer_id);
    CHECK(chunked.tags()[k].tag == tags[k].tag);
    CHECK(chunked.tags()[k].set == tags[k].set);
  }
  std::vector<OutboxRow> got;
  int chunks = 0;
  while (const std::vector<OutboxRow>* c = chunked.next(100)) {
    CHECK(c->size() <= 100);
    got.insert(got.end(), c->begin(), c->end());
    ++chunks;
  }
  CHECK(chunks == 7);  // 666 rows
  REQUIRE(got.size() == rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    CHECK(got[k].customer_id == rows[k].customer_id);
    CHECK(got[k].idem_key == rows[k].idem_key);
    CHECK(got[k].payload == rows[k].payload);
    CHECK(got[k].channel == rows[k].channel);
  }
}
