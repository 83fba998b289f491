// A disassembler for the compiled evaluator (program.hpp), as clox prints its bytecode: per
// definition and rule, the vector instructions it runs with their operands and the names they
// refer to. For people who debug the evaluator: `crm graph --program FILE`; docs/evaluator.md.
#pragma once
#include <string>

#include "engine/eval/program.hpp"
#include "lang/checker.hpp"

namespace crm::engine {

// The listing of `program`. With `source` (the CheckedProgram it was compiled from) each
// definition gets its own section and each instruction the expression it computes as a comment;
// without it, only the rules are listed. Constants are shown inline as operands (the evaluator
// broadcasts them when it binds a frame, they are not executed); `%N` is instruction N.
std::string disassemble(const Program& program, const lang::CheckedProgram* source = nullptr);

}  // namespace crm::engine
