// History: per (rule, customer) firing days and dedupe keys; per customer passed sends. Flat:
// entries in arrays indexed by customer id, records beyond one fire in a shared pool of chains.
#include "engine/run/history.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace crm::engine {

namespace {
uint64_t sparse_key(uint32_t rule, int64_t customer) {
  return (static_cast<uint64_t>(rule) << 40) ^ static_cast<uint64_t>(customer);
}
}  // namespace

History::Entry History::entry(uint32_t rule, int64_t customer) const {
  if (dense(customer)) {
    if (rule >= dense_.size()) return 0;
    const auto& entries = dense_[rule];
    auto id = static_cast<size_t>(customer);
    return id < entries.size() && entries.written_near(id) ? entries[id] : 0;
  }
  auto it = sparse_.find(sparse_key(rule, customer));
  return it == sparse_.end() ? 0 : it->second;
}

History::Entry& History::get(uint32_t rule, int64_t customer) {
  if (!dense(customer)) return sparse_[sparse_key(rule, customer)];
  if (rule >= dense_.size()) dense_.resize(rule + 1);
  auto& entries = dense_[rule];
  auto id = static_cast<size_t>(customer);
  // Sized for the whole store at once (ids of a store of n customers are mostly below n + 1):
  // no copies while a big first day fills it.
  if (id >= entries.size()) entries.grow(std::max({id + 1, entries.size() * 2, size_hint()}));
  Entry& e = entries.at(id);
  if (e == 0) {
    if (dense_made_.size() < kMaxMade) dense_made_.push_back({rule, id});
    else made_overflow_ = true;
  }
  return e;
}

uint32_t History::intern_key(std::string_view text) {
  auto it = key_ids_.find(std::string(text));
  if (it != key_ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(key_texts_.size());
  key_texts_.emplace_back(text);
  key_ids_.emplace(key_texts_.back(), id);
  return id;
}

void History::record_fire(uint32_t rule, int64_t customer, Days day, uint32_t key) {
  if (key >= kChained - 1) throw std::length_error("too many distinct dedupe keys");
  Entry& e = get(rule, customer);
  if (fires_.size() + 2 >= kChained) throw std::length_error("too many fires recorded");
  add_fire(e, day, key, fires_, 0, nullptr);
  ++fire_count_;
}

template <class Pool>
bool History::add_fire(Entry& e, Days day, uint32_t key, Pool& pool, uint32_t mark, const std::vector<FireNode>* local) {
  if (e == 0 && inline_fits(day, key)) {
    e = inline_entry(day, key);
    return false;
  }
  uint32_t next = 0;
  Days max_day = day;
  if (e != 0 && !(e & kChained)) {  // a second fire: the inline record starts the chain
    pool.push_back({inline_day(e), inline_key(e), 0, inline_day(e)});
    next = mark | static_cast<uint32_t>(pool.size());
    max_day = std::max(max_day, inline_day(e));
  } else if (e != 0) {
    next = e & ~kChained;
    max_day = std::max(max_day, (local ? fire_node(next, local) : fires_[next - 1]).max_day);  // serial refs may pass kLocal
  }
  pool.push_back({day, key, next, max_day});
  e = kChained | mark | static_cast<uint32_t>(pool.size());
  return true;
}

void History::record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign) {
  uint32_t* head;
  if (dense(customer)) {
    auto id = static_cast<size_t>(customer);
    if (id >= dense_sends_.size()) dense_sends_.grow(std::max({id + 1, dense_sends_.size() * 2, size_hint()}));
    head = &dense_sends_.at(id);
    if (*head == 0) {
      if (dense_sends_made_.size() < kMaxMade) dense_sends_made_.push_back(id);
      else made_overflow_ = true;
    }
  } else {
    head = &sparse_sends_[customer];
  }
  if (*head != 0 && sends_[*head - 1].day > day) sends_sorted_ = false;
  sends_.push_back({day, channel, campaign, *head});
  *head = static_cast<uint32_t>(sends_.size());
}

// The entries a log's records land on are scattered over the rules' arrays: each is asked for
// this many records ahead, so a record does not wait for memory on its own.
constexpr size_t kApplyAhead = 8;

void History::apply(const DayLog& log, size_t thread) {
  const bool serial = thread == kSerial;
  const auto& fires = log.fires;
  for (size_t i = 0; i < fires.size(); ++i) {
    if (i + kApplyAhead < fires.size()) prefetch(fires[i + kApplyAhead].rule, fires[i + kApplyAhead].customer);
    const DayLog::Fire& f = fires[i];
    if (serial) record_fire(f.rule, f.customer, log.day, f.key);
    else record_fire(f.rule, f.customer, log.day, f.key, thread);
  }
  for (const DayLog::Send& s : log.sends) {
    if (serial) record_send(s.customer, log.day, s.channel, s.campaign);
    else record_send(s.customer, log.day, s.channel, s.campaign, thread);
  }
}

bool History::begin_concurrent(size_t threads, size_t rules, int64_t min_id, int64_t max_id) {
  if (min_id < 0 || max_id >= dense_limit_ || max_id < min_id) return false;
  if (fires_.size() >= kLocal - 1 || sends_.size() >= kLocal - 1) return false;
  if (dense_.size() < rules) dense_.resize(rules);
  // Sized before the threads start: none of them grows an array. Pages never written stay
  // unmapped, so the arrays of rules that never fire cost no memory.
  const size_t n = std::max(static_cast<size_t>(max_id) + 1, size_hint());
  for (auto& entries : dense_) entries.grow(n);
  dense_sends_.grow(n);
  if (locals_.size() < threads) locals_.resize(threads);
  made_overflow_ = true;  // the threads do not list the entries they make: clear_records zeroes all
  return true;
}

void History::record_fire(uint32_t rule, int64_t customer, Days day, uint32_t key, size_t thread) {
  if (key >= kChained - 1) throw std::length_error("too many distinct dedupe keys");
  Local& l = locals_[thread];
  Entry& e = dense_[rule].at(static_cast<size_t>(customer));
  const bool was_local = (e & kChained) && (e & kLocal);
  if (l.fires.size() + 2 >= kLocal) throw std::length_error("too many fires recorded on one thread in a day");
  if (add_fire(e, day, key, l.fires, kLocal, &l.fires) && !was_local)
    l.fire_heads.push_back({rule, static_cast<uint32_t>(customer)});
  ++l.fire_count;
}

void History::record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign, size_t thread) {
  Local& l = locals_[thread];
  uint32_t& head = dense_sends_.at(static_cast<size_t>(customer));
  if (head != 0) {
    const SendNode& newest = head & kLocal ? l.sends[(head & ~kLocal) - 1] : sends_[head - 1];
    if (newest.day > day) l.unsorted = true;
  }
  if (l.sends.size() + 1 >= kLocal) throw std::length_error("too many sends recorded on one thread in a day");
  if (!(head & kLocal)) l.send_heads.push_back(static_cast<uint32_t>(customer));
  l.sends.push_back({day, channel, campaign, head});
  head = kLocal | static_cast<uint32_t>(l.sends.size());
}

void History::end_concurrent() {
  // A thread's node k (reference kLocal | k + 1) lands at base + k: reference base + k + 1.
  auto fix = [](uint32_t ref, size_t base) { return ref & kLocal ? static_cast<uint32_t>((ref & ~kLocal) + base) : ref; };
  for (Local& l : locals_) {
    const size_t fbase = fires_.size();
    for (FireNode f : l.fires) {
      f.next = fix(f.next, fbase);
      fires_.push_back(f);
    }
    for (auto [rule, id] : l.fire_heads) {
      Entry& e = dense_[rule][id];
      e = kChained | fix(e & ~kChained, fbase);
    }
    const size_t sbase = sends_.size();
    for (SendNode s : l.sends) {
      s.next = fix(s.next, sbase);
      sends_.push_back(s);
    }
    for (uint32_t id : l.send_heads) dense_sends_[id] = fix(dense_sends_[id], sbase);
    fire_count_ += l.fire_count;
    if (l.unsorted) sends_sorted_ = false;
    l.fires.clear();
    l.sends.clear();
    l.fire_heads.clear();
    l.send_heads.clear();
    l.fire_count = 0;
    l.unsorted = false;
  }
}

void History::clear_records() {
  if (made_overflow_) {
    for (auto& entries : dense_) entries.zero();
    dense_sends_.zero();
  } else {
    for (auto [rule, id] : dense_made_) dense_[rule][id] = 0;
    for (size_t id : dense_sends_made_) dense_sends_[id] = 0;
  }
  made_overflow_ = false;
  dense_made_.clear();
  dense_sends_made_.clear();
  sparse_.clear();
  sparse_sends_.clear();
  fires_.clear();
  sends_.clear();
  fire_count_ = 0;
  sends_sorted_ = true;
}

bool History::fired_with_key(uint32_t rule, int64_t customer, const std::string& key) const {
  auto it = key_ids_.find(key);
  return it != key_ids_.end() && fired_with_key(rule, customer, it->second);
}

bool History::fired_with_key(uint32_t rule, int64_t customer, uint32_t key) const {
  const Entry e = entry(rule, customer);
  if (e == 0) return false;
  if (!(e & kChained)) return inline_key(e) == key;  // the one record
  for (uint32_t n = e & ~kChained; n != 0;) {
    const FireNode& f = fires_[n - 1];
    if (f.key == key) return true;
    n = f.next;
  }
  return false;
}

std::optional<Days> History::last_fired(uint32_t rule, int64_t customer, Days day) const {
  const Entry e = entry(rule, customer);
  if (e == 0) return std::nullopt;
  if (!(e & kChained)) {
    const Days once = inline_day(e);
    return once <= day ? std::optional<Days>(once) : std::nullopt;
  }
  const FireNode& head = fires_[(e & ~kChained) - 1];
  if (head.max_day <= day) return head.max_day;
  std::optional<Days> best;
  for (uint32_t n = e & ~kChained; n != 0;) {
    const FireNode& f = fires_[n - 1];
    if (f.day <= day && (!best || f.day > *best)) best = f.day;
    n = f.next;
  }
  return best;
}

uint32_t History::sends_head(int64_t customer) const {
  if (dense(customer)) {
    auto id = static_cast<size_t>(customer);
    return id < dense_sends_.size() && dense_sends_.written_near(id) ? dense_sends_[id] : 0;
  }
  auto it = sparse_sends_.find(customer);
  return it == sparse_sends_.end() ? 0 : it->second;
}

int History::sends_in_window(int64_t customer, Days day, int64_t days, std::optional<lang::Channel> channel,
                             std::optional<uint32_t> campaign) const {
  int n = 0;
  // Newest first; while the sends are in day order (always, unless an outbox was loaded out of
  // order), the first one before the window ends the scan.
  for (uint32_t k = sends_head(customer); k != 0;) {
    const SendNode& s = sends_[k - 1];
    k = s.next;
    if (s.day > day) continue;
    if (s.day <= day - days) {
      if (sends_sorted_) break;
      continue;
    }
    if (channel && s.channel != *channel) continue;
    if (campaign && s.campaign != *campaign) continue;
    ++n;
  }
  return n;
}

}  // namespace crm::engine
