// Firing history of rules per customer, the memory behind `once`, `once per`, `every`, `after`
// and `limit` caps. Loaded from the outbox for a real run; kept in memory across the days of a
// dry run or simulation. Only actions that passed (status sent) are recorded.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lang/ast.hpp"
#include "lang/date.hpp"

namespace crm::engine {

class History {
 public:
  // Records that rule `rule` fired for `customer` on `day` with dedupe key `key`.
  void record_fire(uint32_t rule, int64_t customer, Days day, const std::string& key);
  // Records one passed send (for caps): its channel and the campaign of its rule.
  void record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign);

  bool fired_ever(uint32_t rule, int64_t customer) const;
  bool fired_with_key(uint32_t rule, int64_t customer, const std::string& key) const;
  // The latest day on or before `day` the rule fired, if any.
  std::optional<Days> last_fired(uint32_t rule, int64_t customer, Days day) const;
  // Passed sends in the window (day - days, day], optionally only on `channel` / of `campaign`.
  int sends_in_window(int64_t customer, Days day, int64_t days, std::optional<lang::Channel> channel,
                      std::optional<uint32_t> campaign) const;

  size_t fire_count() const { return fires_; }

 private:
  struct Fires {
    std::vector<Days> days;          // sorted ascending
    std::vector<std::string> keys;   // distinct dedupe keys
  };
  struct Send {
    Days day;
    lang::Channel channel;
    uint32_t campaign;
  };
  static uint64_t key_of(uint32_t rule, int64_t customer) {
    return (static_cast<uint64_t>(rule) << 40) ^ static_cast<uint64_t>(customer);
  }
  std::unordered_map<uint64_t, Fires> fires_by_rule_;
  std::unordered_map<int64_t, std::vector<Send>> sends_;
  size_t fires_ = 0;
};

}  // namespace crm::engine
