// The disassembler of compiled programs (engine/program_dump.hpp): every instruction a rule
// needs is listed in its section, definitions are operands, constants inline.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/eval/program.hpp"
#include "engine/eval/program_dump.hpp"
#include "lang/checker.hpp"

using namespace crm;
namespace fs = std::filesystem;

namespace {

struct Compiled {
  lang::Diagnostics diags;
  lang::CheckedProgram checked;
  engine::Program program;
};

std::unique_ptr<Compiled> compile(const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("crm_program_dump_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "main.crm") << text;
  auto c = std::make_unique<Compiled>();
  c->checked = lang::load_and_check({(dir / "main.crm").string()}, {}, c->diags);
  c->program = engine::compile_program(c->checked, c->diags);
  fs::remove_all(dir);
  return c;
}

}  // namespace

TEST_CASE("program dump: sections, definitions as operands, inline constants") {
  auto c = compile(R"(segment vip = total_spent >= 100_000
message m via email
rule a: when vip and days_since == 7 then send m
rule b: on purchase when order.date >= 2026-01-02 and name == "x" then send m, grant points order.total * 0.5
)");
  REQUIRE_MESSAGE(!c->diags.has_errors(), lang::render_all(c->diags));
  std::string with = engine::disassemble(c->program, &c->checked);
  INFO(with);
  CHECK(with.find("== segment vip ==") != std::string::npos);
  CHECK(with.find("== rule b (on purchase) ==") != std::string::npos);
  CHECK(with.find("%0, 100000.0") != std::string::npos);  // a decimal constant, inline
  CHECK(with.find(", 2026-01-02") != std::string::npos);   // a date constant
  CHECK(with.find(", \"x\"") != std::string::npos);        // a string constant
  CHECK(with.find("(vip), ") != std::string::npos);        // the segment as an operand of rule a
  CHECK(with.find("; days_since == 7") != std::string::npos);
  CHECK(with.find("points of action 2: %") != std::string::npos);
  // Without the source: rules only, no comments, and the definition's instructions inlined.
  std::string without = engine::disassemble(c->program, nullptr);
  INFO(without);
  CHECK(without.find("== segment") == std::string::npos);
  CHECK(without.find(';', without.find("== rule a")) == std::string::npos);
  CHECK(without.find("LoadF64    decimal  total_spent") != std::string::npos);
  // Every non-constant instruction appears in some section.
  for (engine::NodeId id = 0; id < c->program.nodes().size(); ++id)
    if (c->program.nodes()[id].op != engine::Op::Const)
      CHECK_MESSAGE(without.find(" %" + std::to_string(id) + "  ") != std::string::npos, id);
}
