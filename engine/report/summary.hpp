// Aggregates actions into counts per rule / action / channel and status, for the text output
// of `crm run` (and later `crm simulate`).
#pragma once
#include <array>
#include <map>
#include <string>
#include <tuple>

#include "engine/run/action.hpp"

namespace crm::engine {

struct Summary {
  using Counts = std::array<int64_t, 4>;  // by Status
  struct Key {
    uint32_t rule_order;  // for a stable listing: the rule's index in CheckedProgram::rules
    std::string rule;
    std::string action;   // "send welcome via email", "coupon birthday_10", "points", "tag vip"
    auto operator<=>(const Key&) const = default;
  };
  std::map<Key, Counts> by_rule;
  std::map<std::string, Counts> by_channel;  // sends only: "email", "line", ...
  Counts total{};
  double cost = 0;  // cost of passed sends
  int64_t days = 0;
  int money_digits = 2;  // decimals of the store's currency (`crm init --currency`): JPY 0, GBP 2

  void add(const ActionOut& a);
  // A fixed-width table followed by the per-channel totals; "no actions" when empty.
  std::string to_text() const;
};

}  // namespace crm::engine
