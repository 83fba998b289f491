// History: per (rule, customer) firing days and dedupe keys; per customer passed sends.
#include "engine/run/history.hpp"

#include <algorithm>

namespace crm::engine {
namespace {
uint64_t sparse_key(uint32_t rule, int64_t customer) {
  return (static_cast<uint64_t>(rule) << 40) ^ static_cast<uint64_t>(customer);
}
}  // namespace

const History::Fires* History::find(uint32_t rule, int64_t customer) const {
  if (dense(customer)) {
    if (rule >= dense_slot_.size()) return nullptr;
    const auto& slots = dense_slot_[rule];
    auto id = static_cast<size_t>(customer);
    if (id >= slots.size() || slots[id].slot == 0) return nullptr;
    return &fires_[slots[id].slot - 1];
  }
  auto it = sparse_slot_.find(sparse_key(rule, customer));
  return it == sparse_slot_.end() ? nullptr : &fires_[it->second - 1];
}

History::Fires& History::get(uint32_t rule, int64_t customer) {
  uint32_t* slot;
  if (dense(customer)) {
    if (rule >= dense_slot_.size()) dense_slot_.resize(rule + 1);
    auto& slots = dense_slot_[rule];
    auto id = static_cast<size_t>(customer);
    if (id >= slots.size()) slots.resize(std::max(id + 1, slots.size() * 2));
    slot = &slots[id].slot;
    if (*slot == 0) {
      if (dense_made_.size() < kMaxMade) dense_made_.push_back({rule, id});
      else made_overflow_ = true;
    }
  } else {
    slot = &sparse_slot_[sparse_key(rule, customer)];
  }
  if (*slot == 0) {
    fires_.emplace_back();
    *slot = static_cast<uint32_t>(fires_.size());
  }
  return fires_[*slot - 1];
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
  Fires& f = get(rule, customer);
  f.days.insert(std::upper_bound(f.days.begin(), f.days.end(), day), day);
  if (std::find(f.keys.begin(), f.keys.end(), key) == f.keys.end()) f.keys.push_back(key);
  if (dense(customer)) {
    Dense& e = dense_slot_[rule][static_cast<size_t>(customer)];
    e.last_key = key;
    e.max_day = f.days.back();
  }
  ++fire_count_;
}

void History::record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign) {
  if (dense(customer)) {
    auto id = static_cast<size_t>(customer);
    if (id >= dense_sends_.size()) dense_sends_.resize(std::max(id + 1, dense_sends_.size() * 2));
    auto& v = dense_sends_[id];
    if (v.empty()) {
      if (dense_sends_made_.size() < kMaxMade) dense_sends_made_.push_back(id);
      else made_overflow_ = true;
    }
    if (!v.empty() && v.back().day > day) sends_sorted_ = false;
    v.push_back({day, channel, campaign});
  } else {
    auto& v = sparse_sends_[customer];
    if (!v.empty() && v.back().day > day) sends_sorted_ = false;
    v.push_back({day, channel, campaign});
  }
}

void History::clear_records() {
  if (made_overflow_) {
    for (auto& slots : dense_slot_) std::fill(slots.begin(), slots.end(), Dense{});
    for (auto& v : dense_sends_) v.clear();
  } else {
    for (auto [rule, id] : dense_made_) dense_slot_[rule][id] = Dense{};
    for (size_t id : dense_sends_made_) dense_sends_[id].clear();
  }
  made_overflow_ = false;
  dense_made_.clear();
  dense_sends_made_.clear();
  sparse_slot_.clear();
  sparse_sends_.clear();
  fires_.clear();
  fire_count_ = 0;
  sends_sorted_ = true;
}

bool History::fired_with_key(uint32_t rule, int64_t customer, const std::string& key) const {
  auto it = key_ids_.find(key);
  return it != key_ids_.end() && fired_with_key(rule, customer, it->second);
}

const History::Dense* History::dense_entry(uint32_t rule, int64_t customer) const {
  if (!dense(customer) || rule >= dense_slot_.size()) return nullptr;
  const auto& slots = dense_slot_[rule];
  auto id = static_cast<size_t>(customer);
  return id < slots.size() && slots[id].slot != 0 ? &slots[id] : nullptr;
}

bool History::fired_with_key(uint32_t rule, int64_t customer, uint32_t key) const {
  if (dense(customer)) {
    const Dense* e = dense_entry(rule, customer);
    if (!e) return false;
    if (e->last_key == key) return true;
  }
  const Fires* f = find(rule, customer);
  return f && std::find(f->keys.begin(), f->keys.end(), key) != f->keys.end();
}

std::optional<Days> History::last_fired(uint32_t rule, int64_t customer, Days day) const {
  if (dense(customer)) {
    const Dense* e = dense_entry(rule, customer);
    if (!e) return std::nullopt;
    if (e->max_day <= day) return e->max_day;
  }
  const Fires* f = find(rule, customer);
  if (!f) return std::nullopt;
  auto pos = std::upper_bound(f->days.begin(), f->days.end(), day);
  if (pos == f->days.begin()) return std::nullopt;
  return *(pos - 1);
}

const std::vector<History::Send>* History::sends_of(int64_t customer) const {
  if (dense(customer)) {
    auto id = static_cast<size_t>(customer);
    return id < dense_sends_.size() ? &dense_sends_[id] : nullptr;
  }
  auto it = sparse_sends_.find(customer);
  return it == sparse_sends_.end() ? nullptr : &it->second;
}

int History::sends_in_window(int64_t customer, Days day, int64_t days, std::optional<lang::Channel> channel,
                             std::optional<uint32_t> campaign) const {
  const std::vector<Send>* sends = sends_of(customer);
  if (!sends) return 0;
  int n = 0;
  // Newest first; while the sends are in day order (always, unless an outbox was loaded out of
  // order), the first one before the window ends the scan.
  for (auto it = sends->rbegin(); it != sends->rend(); ++it) {
    const Send& s = *it;
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
