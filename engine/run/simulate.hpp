// Dry-run simulation (SPEC §6, `crm simulate`): evaluates a range of days with a Runner that
// writes nothing, and aggregates the actions per day, rule, channel and message for reports.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/run/action.hpp"
#include "engine/store/facts.hpp"
#include "lang/checker.hpp"

namespace crm::engine {

class Runner;

using StatusCounts = std::array<int64_t, 4>;  // indexed by Status
using ChannelCounts = std::array<StatusCounts, lang::kChannelCount>;

// Customers listed per rule as samples to inspect with `crm explain`: enough to look at a few
// cases, few enough to print on one line.
constexpr size_t kSamplesPerRule = 5;
// Busiest days listed in reports.
constexpr size_t kBusiestDays = 5;

struct SimDay {
  Days date = 0;
  StatusCounts actions{};  // every action kind
  ChannelCounts sends{};   // sends only, by channel
  double cost = 0;         // of passed sends
  int64_t passed() const { return actions[0]; }
};

struct SimSample {
  int64_t customer = 0;
  Days date = 0;  // the first day the rule passed an action for this customer
};

struct SimRule {
  uint32_t rule = 0;  // index into CheckedProgram::rules
  std::string name;   // qualified
  StatusCounts counts{};
  // "send welcome via email", "coupon birthday_10", "points", "tag vip" -> counts.
  std::map<std::string, StatusCounts> by_action;
  int64_t reached = 0;  // distinct customers with at least one passed action
  // Distinct customers with a held-out action, and with a blocked one (consent or cap), over the
  // range: `counts` counts actions, and a held-out or blocked customer is counted again on every
  // day the rule qualifies them.
  int64_t held_out_customers = 0, blocked_customers = 0;
  double cost = 0;      // of passed sends
  std::vector<SimSample> samples;  // the first customers with a passed action, by date then id
};

struct SimChannel {
  StatusCounts counts{};
  int64_t reached = 0;  // distinct customers with a passed send on this channel
  double cost = 0;
};

struct SimMessage {
  std::string name;
  std::string channel;   // as sent ("" when mixed would never happen: one row per channel)
  double unit_cost = 0;  // from `message ... cost N`
  int64_t sent = 0;
  double cost = 0;
};

struct SimulationResult {
  Days from = 0, to = 0;
  size_t customers = 0;  // customers in the store
  size_t rule_count = 0;
  std::vector<SimDay> days;    // one per day of [from, to]
  std::vector<SimRule> rules;  // every rule of the script, in declaration order
  std::array<SimChannel, lang::kChannelCount> channels{};
  std::vector<SimMessage> messages;  // sent messages, by name then channel
  StatusCounts total{};
  int64_t reached = 0;  // distinct customers with at least one passed send
  int64_t touched = 0;  // distinct customers with at least one passed action of any kind
  int64_t held_out_customers = 0, blocked_customers = 0;  // distinct, over every rule
  double cost = 0;

  // The days with the most passed actions (ties: the earlier day), at most `n`, days with none
  // left out.
  std::vector<const SimDay*> busiest(size_t n = kBusiestDays) const;
};

// Adds actions one by one into a SimulationResult. Not thread-safe; `program` and `facts` must
// outlive it. Actions must be dated within [from, to].
class SimulationAccumulator {
 public:
  SimulationAccumulator(const lang::CheckedProgram& program, const Facts& facts, Days from, Days to);
  void add(const ActionOut& a);
  // Finishes the per-message table; call once, after the last add.
  SimulationResult finish();

 private:
  // Marks bit (set, row) and returns true when it was not set: distinct counting per customer.
  bool first_time(std::vector<uint64_t>& bits, size_t row);

  const Facts& facts_;
  SimulationResult r_;
  std::vector<std::vector<uint64_t>> rule_seen_;  // per rule: customer rows with a passed action
  std::array<std::vector<uint64_t>, lang::kChannelCount> channel_seen_;
  std::vector<uint64_t> sent_seen_, touched_seen_;
  std::vector<std::vector<uint64_t>> rule_held_seen_, rule_blocked_seen_;
  std::vector<uint64_t> held_seen_, blocked_seen_;
  std::map<std::pair<std::string, std::string>, SimMessage> messages_;
  // Per rule, per action index: the by_action counts of the last label seen there, with what the
  // label is made of (kind, target unless points, channel), so a repeat skips building it.
  struct LabelSlot {
    StatusCounts* counts = nullptr;
    SimMessage* message = nullptr;  // of a send, found at its first passed action
    lang::ActionKind kind{};
    std::string target;
    std::optional<lang::Channel> channel;
  };
  std::vector<std::vector<LabelSlot>> label_counts_;
};

// The CSV of `crm simulate --format csv`: one row per (date, rule, action, target, channel) with
// its counts by status. Fields are quoted as RFC 4180 wants (commas, quotes, newlines).
std::string csv_header();
// The rows of one day's actions, in rule declaration order, then action, target and channel.
std::string csv_rows(const std::vector<ActionOut>& day_actions);
void append_csv_field(std::string& out, std::string_view s);

struct SimulateOptions {
  Days from = 0, to = 0;
  // Called after each day with every action of that day (all statuses), in Runner order.
  std::function<void(Days day, const std::vector<ActionOut>& actions)> on_day;
  // Called on the evaluating thread right after each day's evaluation, before on_day: the place
  // to read the Runner's last_* statistics of that day.
  std::function<void(Days day, const std::vector<ActionOut>& actions)> on_evaluated;
  // Day d's actions are counted and handed to on_day on a second thread while day d + 1 is
  // evaluated (days in order, one at a time): on_day must then not touch the Runner.
  bool overlap = false;
};

// Evaluates every day of [from, to] with `runner` (a fresh Runner keeps history and tags in memory,
// which is exactly a dry run: nothing is written anywhere) and aggregates the actions.
SimulationResult simulate(Runner& runner, const lang::CheckedProgram& program, const Facts& facts,
                          const SimulateOptions& options);

}  // namespace crm::engine
