// The checker: resolves imports, names and types of a set of parsed modules (SPEC §3-4) and
// flattens campaigns and journeys into FlatRules, the input of the rule graph and the compiler.
#pragma once
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lang/ast.hpp"
#include "lang/diagnostic.hpp"

namespace crm::lang {

// How deep an expression may reach through the definitions it names (`let a = b + 1`, `let b =
// c * 2`, ...: each name adds the depth of its definition). The compiler and `crm explain` walk
// definitions recursively, so the checker refuses what they could not walk (E-too-deep) instead
// of letting them overflow the stack; no real script comes near it.
constexpr int kMaxDefinitionDepth = 1000;

struct CheckOptions {
  // Extra columns of the store's customers table ("plan", "prefecture", ...), usable as
  // attributes. Without a store, an unknown name is an error whose hint mentions --db.
  struct Extra {
    std::string name;
    Type type;
  };
  std::vector<Extra> extra_attributes;
  // True when a store was given (--db): an unknown name's hint then no longer suggests --db.
  bool has_store = false;
  // With a store: whether it has a fitted lifetime model (table `models`, `crm fit`); without
  // one, p_alive, expected_purchases(..) and the like warn W-no-model.
  bool store_has_models = true;
  // Where `import "std/NAME"` looks for NAME.crm, in order (installed path, source tree).
  std::vector<std::string> stdlib_dirs;
  // An import must resolve (symlinks followed) inside the current folder or the folder of a
  // file named by the user (or below them), or inside a stdlib folder; true allows any file
  // (--allow-imports-outside).
  bool allow_imports_outside = false;
};

// A rule after flattening: a top-level rule, a rule inside campaigns, or one journey step.
struct FlatRule {
  std::string name;  // qualified: "check_in", "winback.dormant_90", "welcome:12", "aftercare.day_7"
  SourcePtr file;
  Span span;               // of the rule (or journey step)
  Span name_span;
  size_t order = 0;        // declaration order across all modules (imports first)
  std::string event;       // "" for a daily rule; "purchase", "first_purchase", "signup", ...
  const Rule* rule = nullptr;        // set for rules
  const Journey* journey = nullptr;  // set for journey steps
  int step = -1;                     // index into journey->steps
  int64_t journey_day = -1;
  std::vector<std::string> campaigns;  // enclosing campaign names, outermost first

  // Conditions ANDed together: campaign audiences (outermost first), then the journey's or
  // rule's own `when`. A journey step adds `not unless` and `not exit_when` separately.
  std::vector<const Expr*> conditions;
  const Expr* unless = nullptr;     // journey step: skip when TRUE
  const Expr* exit_when = nullptr;  // journey: the instance ends when TRUE
  const std::vector<Action>* actions = nullptr;

  // Effective options: campaign defaults, overridden by the rule's own.
  enum class Dedupe { Once, OncePer, Every } dedupe = Dedupe::Once;
  const Expr* once_per = nullptr;
  int64_t every_days = 0;
  int64_t priority = 0;
  struct After {
    std::string rule;  // qualified name of the rule it waits for
    int64_t days = -1; // -1: same day counts
    Span span;
  };
  std::vector<After> after;
  std::optional<int32_t> from, until;  // days since epoch, inclusive
  double holdout_pct = 0;              // 0..100
  std::string holdout_key;             // the campaign (or rule) name hashed with the customer id

  // For the rule graph.
  std::vector<std::string> uses_definitions;  // let/segment names read (directly)
  std::vector<std::string> reads_tags;        // literal tag names read: has_tag("x"), "x" in tags, also through definitions
  std::vector<std::string> writes_tags;       // tag / untag actions
};

struct FlatLimit {
  const Limit* limit = nullptr;
  std::string campaign;  // "" = every send; else only sends of rules inside this campaign
  SourcePtr file;
};

// The checked program. Owns its modules; every pointer points into them.
struct CheckedProgram {
  std::vector<Module> modules;                 // imports first, then the files given, in order
  std::vector<const Definition*> definitions;  // dependency order: each after those it uses
  std::vector<const Message*> messages;
  std::vector<FlatRule> rules;                 // declaration order
  std::vector<FlatLimit> limits;
  std::optional<std::string> timezone;

  // Lookups by name, O(1) through the index built by the checker (a linear scan when the
  // vectors were changed after checking). The first of duplicates wins.
  const Definition* find_definition(const std::string& name) const;
  const Message* find_message(const std::string& name) const;
  const FlatRule* find_rule(const std::string& qualified) const;

  // Name -> position in definitions / messages / rules; filled by build_index().
  struct Index {
    std::unordered_map<std::string, size_t> definitions, messages, rules;
    size_t sizes[3] = {0, 0, 0};
  } index;
  void build_index();
};

// Loads the given files and everything they import, parses and checks them. Diagnostics
// (errors and warnings) go to `diags`; the program is usable only when !diags.has_errors().
CheckedProgram load_and_check(const std::vector<std::string>& paths, const CheckOptions& options, Diagnostics& diags);

// Checks already-parsed modules (the embedding API compiles scripts given as strings).
// `modules` must be in import order; imports inside them are resolved from disk as usual.
CheckedProgram check(std::vector<Module> modules, const CheckOptions& options, Diagnostics& diags);

}  // namespace crm::lang
