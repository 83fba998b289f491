// Summary: counting actions by rule and channel and printing them as aligned tables.
#include "engine/report/summary.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crm::engine {

void Summary::add(const ActionOut& a) {
  std::string what = action_label(a, /*points_amount=*/true);
  auto s = static_cast<size_t>(a.status);
  by_rule[{a.rule, std::string(a.rule_name), what}][s]++;
  if (a.channel) by_channel[lang::channel_name(*a.channel)][s]++;
  total[s]++;
  if (a.status == Status::Sent) cost += a.cost;
}

std::string Summary::to_text() const {
  if (by_rule.empty()) return "no actions\n";
  size_t w_rule = 4, w_action = 6;
  for (const auto& [k, c] : by_rule) {
    w_rule = std::max(w_rule, k.rule.size());
    w_action = std::max(w_action, k.action.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:>8}  {:>8}  {:>15}  {:>11}\n", "rule", w_rule, "action", w_action,
                                "sent", "held_out", "blocked_consent", "blocked_cap");
  for (const auto& [k, c] : by_rule)
    out += fmt::format("{:<{}}  {:<{}}  {:>8}  {:>8}  {:>15}  {:>11}\n", k.rule, w_rule, k.action, w_action, c[0], c[1],
                       c[2], c[3]);
  out += fmt::format("{:<{}}  {:<{}}  {:>8}  {:>8}  {:>15}  {:>11}\n", "total", w_rule, "", w_action, total[0],
                     total[1], total[2], total[3]);
  if (!by_channel.empty()) {
    out += "\nsends by channel:\n";
    for (const auto& [ch, c] : by_channel)
      out += fmt::format("  {:<6} {:>8} sent, {:>6} held out, {:>6} blocked (consent), {:>6} blocked (cap)\n", ch, c[0],
                         c[1], c[2], c[3]);
  }
  if (cost > 0) out += fmt::format("\ncost of passed sends: {:.{}f}\n", cost, money_digits);
  return out;
}

}  // namespace crm::engine
