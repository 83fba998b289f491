// The crm embedding API (SPEC §8, docs/embedding.md): compile a .crm script, open a store or
// feed customers from memory, evaluate one customer or an event, run a batch or a simulation,
// explain a decision. This header exposes only the standard library: the engine, PEGTL, Boost
// and SQLiteCpp stay behind the pimpl.
//
// Errors: diagnostics of a script are values (CompileResult); everything else that goes wrong
// throws crm::Error (malformed JSON, an unknown customer, a bad date) or its subclass
// crm::StoreError (a store that cannot be opened, read or written). The C API (crm.h) turns
// those into error codes.
//
// Thread safety: a compiled Script is immutable and may be used by any number of threads at
// once. A Store may be shared between threads too: its calls take the store's lock, so they
// run one at a time on one Store; give each thread its own Store to evaluate in parallel.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crm/version.h"

#if defined(_WIN32)
#define CRM_API __declspec(dllexport)
#else
#define CRM_API __attribute__((visibility("default")))
#endif

namespace crm {

// "0.1.0": the version of the library actually loaded (CRM_VERSION_STRING is the header's).
CRM_API const char* version();

// Anything that is not a script diagnostic: bad input, store errors, unknown customers.
class CRM_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A store that cannot be opened, read or written (a crm::Error too).
class CRM_API StoreError : public Error {
 public:
  using Error::Error;
};

// One diagnostic of a script, as `crm check` prints it.
struct Diagnostic {
  std::string file;      // "" when not tied to a file
  int line = 0, col = 0; // 1-based; 0 when not tied to a position
  std::string severity;  // "error", "warning" or "note"
  std::string code;      // stable, e.g. "E-unknown-name"
  std::string message;
  std::string hint;      // "did you mean 'purchase_count'?", may be ""
  std::string rendered;  // the compiler-style text with the source line and caret
};

// One action (SPEC §7): the fields of a `--format jsonl` line.
struct CRM_API Action {
  std::string date;      // YYYY-MM-DD
  int64_t customer = 0;
  std::string rule;      // qualified rule name
  std::string action;    // send | coupon | points | offer | tag | untag
  std::string target;    // message, coupon, offer or tag name; points in decimal digits
  std::optional<std::string> channel;  // sends only: email | line | sms | push | dm
  std::string status;    // sent | held_out | blocked_consent | blocked_cap
  // {"date":"2026-11-23","customer":42,"rule":"check_in","action":"send",...} (SPEC §7 key order)
  std::string to_json() const;
};

// Why one rule did or did not fire (`crm explain`).
struct RuleExplanation {
  std::string rule;
  bool fired = false;
  std::optional<std::string> condition;  // "true", "false", "unknown"; none when not evaluated
  std::string reason;                    // "FIRED", "not fired: the condition is false", ...
  std::vector<Action> actions;           // with their final statuses
  std::string tree;                      // the value of every sub-condition, indented text
};

class Store;

struct CompileOptions {
  // Extra customers columns of this store become attributes (as `crm check --db`).
  const Store* store = nullptr;
  // Where `import "std/NAME"` looks first; then $CRM_STDLIB, <libdir>/../share/crm/stdlib,
  // the install prefix and the source tree.
  std::vector<std::string> stdlib_dirs;
  // Imports are confined to the script's folder tree and the standard library (docs/hardening.md);
  // true lets them reach any file, as `crm --allow-imports-outside` does.
  bool allow_imports_outside = false;
};

class CompileResult;

// A checked and compiled script. Immutable: copies share it, and any number of threads may
// use one Script at once.
class CRM_API Script {
 public:
  static CompileResult compile_file(const std::string& path, const CompileOptions& options = {});
  static CompileResult compile_string(std::string_view source, const std::string& name = "<string>",
                                      const CompileOptions& options = {});

  std::vector<std::string> rule_names() const;   // in declaration order
  std::optional<std::string> timezone() const;   // the script's `timezone`, if any

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Script(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
  friend class CompileResult;
  friend struct ScriptBuilder;
};

class CRM_API CompileResult {
 public:
  bool ok() const { return script.has_value(); }
  std::optional<Script> script;          // set when there is no error
  std::vector<Diagnostic> diagnostics;   // errors and warnings, sorted by position
  std::string rendered() const;          // every diagnostic as `crm check` prints it
};

struct StoreOptions {
  // The zone dates are taken in (orders' timestamps, "today"). Default: the store's meta
  // timezone (SQLite), the JSON's "timezone", else UTC. A script whose `timezone` differs is
  // refused at evaluation.
  std::optional<std::string> timezone;
};

struct Event {
  int64_t customer = 0;
  std::string type;      // purchase, first_purchase, signup, or any events.type
  std::string payload;   // a JSON object ("" = none); a purchase reads order_id, total, skus
  std::optional<int64_t> id;  // the order id (purchase) or the events row id
  std::string date;      // YYYY-MM-DD; "" = today in the store's time zone
};

struct RunResult {
  int64_t days = 0;
  int64_t actions = 0;  // every status
  int64_t sent = 0;     // status sent
  int64_t written = 0;  // new outbox rows (real runs)
};

struct SimulationSummary {
  int64_t days = 0;
  int64_t sent = 0, held_out = 0, blocked_consent = 0, blocked_cap = 0;
  int64_t reached = 0;  // distinct customers with a passed send
  int64_t touched = 0;  // distinct customers with any passed action
  double cost = 0;      // of passed sends
};

using ActionCallback = std::function<void(const Action&)>;

// Customers and their facts, loaded once: from a SQLite store file, or from memory (JSON).
// Evaluations are dry runs unless said otherwise: they read the store's outbox history
// (once / every / after / caps) but write nothing.
class CRM_API Store {
 public:
  // Opens a crm SQLite store (SPEC §5) and loads its facts.
  static Store open(const std::string& path, const StoreOptions& options = {});
  // Customers and facts from memory: a JSON object whose keys are table names of SPEC §5
  // ("customers" required; "orders", "order_items", "products", "subscriptions", "surveys",
  // "referrals", "events", "tags", "outbox" optional), each an array of row objects. Extra
  // keys of customer rows become extra attributes. See docs/embedding.md.
  static Store from_json(std::string_view json, const StoreOptions& options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  size_t customer_count() const;
  std::string timezone() const;
  std::vector<std::string> warnings() const;  // odd data found while loading
  std::string today() const;                  // YYYY-MM-DD in the store's zone

  // The actions of `customer` on `date` (YYYY-MM-DD, "" = today), as a dry run of that day
  // would give them for this customer (all statuses, in evaluation order).
  std::vector<Action> evaluate(const Script& script, int64_t customer, std::string_view date = {}) const;
  // The real-time path (`crm event`): the `on TYPE` rules and day-0 journey steps for one
  // occurrence. With write, the passed actions go to the outbox (SQLite stores only).
  std::vector<Action> evaluate_event(const Script& script, const Event& event, bool write = false);
  // The days [from, to] over every customer. A real run (dry_run false) writes each day's
  // passed actions to the outbox (SQLite stores only). `on_action` gets every action.
  RunResult run(const Script& script, std::string_view from, std::string_view to, bool dry_run,
                const ActionCallback& on_action = {});
  // A dry run over [from, to] with history kept in memory, summed up (`crm simulate`).
  SimulationSummary simulate(const Script& script, std::string_view from, std::string_view to,
                             const ActionCallback& on_action = {}) const;
  // Why each rule did or did not fire for `customer` on `date` (rules in evaluation order).
  std::vector<RuleExplanation> explain(const Script& script, int64_t customer, std::string_view date = {}) const;
  // The same as `crm explain` prints it (format "text" or "jsonl").
  std::string explain_text(const Script& script, int64_t customer, std::string_view date = {},
                           std::string_view format = "text") const;

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm
