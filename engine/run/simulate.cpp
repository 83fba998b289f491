// Simulation: runs days with a dry Runner and counts actions per day, rule, channel and message;
// also the CSV rows of `crm simulate --format csv`.
#include "engine/run/simulate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <tuple>
#include <utility>

#include "engine/run/run.hpp"

namespace crm::engine {
std::vector<const SimDay*> SimulationResult::busiest(size_t n) const {
  std::vector<const SimDay*> out;
  for (const auto& d : days)
    if (d.passed() > 0) out.push_back(&d);
  std::stable_sort(out.begin(), out.end(), [](const SimDay* a, const SimDay* b) { return a->passed() > b->passed(); });
  if (out.size() > n) out.resize(n);
  return out;
}

SimulationAccumulator::SimulationAccumulator(const lang::CheckedProgram& program, const Facts& facts, Days from, Days to)
    : facts_(facts) {
  r_.from = from;
  r_.to = to;
  r_.customers = facts.rows();
  r_.rule_count = program.rules.size();
  for (Days d = from; d <= to; ++d) r_.days.push_back(SimDay{d});
  for (size_t i = 0; i < program.rules.size(); ++i) {
    SimRule rule;
    rule.rule = static_cast<uint32_t>(i);
    rule.name = program.rules[i].name;
    r_.rules.push_back(std::move(rule));
  }
  size_t words = (facts.rows() + 63) / 64;
  rule_seen_.assign(program.rules.size(), std::vector<uint64_t>(words, 0));
  label_counts_.resize(program.rules.size());
  for (auto& c : channel_seen_) c.assign(words, 0);
  sent_seen_.assign(words, 0);
  touched_seen_.assign(words, 0);
  rule_held_seen_.assign(program.rules.size(), std::vector<uint64_t>(words, 0));
  rule_blocked_seen_.assign(program.rules.size(), std::vector<uint64_t>(words, 0));
  held_seen_.assign(words, 0);
  blocked_seen_.assign(words, 0);
}

bool SimulationAccumulator::first_time(std::vector<uint64_t>& bits, size_t row) {
  uint64_t mask = uint64_t{1} << (row % 64);
  uint64_t& w = bits[row / 64];
  if (w & mask) return false;
  w |= mask;
  return true;
}

void SimulationAccumulator::add(const ActionOut& a) {
  if (a.date < r_.from || a.date > r_.to || a.rule >= r_.rules.size()) return;  // not ours: ignore, never crash
  const auto s = static_cast<size_t>(a.status);
  const bool passed = a.status == Status::Sent;
  SimDay& day = r_.days[static_cast<size_t>(a.date - r_.from)];
  SimRule& rule = r_.rules[a.rule];
  day.actions[s]++;
  rule.counts[s]++;
  auto& labels = label_counts_[a.rule];
  if (labels.size() <= a.action_index) labels.resize(a.action_index + 1);
  LabelSlot& slot = labels[a.action_index];
  if (!slot.counts || slot.kind != a.kind || slot.channel != a.channel ||
      (a.kind != lang::ActionKind::Points && slot.target != a.target)) {
    slot.counts = &rule.by_action[action_label(a, /*points_amount=*/false)];
    slot.message = nullptr;
    slot.kind = a.kind;
    slot.target = a.target;
    slot.channel = a.channel;
  }
  (*slot.counts)[s]++;
  r_.total[s]++;
  const size_t ch = a.channel ? static_cast<size_t>(*a.channel) : 0;
  if (a.channel) {
    day.sends[ch][s]++;
    r_.channels[ch].counts[s]++;
  }
  auto row = facts_.row_of(a.customer);
  if (!passed) {
    if (!row) return;
    if (a.status == Status::HeldOut) {
      if (first_time(rule_held_seen_[a.rule], *row)) rule.held_out_customers++;
      if (first_time(held_seen_, *row)) r_.held_out_customers++;
    } else {
      if (first_time(rule_blocked_seen_[a.rule], *row)) rule.blocked_customers++;
      if (first_time(blocked_seen_, *row)) r_.blocked_customers++;
    }
    return;
  }
  if (row) {
    if (first_time(rule_seen_[a.rule], *row)) {
      rule.reached++;
      if (rule.samples.size() < kSamplesPerRule) rule.samples.push_back({a.customer, a.date});
    }
    if (first_time(touched_seen_, *row)) r_.touched++;
  }
  if (a.kind != lang::ActionKind::Send) return;
  day.cost += a.cost;
  rule.cost += a.cost;
  r_.cost += a.cost;
  if (a.channel) {
    r_.channels[ch].cost += a.cost;
    if (row && first_time(channel_seen_[ch], *row)) r_.channels[ch].reached++;
  }
  if (row && first_time(sent_seen_, *row)) r_.reached++;
  if (!slot.message) slot.message = &messages_[{std::string(a.target), a.channel ? lang::channel_name(*a.channel) : ""}];
  SimMessage& m = *slot.message;
  if (m.sent == 0) {
    m.name = a.target;
    m.channel = a.channel ? lang::channel_name(*a.channel) : "";
    m.unit_cost = a.cost;
  }
  m.sent++;
  m.cost += a.cost;
}

SimulationResult SimulationAccumulator::finish() {
  r_.messages.clear();
  for (auto& [key, m] : messages_) r_.messages.push_back(m);
  return std::move(r_);
}

void append_csv_field(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string csv_header() { return "date,rule,action,target,channel,sent,held_out,blocked_consent,blocked_cap\n"; }

std::string csv_rows(const std::vector<ActionOut>& day_actions) {
  // (rule order, action, target, channel) -> (rule name, date, counts)
  using Key = std::tuple<uint32_t, int, std::string, int>;
  struct Row {
    Days date = 0;
    std::string_view rule;
    StatusCounts counts{};
  };
  std::map<Key, Row> rows;
  for (const auto& a : day_actions) {
    Key k{a.rule, static_cast<int>(a.kind), a.target, a.channel ? static_cast<int>(*a.channel) : -1};
    Row& r = rows[k];
    r.date = a.date;
    r.rule = a.rule_name;
    r.counts[static_cast<size_t>(a.status)]++;
  }
  std::string out;
  for (const auto& [k, r] : rows) {
    out += format_date(r.date);
    out += ',';
    append_csv_field(out, r.rule);
    out += ',';
    out += lang::action_name(static_cast<lang::ActionKind>(std::get<1>(k)));
    out += ',';
    append_csv_field(out, std::get<2>(k));
    out += ',';
    if (std::get<3>(k) >= 0) out += lang::channel_name(static_cast<lang::Channel>(std::get<3>(k)));
    out += fmt::format(",{},{},{},{}\n", r.counts[0], r.counts[1], r.counts[2], r.counts[3]);
  }
  return out;
}

SimulationResult simulate(Runner& runner, const lang::CheckedProgram& program, const Facts& facts,
                          const SimulateOptions& options) {
  SimulationAccumulator acc(program, facts, options.from, options.to);
  // The actions of the day counted on the second thread (overlap): their views (rule names,
  // dedupe values, points amounts) point at texts that later days never move.
  // Day buffers are kept (their pages stay mapped: no fresh page per record) up to this many actions.
  constexpr size_t kKeptActions = 262'144;
  struct Behind {
    std::vector<ActionOut> actions;
    std::thread thread;
    std::exception_ptr error;
    std::vector<ActionOut> spare;  // a counted day's buffer, for the next day to write into
    // A counted day's buffer: the spare when it is the larger (and not a backlog's), else freed.
    void keep(std::vector<ActionOut>& v) {
      v.clear();
      if (v.capacity() <= kKeptActions && v.capacity() > spare.capacity()) spare = std::move(v);
      v = {};
    }
    void wait() {
      if (thread.joinable()) thread.join();
      keep(actions);
      if (error) std::rethrow_exception(std::exchange(error, nullptr));
    }
    ~Behind() {
      if (thread.joinable()) thread.join();
    }
  } behind;
  for (Days d = options.from; d <= options.to; ++d) {
    std::vector<ActionOut> actions = std::move(behind.spare);
    runner.evaluate_day_into(d, actions);
    if (options.on_evaluated) options.on_evaluated(d, actions);
    // A day of very many actions (a first day's backlog) is counted in line: held while the next
    // day is evaluated, its records (~100 bytes an action) would be in memory twice over.
    if (!options.overlap || actions.size() > kKeptActions) {
      behind.wait();
      for (const auto& a : actions) acc.add(a);
      if (options.on_day) options.on_day(d, actions);
      behind.keep(actions);
      continue;
    }
    behind.wait();
    behind.actions = std::move(actions);
    behind.thread = std::thread([&behind, &acc, &options, d] {
      try {
        for (const auto& a : behind.actions) acc.add(a);
        if (options.on_day) options.on_day(d, behind.actions);
      } catch (...) {
        behind.error = std::current_exception();
      }
    });
  }
  behind.wait();
  return acc.finish();
}

}  // namespace crm::engine
