// `crm explain` as text and JSON lines, shared by the CLI and the embedding API: for each rule of
// a traced day (Runner::evaluate_day with a trace customer), whether it fired and why.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/run/run.hpp"

namespace crm::engine {

// "true", "false" or "unknown".
const char* truth_name(Truth t);
// Why the rule fired or not: "FIRED", "not fired: the condition is false", "not fired: once: ...";
// a journey step's live instances follow, joined by "; " (explain_base_reason: without them).
std::string explain_reason(const RuleTrace& t, const lang::FlatRule& r);
std::string explain_base_reason(const RuleTrace& t, const lang::FlatRule& r);
// The sub-conditions of a trace as an indented tree (each line starts with 2 * depth spaces).
std::string explain_tree(const RuleTrace& t, int depth = 1);
// The whole explanation as `crm explain` prints it (text), or one JSON object per rule (jsonl).
std::string explain_text(const lang::CheckedProgram& program, const std::vector<RuleTrace>& traces, int64_t customer,
                         Days d);
// The one-screen summary (crm explain without --full): one line per rule, what fired, what
// blocked it, or the first sub-condition that is not true with the attributes under it.
std::string explain_summary(const lang::CheckedProgram& program, const std::vector<RuleTrace>& traces, int64_t customer,
                            Days d);
std::string explain_jsonl(const lang::CheckedProgram& program, const std::vector<RuleTrace>& traces, int64_t customer,
                          Days d);

}  // namespace crm::engine
