// Internal to the checker (checker.cpp, typing.cpp, lint.cpp, loader.cpp): the symbol tables
// and the expression typer shared by the checking stages. Not part of the public front-end API.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lang/checker.hpp"
#include "lang/builtins.hpp"

namespace crm::lang::detail {

// Expressions nested deeper than this (e.g. a chain of 100,000 `+`) are refused with an error
// instead of recursing further: it keeps the typer and the folder inside the default stack.
constexpr int kMaxExprDepth = 2000;

// Modules after import resolution, imports first; `given[i]` is true for the files named by
// the user (warnings about unused declarations are only given for those).
struct LoadedModules {
  std::vector<Module> modules;
  std::vector<bool> given;
  // imports[i][j]: module i imports module j, directly or through others (j < i). A definition
  // in module i overrides one of the same name in module j (docs/language.md, parameters).
  std::vector<std::vector<bool>> imports;
};

// loader.cpp: reads, parses and orders `paths` and everything they import.
LoadedModules load_modules(const std::vector<std::string>& paths, const CheckOptions& options, Diagnostics& diags);
// loader.cpp: orders already-parsed modules and loads their imports from disk.
LoadedModules resolve_imports(std::vector<Module> roots, const CheckOptions& options, Diagnostics& diags);
// checker.cpp: every checking stage over loaded modules.
CheckedProgram check_loaded(LoadedModules loaded, const CheckOptions& options, Diagnostics& diags);

// check_tests.cpp: the extra customer columns set by the fixtures of the tests in the given
// modules (docs/testing.md), typed from their literals, that `options` does not already have;
// reports columns whose types disagree or that name built-in attributes.
std::vector<CheckOptions::Extra> fixture_columns(const std::vector<Module>& modules, const std::vector<bool>& given,
                                                 const CheckOptions& options, Diagnostics& diags);
// check_tests.cpp: the test blocks of the given modules against the checked program.
void check_tests(const CheckedProgram& prog, const std::vector<bool>& given, Diagnostics& diags);

// Where an expression is evaluated, which decides the attributes in scope.
enum class Where {
  Customer,  // daily rules, definitions, campaign audiences, message subjects
  Order,     // rules and journeys `on purchase` / `on first_purchase`: order.* in scope
  Event,     // other `on EVENT` rules: event.type and event.<field> in scope
};
Where where_for_event(const std::string& event);

struct DefEntry {
  Definition* def = nullptr;
  SourcePtr file;
  size_t module = 0;    // index in LoadedModules::modules
  bool given = false;
  bool typed = false;   // false while not yet typed (or on a cycle): references are <error>
  bool used = false;
  Type type;
  std::vector<std::string> uses;       // definitions it reads directly
  std::set<std::string> tags;          // tags it reads, directly or through other definitions
};

struct MsgEntry {
  Message* msg = nullptr;
  SourcePtr file;
  bool given = false;
  bool used = false;
};

// What one typed expression read: definitions (directly) and literal tag names.
struct ExprUse {
  std::set<std::string> defs;
  std::set<std::string> tags;
};

// Types expressions in place (Expr::type on every node) and reports E-type and name errors.
class Typer {
 public:
  Typer(const CheckOptions& options, Diagnostics& diags, std::map<std::string, DefEntry>& defs);

  // Types `e`; `use` (optional) collects what it reads.
  Type type(Expr& e, const SourcePtr& file, Where where, ExprUse* use);
  // Types a condition, which must be bool: `what` names it in the error ("condition", ...).
  void condition(Expr& e, const SourcePtr& file, Where where, ExprUse* use, const char* what);
  // Resolves a placeholder or other bare name outside an expression; marks definitions used.
  std::optional<Type> lookup(const std::string& name, ExprUse* use);
  // Every name usable in `where` (for "did you mean").
  std::vector<std::string> candidates(Where where) const;
  // Names whose let/segment failed to parse: using them reports nothing more (no cascade).
  void set_unparsed_definitions(std::set<std::string> names) { unparsed_ = std::move(names); }

 private:
  struct Ctx {
    SourcePtr file;
    Where where;
    ExprUse* use;
    int depth = 0;
    bool too_deep = false;
  };
  Type visit(Expr& e, Ctx& c);
  Type visit_inner(Expr& e, Ctx& c);
  Type name(Expr& e, Ctx& c);
  Type call(Expr& e, Ctx& c);
  Type list(Expr& e, Ctx& c);
  Type unary(Expr& e, Ctx& c);
  Type binary(Expr& e, Ctx& c);
  Type compare(Expr& e, Ctx& c, Type a, Type b);
  Type membership(Expr& e, Ctx& c, Type a, Type b);
  Type arithmetic(Expr& e, Ctx& c, Type a, Type b);
  void type_error(Ctx& c, Span span, std::string message, std::string hint = {});

  const CheckOptions& options_;
  Diagnostics& diags_;
  std::map<std::string, DefEntry>& defs_;
  std::set<std::string> unparsed_;
};

// lint.cpp: compile-time folding of a condition to "can it ever be TRUE?".
struct NeverTrue {
  Span span;           // the sub-expression responsible
  std::string reason;  // "purchase_count is never negative", "its condition is always false"
};
std::optional<NeverTrue> never_true(const Expr& condition);
// lint.cpp: W-never-fires, W-unused-message, W-unused-definition. `broken` holds the files
// that had errors before checking (syntax errors, unreadable imports): they get no lint.
void lint(const CheckedProgram& program, const std::map<std::string, DefEntry>& defs,
          const std::map<std::string, MsgEntry>& msgs, const std::set<const SourceFile*>& broken,
          Diagnostics& diags);

}  // namespace crm::lang::detail
