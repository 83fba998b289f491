// History: per (rule, customer) firing days and dedupe keys; per customer passed sends.
#include "engine/history.hpp"

#include <algorithm>

namespace crm::engine {

void History::record_fire(uint32_t rule, int64_t customer, Days day, const std::string& key) {
  Fires& f = fires_by_rule_[key_of(rule, customer)];
  f.days.insert(std::upper_bound(f.days.begin(), f.days.end(), day), day);
  if (std::find(f.keys.begin(), f.keys.end(), key) == f.keys.end()) f.keys.push_back(key);
  ++fires_;
}

void History::record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign) {
  sends_[customer].push_back({day, channel, campaign});
}

bool History::fired_ever(uint32_t rule, int64_t customer) const {
  return fires_by_rule_.count(key_of(rule, customer)) > 0;
}

bool History::fired_with_key(uint32_t rule, int64_t customer, const std::string& key) const {
  auto it = fires_by_rule_.find(key_of(rule, customer));
  if (it == fires_by_rule_.end()) return false;
  return std::find(it->second.keys.begin(), it->second.keys.end(), key) != it->second.keys.end();
}

std::optional<Days> History::last_fired(uint32_t rule, int64_t customer, Days day) const {
  auto it = fires_by_rule_.find(key_of(rule, customer));
  if (it == fires_by_rule_.end()) return std::nullopt;
  const auto& days = it->second.days;
  auto pos = std::upper_bound(days.begin(), days.end(), day);
  if (pos == days.begin()) return std::nullopt;
  return *(pos - 1);
}

int History::sends_in_window(int64_t customer, Days day, int64_t days, std::optional<lang::Channel> channel,
                             std::optional<uint32_t> campaign) const {
  auto it = sends_.find(customer);
  if (it == sends_.end()) return 0;
  int n = 0;
  for (const auto& s : it->second) {
    if (s.day > day || s.day <= day - days) continue;
    if (channel && s.channel != *channel) continue;
    if (campaign && s.campaign != *campaign) continue;
    ++n;
  }
  return n;
}

}  // namespace crm::engine
