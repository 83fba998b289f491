// History::clear_records: after it, the history answers as a new one (dense and sparse ids,
// sends), keeps the interned keys, and stays correct past the tracked-entries limit.
#include <doctest/doctest.h>

#include "engine/run/history.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

// Whether `h` has no record of any (rule < rules, customer in ids).
bool empty_for(const History& h, uint32_t rules, const std::vector<int64_t>& ids, Days d) {
  for (uint32_t r = 0; r < rules; ++r)
    for (int64_t id : ids)
      if (h.fired_ever(r, id) || h.last_fired(r, id, d) || h.sends_in_window(id, d, 1000, std::nullopt, std::nullopt) != 0)
        return false;
  return true;
}

}  // namespace

TEST_CASE("History::clear_records forgets fires and sends, keeps keys") {
  History h(1024);  // ids below 1024 dense, others sparse
  const std::vector<int64_t> ids = {0, 5, 1023, 1024, 50'000, -3};
  const uint32_t once = h.intern_key("once"), k2 = h.intern_key("2026-11-24");
  for (int round = 0; round < 3; ++round) {
    for (uint32_t r = 0; r < 4; ++r)
      for (int64_t id : ids) {
        h.record_fire(r, id, 100 + round, r % 2 ? once : k2);
        h.record_send(id, 100 + round, lang::Channel::Email, r);
      }
    CHECK(h.fire_count() == 4 * ids.size());
    CHECK(h.fired_with_key(1, 5, once));
    CHECK(h.last_fired(2, 50'000, 200) == 100 + round);
    CHECK(h.sends_in_window(1024, 100 + round, 1, lang::Channel::Email, std::nullopt) == 4);
    h.clear_records();
    CHECK(h.fire_count() == 0);
    CHECK(empty_for(h, 4, ids, 200));
    CHECK(h.intern_key("once") == once);  // keys keep their ids
    CHECK(h.key_text(k2) == "2026-11-24");
  }
}

TEST_CASE("History::clear_records past the tracked limit resets every dense entry") {
  History h(100'000);
  std::vector<int64_t> ids;
  for (int64_t id = 0; id < 6000; ++id) ids.push_back(id);  // more than the entries it tracks
  const uint32_t key = h.intern_key("once");
  for (int64_t id : ids) {
    h.record_fire(0, id, 10, key);
    h.record_send(id, 10, lang::Channel::Sms, 0);
  }
  h.clear_records();
  CHECK(empty_for(h, 1, ids, 20));
  h.record_fire(0, 7, 11, key);  // and it records again as usual
  CHECK(h.fired_ever(0, 7));
  CHECK_FALSE(h.fired_ever(0, 8));
  CHECK(h.last_fired(0, 7, 20) == 11);
}
