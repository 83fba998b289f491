// Stage planning (stage_plan.hpp): the daily rules in stages, made once per stretch of days
// with the same live rules.
#include "engine/run/stage_plan.hpp"

#include <algorithm>

namespace crm::engine {

StagePlan::StagePlan(const lang::CheckedProgram& program, const RuleGraph& graph, const Program& compiled) {
  for (size_t r : graph.rule_order) {
    const auto& fr = program.rules[r];
    if (!fr.event.empty() || fr.journey) continue;  // event rules and journey steps have no daily condition
    NodeId n = compiled.rules()[r].condition;
    DailyRule d;
    d.index = r;
    d.reads_tags = n != kNoNode && compiled.nodes()[n].tags_dependent;
    d.writes_tags = !fr.writes_tags.empty();
    d.from = fr.from;
    d.until = fr.until;
    daily_.push_back(d);
    if (fr.from) changes_.push_back(*fr.from);
    if (fr.until) changes_.push_back(*fr.until + 1);
  }
  std::sort(changes_.begin(), changes_.end());
  changes_.erase(std::unique(changes_.begin(), changes_.end()), changes_.end());
}

const std::vector<std::vector<size_t>>& StagePlan::for_day(Days d) {
  if (planned_ && (lo_open_ || d >= lo_) && (hi_open_ || d < hi_)) return stages_;
  // The stretch of d: between the last change at or before it and the first one after it.
  auto after = std::upper_bound(changes_.begin(), changes_.end(), d);
  lo_open_ = after == changes_.begin();
  if (!lo_open_) lo_ = *(after - 1);
  hi_open_ = after == changes_.end();
  if (!hi_open_) hi_ = *after;
  planned_ = true;
  stages_.assign(1, {});
  bool stage_writes = false;
  for (const DailyRule& r : daily_) {
    bool live = (!r.from || d >= *r.from) && (!r.until || d <= *r.until);
    if (!live) continue;
    if (stage_writes && r.reads_tags) {
      stages_.emplace_back();
      stage_writes = false;
    }
    stages_.back().push_back(r.index);
    if (r.writes_tags) stage_writes = true;
  }
  return stages_;
}

}  // namespace crm::engine
