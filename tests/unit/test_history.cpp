// History::clear_records: after it, the history answers as a new one (dense and sparse ids,
// sends), keeps the interned keys, and stays correct past the tracked-entries limit.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

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

TEST_CASE("History answers as a plain list of records (fires in and out of day order, dense and sparse)") {
  // A reference: every record kept; the questions answered by scanning them.
  struct Fire {
    uint32_t rule;
    int64_t customer;
    Days day;
    uint32_t key;
  };
  struct SendRec {
    int64_t customer;
    Days day;
    lang::Channel channel;
    uint32_t campaign;
  };
  std::vector<Fire> fires;
  std::vector<SendRec> sends;
  History h(64);  // ids below 64 dense, others sparse
  std::vector<uint32_t> keys;
  for (const char* k : {"k0", "k1", "k2", "k3", "k4"}) keys.push_back(h.intern_key(k));
  const std::vector<int64_t> ids = {0, 3, 63, 64, 1000, -7};
  uint64_t seed = 12345;
  auto next = [&](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  for (int step = 0; step < 3000; ++step) {
    auto rule = static_cast<uint32_t>(next(3));
    int64_t customer = ids[next(ids.size())];
    // Mostly ascending days, sometimes an earlier one (an outbox loaded out of order).
    Days day = static_cast<Days>(step / 10 + (next(10) == 0 ? -static_cast<Days>(next(50)) : 0));
    uint32_t key = keys[next(keys.size())];
    if (next(2)) {
      h.record_fire(rule, customer, day, key);
      fires.push_back({rule, customer, day, key});
    } else {
      auto ch = static_cast<lang::Channel>(next(2));
      auto campaign = static_cast<uint32_t>(next(2));
      h.record_send(customer, day, ch, campaign);
      sends.push_back({customer, day, ch, campaign});
    }
    if (step % 97 != 0) continue;
    for (uint32_t r = 0; r < 3; ++r)
      for (int64_t c : ids) {
        bool ever = false;
        for (const auto& f : fires) ever = ever || (f.rule == r && f.customer == c);
        CHECK(h.fired_ever(r, c) == ever);
        for (uint32_t k : keys) {
          bool with = false;
          for (const auto& f : fires) with = with || (f.rule == r && f.customer == c && f.key == k);
          CHECK(h.fired_with_key(r, c, k) == with);
        }
        for (Days q : {Days(step / 10 - 30), Days(step / 10), Days(step / 10 + 5)}) {
          std::optional<Days> last;
          for (const auto& f : fires)
            if (f.rule == r && f.customer == c && f.day <= q && (!last || f.day > *last)) last = f.day;
          CHECK(h.last_fired(r, c, q) == last);
        }
      }
    for (int64_t c : ids)
      for (int64_t window : {1, 7, 400}) {
        Days q = static_cast<Days>(step / 10);
        int all = 0, email = 0, camp1 = 0;
        for (const auto& s : sends)
          if (s.customer == c && s.day <= q && s.day > q - window) {
            ++all;
            email += s.channel == static_cast<lang::Channel>(0);
            camp1 += s.campaign == 1;
          }
        CHECK(h.sends_in_window(c, q, window, std::nullopt, std::nullopt) == all);
        CHECK(h.sends_in_window(c, q, window, static_cast<lang::Channel>(0), std::nullopt) == email);
        CHECK(h.sends_in_window(c, q, window, std::nullopt, 1u) == camp1);
      }
  }
  CHECK(h.fire_count() == fires.size());
}

TEST_CASE("History with a store-sized dense range: fires and sends across and beyond it") {
  History h(History::dense_limit_for(200000));  // dense arrays of 200,001 entries to start (mapped pages)
  const std::vector<int64_t> ids = {0, 1, 4095, 150000, 199999, 200001, 500000, 3199999};  // the last two grow the arrays
  for (int64_t id : ids) {
    h.record_fire(3, id, 100, h.intern_key("once"));
    h.record_send(id, 100, lang::Channel::Email, 0);
  }
  h.record_fire(3, 150000, 110, h.intern_key("2026-01-01"));
  for (int64_t id : ids) {
    CHECK(h.fired_ever(3, id));
    CHECK_FALSE(h.fired_ever(2, id));
    CHECK(h.fired_with_key(3, id, std::string("once")));
    CHECK(h.last_fired(3, id, 105) == Days{100});
    CHECK(h.sends_in_window(id, 100, 7, std::nullopt, std::nullopt) == 1);
  }
  CHECK(h.last_fired(3, 150000, 120) == Days{110});
  CHECK_FALSE(h.fired_ever(3, 2));
  CHECK_FALSE(h.fired_ever(3, 199998));
  CHECK(h.sends_in_window(2, 100, 7, std::nullopt, std::nullopt) == 0);
  h.clear_records();
  CHECK(empty_for(h, 4, ids, 120));
}

TEST_CASE("History recorded from threads (begin/end_concurrent) answers as one recorded serially") {
  // Three threads, each its own range of customers, over days that alternate with serial days;
  // some customers fire again (chains through both kinds of node) and get sends out of day order.
  const int64_t customers = 300'000;  // mapped arrays, several 2 MiB blocks
  History serial(History::dense_limit_for(customers)), threaded(History::dense_limit_for(customers));
  std::vector<uint32_t> keys;
  for (const char* k : {"once", "a", "b", "2026-01-01"}) {
    keys.push_back(serial.intern_key(k));
    CHECK(threaded.intern_key(k) == keys.back());
  }
  auto fires_of = [&](int64_t id, Days d) { return (id * 7 + d) % 5 == 0 || id % 9973 == 0; };
  auto record_day = [&](History& h, Days d, int64_t lo, int64_t hi, size_t thread) {
    for (int64_t id = lo; id < hi; ++id) {
      if (!fires_of(id, d)) continue;
      const uint32_t rule = static_cast<uint32_t>(id % 3), key = keys[static_cast<size_t>(id + d) % keys.size()];
      // Now and then a send dated before the latest, only on the threaded days (so only their
      // recording can tell the history its sends are out of order).
      const Days when = d % 3 != 2 && (id + d) % 4 == 0 ? d - 3 : d;
      if (thread == SIZE_MAX) {
        h.record_fire(rule, id, d, key);
        h.record_send(id, when, static_cast<lang::Channel>(id % 3), static_cast<uint32_t>(id % 2));
      } else {
        h.record_fire(rule, id, d, key, thread);
        h.record_send(id, when, static_cast<lang::Channel>(id % 3), static_cast<uint32_t>(id % 2), thread);
      }
    }
  };
  const int64_t cut[] = {0, 90'000, 200'000, customers};
  for (Days d = 100; d < 106; ++d) {
    record_day(serial, d, 0, customers, SIZE_MAX);
    if (d % 3 == 2) {
      record_day(threaded, d, 0, customers, SIZE_MAX);
      continue;
    }
    REQUIRE(threaded.begin_concurrent(3, 3, 0, customers - 1));
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 3; ++t) threads.emplace_back([&, t] { record_day(threaded, d, cut[t], cut[t + 1], t); });
    for (auto& t : threads) t.join();
    threaded.end_concurrent();
  }
  CHECK(threaded.fire_count() == serial.fire_count());
  size_t mismatches = 0;
  for (int64_t id = 0; id < customers; id += 1 + id % 7) {
    for (uint32_t r = 0; r < 3; ++r) {
      mismatches += threaded.fired_ever(r, id) != serial.fired_ever(r, id);
      mismatches += threaded.last_fired(r, id, 103) != serial.last_fired(r, id, 103);
      for (uint32_t k : keys) mismatches += threaded.fired_with_key(r, id, k) != serial.fired_with_key(r, id, k);
    }
    for (int64_t window : {1, 3, 30})
      mismatches += threaded.sends_in_window(id, 104, window, std::nullopt, std::nullopt) !=
                    serial.sends_in_window(id, 104, window, std::nullopt, std::nullopt);
    mismatches += threaded.sends_in_window(id, 105, 30, lang::Channel::Email, 1u) != serial.sends_in_window(id, 105, 30, lang::Channel::Email, 1u);
  }
  CHECK(mismatches == 0);
  CHECK(threaded.fired_with_key(0, 9973 * 3, keys[(9973 * 3 + 105) % keys.size()]));
}

TEST_CASE("History::apply of day logs, serially and on threads, answers as records made directly") {
  // Three logs a day, each the customers of its own range (a split day's threads), for eight
  // days; some customers fire twice a day (event rules) and on many days (chains).
  const int64_t customers = 120'000;
  History direct(History::dense_limit_for(customers)), serial(History::dense_limit_for(customers)),
      threaded(History::dense_limit_for(customers));
  std::vector<uint32_t> keys;
  for (const char* k : {"once", "a", "b"}) {
    keys.push_back(direct.intern_key(k));
    CHECK(serial.intern_key(k) == keys.back());
    CHECK(threaded.intern_key(k) == keys.back());
  }
  const int64_t cut[] = {0, 30'000, 95'000, customers};
  std::vector<DayLog> logs(3);
  for (Days d = 200; d < 208; ++d) {
    for (size_t t = 0; t < 3; ++t) {
      logs[t].clear();
      logs[t].day = d;
      for (int64_t id = cut[t]; id < cut[t + 1]; ++id) {
        if ((id * 3 + d) % 4 != 0 && id % 1009 != 0) continue;
        const auto rule = static_cast<uint32_t>(id % 4);
        const uint32_t key = keys[static_cast<size_t>(id + d) % keys.size()];
        direct.record_fire(rule, id, d, key);
        logs[t].fires.push_back({id, rule, key});
        if (id % 7 == 0) {  // a second fire the same day, with another key
          direct.record_fire(rule, id, d, keys[0]);
          logs[t].fires.push_back({id, rule, keys[0]});
        }
        const auto channel = static_cast<lang::Channel>(id % 3);
        const auto campaign = static_cast<uint32_t>(id % 2);
        direct.record_send(id, d, channel, campaign);
        logs[t].sends.push_back({id, campaign, channel});
      }
    }
    for (const DayLog& log : logs) serial.apply(log);
    REQUIRE(threaded.begin_concurrent(3, 4, 0, customers - 1));
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 3; ++t) threads.emplace_back([&, t] { threaded.apply(logs[t], t); });
    for (auto& t : threads) t.join();
    threaded.end_concurrent();
  }
  CHECK(serial.fire_count() == direct.fire_count());
  CHECK(threaded.fire_count() == direct.fire_count());
  size_t mismatches = 0, fired = 0;
  for (int64_t id = 0; id < customers; id += 1 + id % 5) {
    for (uint32_t r = 0; r < 4; ++r) {
      fired += direct.fired_ever(r, id);
      for (const History* h : {&serial, &threaded}) {
        mismatches += h->fired_ever(r, id) != direct.fired_ever(r, id);
        for (Days d : {199, 203, 207}) mismatches += h->last_fired(r, id, d) != direct.last_fired(r, id, d);
        for (uint32_t k : keys) mismatches += h->fired_with_key(r, id, k) != direct.fired_with_key(r, id, k);
      }
    }
    for (const History* h : {&serial, &threaded})
      for (int64_t window : {1, 4, 30}) {
        mismatches += h->sends_in_window(id, 206, window, std::nullopt, std::nullopt) !=
                      direct.sends_in_window(id, 206, window, std::nullopt, std::nullopt);
        mismatches += h->sends_in_window(id, 206, window, lang::Channel::Sms, 1u) !=
                      direct.sends_in_window(id, 206, window, lang::Channel::Sms, 1u);
      }
  }
  CHECK(fired > 10'000);
  CHECK(mismatches == 0);
}

TEST_CASE("History::begin_concurrent refuses ids it cannot hold densely, and changes nothing") {
  History h(1024);
  CHECK_FALSE(h.begin_concurrent(2, 4, 0, 5000));  // beyond the dense limit
  CHECK_FALSE(h.begin_concurrent(2, 4, -1, 10));   // a negative id
  h.record_fire(1, 3, 10, h.intern_key("once"));  // serial recording as usual
  CHECK(h.fired_ever(1, 3));
  CHECK(h.begin_concurrent(2, 4, 0, 1023));
  h.record_fire(1, 3, 11, h.intern_key("x"), 1);
  h.record_send(3, 11, lang::Channel::Line, 0, 0);
  h.end_concurrent();
  CHECK(h.last_fired(1, 3, 20) == 11);
  CHECK(h.last_fired(1, 3, 10) == 10);
  CHECK(h.fired_with_key(1, 3, h.intern_key("once")));
  CHECK(h.sends_in_window(3, 11, 1, lang::Channel::Line, std::nullopt) == 1);
  CHECK(h.fire_count() == 2);
}

TEST_CASE("History: fires whose day or key does not fit the 4-byte entry go into a chain and answer alike") {
  History h(History::dense_limit_for(1000));
  std::vector<uint32_t> keys;
  for (int k = 0; k < 33'000; ++k) keys.push_back(h.intern_key("k" + std::to_string(k)));  // past 32,767
  const uint32_t small = keys[5], big = keys[32'900];
  // (customer, day, key): a negative day, a day past 2149, a big key, and an inline one before
  // each of those (a second fire starts a chain from it).
  h.record_fire(0, 1, -400, small);
  h.record_fire(0, 2, 70'000, small);
  h.record_fire(0, 3, 20'000, big);
  h.record_fire(0, 4, 20'000, small);
  h.record_fire(0, 4, 70'000, big);
  h.record_fire(0, 5, 20'000, small);
  h.record_fire(0, 5, -3, small);  // an older day after a newer one
  CHECK(h.last_fired(0, 1, 0) == -400);
  CHECK_FALSE(h.last_fired(0, 1, -401));
  CHECK(h.last_fired(0, 2, 80'000) == 70'000);
  CHECK_FALSE(h.last_fired(0, 2, 69'999));
  CHECK(h.fired_with_key(0, 3, big));
  CHECK_FALSE(h.fired_with_key(0, 3, small));
  CHECK(h.last_fired(0, 4, 80'000) == 70'000);
  CHECK(h.last_fired(0, 4, 50'000) == 20'000);
  CHECK(h.fired_with_key(0, 4, small));
  CHECK(h.fired_with_key(0, 4, big));
  CHECK(h.last_fired(0, 5, 30'000) == 20'000);
  CHECK(h.last_fired(0, 5, 0) == -3);
  CHECK_FALSE(h.last_fired(0, 5, -4));
  CHECK(h.fire_count() == 7);
  CHECK_FALSE(h.fired_ever(0, 6));
  // The same from a recording thread.
  REQUIRE(h.begin_concurrent(1, 1, 0, 999));
  h.record_fire(0, 7, 70'000, small, 0);
  h.record_fire(0, 1, 100, big, 0);
  h.end_concurrent();
  CHECK(h.last_fired(0, 7, 70'000) == 70'000);
  CHECK(h.last_fired(0, 1, 200) == 100);
  CHECK(h.last_fired(0, 1, 99) == -400);
  CHECK(h.fired_with_key(0, 1, big));
  CHECK(h.fired_with_key(0, 1, small));
}
