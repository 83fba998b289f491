// Stage planning for the day loop (run.cpp): which daily rules are evaluated together, a rule
// that reads tags starting a new stage after a rule that writes them. Planned once per script.
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

#include "engine/eval/program.hpp"
#include "engine/graph/rule_graph.hpp"
#include "lang/checker.hpp"
#include "lang/date.hpp"

namespace crm::engine {

// The daily rules of a script in graph order, split into stages: a rule whose condition reads
// tags starts a new stage when an earlier rule of the current stage writes tags (between stages
// the written tags are folded into the frame). Only the rules live on a day take part (from /
// until), so the plan depends on the day through them alone: it is made once per script for
// each stretch of days with the same live rules (once, for a script without from/until).
class StagePlan {
 public:
  StagePlan(const lang::CheckedProgram& program, const RuleGraph& graph, const Program& compiled);

  // The stages of day `d` (rule indexes). Valid until the next call.
  const std::vector<std::vector<size_t>>& for_day(Days d);

 private:
  struct DailyRule {
    size_t index = 0;
    bool reads_tags = false, writes_tags = false;
    std::optional<Days> from, until;
  };
  std::vector<DailyRule> daily_;  // graph order
  std::vector<Days> changes_;     // sorted first days of a new set of live rules
  bool planned_ = false;
  Days lo_ = 0, hi_ = 0;          // the stretch [lo_, hi_) the stages were planned for (hi_ excl.)
  bool lo_open_ = true, hi_open_ = true;  // unbounded ends
  std::vector<std::vector<size_t>> stages_;
};

}  // namespace crm::engine
