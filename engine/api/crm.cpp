// The C++ embedding API (engine/include/crm/crm.hpp): a thin layer over the checker, the
// compiled program and the Runner. Per-customer calls evaluate a one-customer slice of the
// store's facts, so their cost does not grow with the store.
#include "crm/crm.hpp"
#include "engine/api/internal.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <dlfcn.h>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/frame/attributes.hpp"
#include "engine/run/events.hpp"
#include "engine/report/explain.hpp"
#include "engine/eval/compiled_script.hpp"
#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"
#include "engine/store/fact_writer.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/store/timezone.hpp"
#include "lang/checker.hpp"
#include "lang/parser.hpp"

namespace crm {

// A compiled script (checked program, rule graph, program) and the extra customers columns it
// was checked against (from CompileOptions::store).
struct Script::Impl : engine::CompiledScript {
  std::vector<lang::CheckOptions::Extra> extras;
};

// Builds Scripts (the Script constructor is private).
struct ScriptBuilder {
  static Script make(std::shared_ptr<const Script::Impl> impl) { return Script(std::move(impl)); }
};

namespace {

using engine::Facts;

const char* severity_name(lang::Severity s) {
  return s == lang::Severity::Error ? "error" : s == lang::Severity::Warning ? "warning" : "note";
}

Diagnostic to_diagnostic(const lang::Diagnostic& d) {
  Diagnostic out;
  if (d.file) {
    out.file = d.file->path();
    lang::LineCol lc = d.file->line_col(d.span.begin);
    out.line = static_cast<int>(lc.line);
    out.col = static_cast<int>(lc.column);
  }
  out.severity = severity_name(d.severity);
  out.code = d.code;
  out.message = d.message;
  out.hint = d.hint;
  out.rendered = lang::render(d);
  return out;
}

// The directory of libcrm itself (for <libdir>/../share/crm/stdlib).
std::string library_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&library_dir), &info) && info.dli_fname)
    return std::filesystem::path(info.dli_fname).parent_path().string();
  return {};
}

std::vector<std::string> stdlib_dirs(const CompileOptions& options) {
  std::string lib = library_dir();
  return engine::stdlib_search_path(
      lib.empty() ? std::string() : (std::filesystem::path(lib) / CRM_LIB_TO_STDLIB).lexically_normal().string(),
      options.stdlib_dirs);
}

// The API's result of engine::compile_script (diags sorted by it).
CompileResult finish_compile(std::shared_ptr<Script::Impl> impl, const lang::Diagnostics& diags) {
  CompileResult r;
  for (const auto& d : diags.items()) r.diagnostics.push_back(to_diagnostic(d));
  if (!diags.has_errors()) r.script = ScriptBuilder::make(std::move(impl));
  return r;
}

Action to_action(const engine::ActionOut& a) {
  Action o;
  o.date = format_date(a.date);
  o.customer = a.customer;
  o.rule = a.rule_name;
  o.action = lang::action_name(a.kind);
  o.target = a.target;
  if (a.channel) o.channel = lang::channel_name(*a.channel);
  o.status = engine::status_name(a.status);
  return o;
}

Days parse_day(std::string_view s, const engine::TimeZone& tz) {
  if (s.empty()) return engine::today_in(tz);
  auto d = parse_date(s);
  if (!d) throw Error(fmt::format("'{}' is not a date (YYYY-MM-DD)", s));
  return *d;
}

// The SPEC §5 tables a JSON document may fill.
const char* const kTables[] = {"customers", "products", "orders",  "order_items", "subscriptions",
                               "surveys",   "referrals", "events", "tags",        "outbox"};

// The SQL type of an extra customers column, from its first non-null JSON value.
const char* sql_type_of(const nlohmann::json& v) {
  if (v.is_boolean()) return "BOOLEAN";
  if (v.is_number_integer() || v.is_number_unsigned()) return "INTEGER";
  if (v.is_number_float()) return "REAL";
  if (v.is_string() && parse_date(v.get<std::string>()).has_value()) return "DATE";
  return "TEXT";
}

// A JSON value as a stored value (objects and arrays, an event's payload, as JSON text).
engine::Cell json_cell(const nlohmann::json& v) {
  if (v.is_null()) return {};
  if (v.is_boolean()) return int64_t{v.get<bool>() ? 1 : 0};
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_float()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Fills an empty crm store from a JSON document (see Store::from_json).
void fill_from_json(SQLite::Database& db, const nlohmann::json& doc, std::optional<std::string>& timezone) {
  if (!doc.is_object()) throw Error("customers JSON: expected an object whose keys are table names");
  if (!doc.contains("customers")) throw Error("customers JSON: the \"customers\" array is missing");
  SQLite::Transaction tx(db);
  engine::FactWriter writer(db);
  for (const auto& [table, rows] : doc.items()) {
    if (table == "timezone") {
      if (!rows.is_string()) throw Error("customers JSON: \"timezone\" must be a string such as \"Asia/Tokyo\"");
      timezone = rows.get<std::string>();
      continue;
    }
    if (std::find_if(std::begin(kTables), std::end(kTables), [&](const char* t) { return table == t; }) ==
        std::end(kTables)) {
      std::string list;
      for (const char* t : kTables) list += std::string(list.empty() ? "" : ", ") + t;
      throw Error(fmt::format("customers JSON: unknown table '{}' (expected timezone, {})", table, list));
    }
    if (!rows.is_array()) throw Error(fmt::format("customers JSON: \"{}\" must be an array of row objects", table));
    std::set<std::string> columns = writer.columns(table);
    // Keys not in the table: extra attributes for customers, an error elsewhere.
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!rows[i].is_object())
        throw Error(fmt::format("customers JSON: {}[{}] is not an object", table, i));
      for (const auto& [key, value] : rows[i].items()) {
        if (columns.count(key)) continue;
        if (table != "customers")
          throw Error(fmt::format("customers JSON: {}[{}] has the key '{}', which is not a column of {}", table, i, key,
                                  table));
        if (value.is_null()) continue;  // typed by its first non-null value
        writer.add_customer_column(key, sql_type_of(value));
        columns.insert(key);
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<std::string> keys;
      std::vector<engine::Cell> values;
      for (const auto& [key, value] : rows[i].items()) {
        if (!columns.count(key)) continue;  // a key that is null in every row
        keys.push_back(key);
        values.push_back(json_cell(value));
      }
      if (keys.empty()) throw Error(fmt::format("customers JSON: {}[{}] is empty", table, i));
      try {
        writer.insert(table, keys, values);
      } catch (const SQLite::Exception& e) {
        std::string hint;  // SQLite's words, with what to change
        if (std::string_view(e.what()).find("datatype mismatch") != std::string_view::npos)
          hint = " (an \"id\" must be a whole number)";
        else if (std::string_view(e.what()).find("UNIQUE") != std::string_view::npos)
          hint = " (two rows with the same id or key)";
        throw Error(fmt::format("customers JSON: {}[{}]: {}{}", table, i, e.what(), hint));
      }
    }
  }
  tx.commit();
}

}  // namespace

const char* version() { return CRM_VERSION_STRING; }

std::string Action::to_json() const {
  std::string s = "{\"date\":\"" + date + "\",\"customer\":" + std::to_string(customer) + ",\"rule\":";
  engine::append_json_string(s, rule);
  s += ",\"action\":\"" + action + "\",\"target\":";
  engine::append_json_string(s, target);
  s += ",\"channel\":";
  if (channel) engine::append_json_string(s, *channel);
  else s += "null";
  s += ",\"status\":\"" + status + "\"}";
  return s;
}

// ---------------------------------------------------------------- stores

struct Store::Impl {
  std::unique_ptr<engine::Store> sql;  // the store (a ":memory:" SQLite one for JSON)
  bool in_memory = false;
  engine::TimeZone tz;
  Facts facts;
  std::vector<std::string> warnings;
  engine::FactsRowIndex row_index;  // per customer row: its events and outbox entries, for slices
  Facts one;  // the slice of the customer being evaluated (reused: its vectors keep capacity)
  // Runners over `one`, one per script recently used (reset before each call): building a
  // Runner costs about as much as evaluating a customer. The Script copy keeps its program alive.
  struct SliceRunner {
    Script script;
    std::unique_ptr<engine::Runner> runner;
  };
  std::vector<SliceRunner> runners;
  static constexpr size_t kSliceRunners = 8;
  mutable std::mutex mu;

  std::vector<lang::CheckOptions::Extra> facts_extras() const {
    std::lock_guard lock(mu);
    return facts.extra_attributes();
  }

  void load() {
    engine::LoadResult r = sql->load_facts(tz);
    facts = std::move(r.facts);
    warnings = std::move(r.warnings);
    row_index.build(facts);
  }

  size_t row_of(int64_t customer) const {
    auto row = facts.row_of(customer);
    if (!row) throw Error(fmt::format("no customer with id {}", customer));
    return *row;
  }

  // The script can run on these facts: same time zone, and the extra columns it was checked
  // against are here with the same types.
  void check_script(const Script::Impl& s) const {
    if (s.program.timezone && *s.program.timezone != facts.timezone)
      throw Error(fmt::format("the script's timezone \"{}\" differs from the store's \"{}\"; open the store with "
                              "StoreOptions::timezone = \"{}\"",
                              *s.program.timezone, facts.timezone, *s.program.timezone));
    for (const auto& e : s.extras) {
      const auto& needed = s.compiled.required_columns();
      if (std::find(needed.begin(), needed.end(), e.name) == needed.end()) continue;
      auto it = std::find_if(facts.extra.begin(), facts.extra.end(), [&](const auto& x) { return x.name == e.name; });
      if (it == facts.extra.end() || !(it->type == e.type))
        throw Error(fmt::format("the script reads the customers column '{}', which this store does not have (with "
                                "that type); compile the script against this store",
                                e.name));
    }
  }

  // `one` = the facts of row r alone (row 0), sharing the string pool.
  void slice(size_t r) { engine::slice_facts(facts, row_index, r, one); }

  // A fresh-state Runner of `script` over the slice `one`. `subjects`: whether sends get their
  // rendered subject (outbox payloads and explain show it; evaluate's actions do not).
  engine::Runner& slice_runner(const Script& script, bool subjects = true) {
    engine::Runner* runner = nullptr;
    for (auto& r : runners)
      if (&r.script.impl() == &script.impl()) {
        r.runner->reset();
        runner = r.runner.get();
        break;
      }
    if (!runner) {
      if (runners.size() >= kSliceRunners) runners.erase(runners.begin());
      const Script::Impl& p = script.impl();
      runners.push_back({script, std::make_unique<engine::Runner>(p, one)});
      runner = runners.back().runner.get();
      runner->set_timing(false);
    }
    runner->set_render_subjects(subjects);
    return *runner;
  }

  // Writes passed actions to the outbox (and tags), then reloads the facts so later calls see them.
  size_t write(Days d, const std::vector<engine::ActionOut>& actions) {
    std::vector<engine::OutboxRow> rows;
    std::vector<engine::TagChange> tags;
    engine::outbox_writes(actions, rows, tags);
    size_t n = sql->write_actions(d, rows, tags);
    load();
    return n;
  }
};

// ---------------------------------------------------------------- scripts

namespace {
// The checker's options for a compile: stdlib folders, and the store's extra columns as attributes.
lang::CheckOptions check_options(const CompileOptions& options) {
  lang::CheckOptions co;
  co.stdlib_dirs = stdlib_dirs(options);
  if (options.store) {
    co.extra_attributes = options.store->impl().facts_extras();
    co.has_store = true;
  }
  return co;
}
}  // namespace

CompileResult Script::compile_file(const std::string& path, const CompileOptions& options) {
  auto impl = std::make_shared<Impl>();
  lang::CheckOptions co = check_options(options);
  impl->extras = co.extra_attributes;
  lang::Diagnostics diags;
  static_cast<engine::CompiledScript&>(*impl) = engine::compile_script({path}, co, diags);
  return finish_compile(std::move(impl), diags);
}

CompileResult Script::compile_string(std::string_view source, const std::string& name, const CompileOptions& options) {
  auto impl = std::make_shared<Impl>();
  lang::CheckOptions co = check_options(options);
  impl->extras = co.extra_attributes;
  lang::Diagnostics diags;
  auto file = std::make_shared<lang::SourceFile>(name, std::string(source));
  if (source.size() > lang::kMaxSourceBytes) {
    diags.error(file, {}, "E-too-large", fmt::format("the script is larger than {} bytes", lang::kMaxSourceBytes));
  } else {
    std::vector<lang::Module> modules;
    modules.push_back(lang::parse(file, diags));
    if (!diags.has_errors())
      static_cast<engine::CompiledScript&>(*impl) = engine::compile_script(std::move(modules), co, diags);
  }
  diags.sort();
  return finish_compile(std::move(impl), diags);
}

std::vector<std::string> Script::rule_names() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->program.rules) out.push_back(r.name);
  return out;
}

std::optional<std::string> Script::timezone() const { return impl_->program.timezone; }

std::string CompileResult::rendered() const {
  std::string out;
  for (const auto& d : diagnostics) out += d.rendered;
  return out;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

namespace {

engine::TimeZone load_zone(const std::string& name) {
  std::string error;
  auto tz = engine::TimeZone::load(name, error);
  if (!tz) throw Error(error);
  return *tz;
}

}  // namespace

Store Store::open(const std::string& path, const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->sql = engine::open_store(path);
    impl->tz = load_zone(engine::run_timezone_name(options.timezone, impl->sql->meta_timezone()));
    impl->load();
  } catch (const engine::StoreError& e) {
    throw StoreError(e.what());
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: {}", path, e.what()));
  }
  return Store(std::move(impl));
}

Store Store::from_json(std::string_view json, const StoreOptions& options) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("customers JSON: {}", e.what()));
  }
  auto impl = std::make_unique<Impl>();
  impl->in_memory = true;
  try {
    auto memory = std::make_unique<engine::SqliteStore>(engine::SqliteStore::open(":memory:", /*create_if_missing=*/true));
    std::optional<std::string> zone;
    fill_from_json(memory->db(), doc, zone);
    impl->sql = std::move(memory);
    impl->tz = load_zone(engine::run_timezone_name(options.timezone, zone));
    impl->load();
  } catch (const engine::StoreError& e) {
    throw Error(e.what());
  } catch (const SQLite::Exception& e) {
    throw Error(fmt::format("customers JSON: {}", e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("customers JSON: {}", e.what()));
  }
  return Store(std::move(impl));
}

size_t Store::customer_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->facts.rows();
}

std::string Store::timezone() const {
  std::lock_guard lock(impl_->mu);
  return impl_->facts.timezone;
}

std::vector<std::string> Store::warnings() const {
  std::lock_guard lock(impl_->mu);
  return impl_->warnings;
}

std::string Store::today() const { return format_date(engine::today_in(impl_->tz)); }

namespace {

// The actions of `customer` on `date` (Store::evaluate), lock held.
std::vector<engine::ActionOut> evaluate_one(Store::Impl& s, const Script& script, int64_t customer, std::string_view date) {
  Days d = parse_day(date, s.tz);
  s.check_script(script.impl());
  s.slice(s.row_of(customer));
  engine::Runner& runner = s.slice_runner(script, /*subjects=*/false);
  runner.load_history_from_outbox();
  return runner.evaluate_day(d);
}

}  // namespace

std::vector<Action> Store::evaluate(const Script& script, int64_t customer, std::string_view date) const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  std::vector<engine::ActionOut> actions = evaluate_one(s, script, customer, date);
  std::vector<Action> out;
  out.reserve(actions.size());
  for (const auto& a : actions) out.push_back(to_action(a));
  return out;
}

namespace detail {

void evaluate_json(const Store& store, const Script& script, int64_t customer, std::string_view date, std::string& out) {
  Store::Impl& s = store.impl();
  std::vector<engine::ActionOut> actions;
  {
    std::lock_guard lock(s.mu);
    actions = evaluate_one(s, script, customer, date);
  }
  // The same text as Action::to_json, written straight from the engine's actions.
  out.clear();
  out += '[';
  char num[24];
  for (size_t i = 0; i < actions.size(); ++i) {
    const engine::ActionOut& a = actions[i];
    if (i) out += ',';
    out += "{\"date\":\"";
    out += format_date(a.date);
    out += "\",\"customer\":";
    out.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, a.customer).ptr - num));
    out += ",\"rule\":";
    engine::append_json_string(out, a.rule_name);
    out += ",\"action\":\"";
    out += lang::action_name(a.kind);
    out += "\",\"target\":";
    engine::append_json_string(out, a.target);
    out += ",\"channel\":";
    if (a.channel) engine::append_json_string(out, lang::channel_name(*a.channel));
    else out += "null";
    out += ",\"status\":\"";
    out += engine::status_name(a.status);
    out += "\"}";
  }
  out += ']';
}

}  // namespace detail

std::vector<Action> Store::evaluate_event(const Script& script, const Event& event, bool write) {
  Impl& s = *impl_;
  const Script::Impl& p = script.impl();
  std::lock_guard lock(s.mu);
  Days d = parse_day(event.date, s.tz);
  if (event.type.empty()) throw Error("the event has no type (purchase, signup, cancel_request, ...)");
  s.check_script(p);
  s.slice(s.row_of(event.customer));
  std::vector<engine::Occurrence> occs;
  std::string error;
  if (!engine::realtime_occurrences(s.one, event.customer, d, event.type, event.payload, event.id, occs, error))
    throw Error(error);
  engine::Runner& runner = s.slice_runner(script);
  runner.load_history_from_outbox();
  engine::Frame frame = engine::compute_frame(s.one, d, runner.columns());
  std::vector<engine::ActionOut> actions = runner.evaluate_occurrences(d, frame, occs);
  if (write) {
    try {
      s.write(d, actions);
    } catch (const engine::StoreError& e) {
      throw StoreError(e.what());
    } catch (const SQLite::Exception& e) {
      throw StoreError(e.what());
    }
  }
  std::vector<Action> out;
  for (const auto& a : actions) out.push_back(to_action(a));
  return out;
}

RunResult Store::run(const Script& script, std::string_view from, std::string_view to, bool dry_run,
                     const ActionCallback& on_action) {
  Impl& s = *impl_;
  const Script::Impl& p = script.impl();
  std::lock_guard lock(s.mu);
  Days f = parse_day(from, s.tz), t = parse_day(to, s.tz);
  if (t < f) throw Error(fmt::format("the run's range ends ({}) before it starts ({})", to, from));
  s.check_script(p);
  RunResult result;
  try {
    engine::RunLock run_lock;
    if (!dry_run) run_lock = s.sql->lock_runs();
    engine::Runner runner(p, s.facts);
    runner.load_history_from_outbox();
    engine::RunOptions options;
    options.from = f;
    options.to = t;
    options.dry_run = dry_run;
    options.on_action = [&](const engine::ActionOut& a) {
      result.actions++;
      if (a.status == engine::Status::Sent) result.sent++;
      if (on_action) on_action(to_action(a));
    };
    options.on_day_done = [&](Days, size_t written) {
      result.days++;
      result.written += static_cast<int64_t>(written);
    };
    engine::run_days(runner, dry_run ? nullptr : s.sql.get(), options);
    if (!dry_run) s.load();
  } catch (const engine::StoreError& e) {
    throw StoreError(e.what());
  } catch (const SQLite::Exception& e) {
    throw StoreError(e.what());
  }
  return result;
}

SimulationSummary Store::simulate(const Script& script, std::string_view from, std::string_view to,
                                  const ActionCallback& on_action) const {
  Impl& s = *impl_;
  const Script::Impl& p = script.impl();
  std::lock_guard lock(s.mu);
  Days f = parse_day(from, s.tz), t = parse_day(to, s.tz);
  if (t < f) throw Error(fmt::format("the simulation's range ends ({}) before it starts ({})", to, from));
  s.check_script(p);
  engine::Runner runner(p, s.facts);
  runner.load_history_from_outbox();
  engine::SimulateOptions options;
  options.from = f;
  options.to = t;
  if (on_action)
    options.on_day = [&](Days, const std::vector<engine::ActionOut>& actions) {
      for (const auto& a : actions) on_action(to_action(a));
    };
  engine::SimulationResult r = engine::simulate(runner, p.program, s.facts, options);
  SimulationSummary out;
  out.days = static_cast<int64_t>(r.days.size());
  out.sent = r.total[static_cast<size_t>(engine::Status::Sent)];
  out.held_out = r.total[static_cast<size_t>(engine::Status::HeldOut)];
  out.blocked_consent = r.total[static_cast<size_t>(engine::Status::BlockedConsent)];
  out.blocked_cap = r.total[static_cast<size_t>(engine::Status::BlockedCap)];
  out.reached = r.reached;
  out.touched = r.touched;
  out.cost = r.cost;
  return out;
}

namespace {

// Runs the traced day of `customer` on the store's one-customer slice (lock held).
std::vector<engine::RuleTrace> trace(Store::Impl& s, const Script& script, int64_t customer, Days d) {
  const Script::Impl& p = script.impl();
  s.check_script(p);
  s.slice(s.row_of(customer));
  engine::Runner& runner = s.slice_runner(script);
  runner.load_history_from_outbox();
  std::vector<engine::RuleTrace> traces;
  runner.evaluate_day(d, customer, &traces);
  return traces;
}

}  // namespace

std::vector<RuleExplanation> Store::explain(const Script& script, int64_t customer, std::string_view date) const {
  Impl& s = *impl_;
  const Script::Impl& p = script.impl();
  std::lock_guard lock(s.mu);
  Days d = parse_day(date, s.tz);
  std::vector<RuleExplanation> out;
  for (const auto& t : trace(s, script, customer, d)) {
    const lang::FlatRule& r = p.program.rules[t.rule];
    RuleExplanation e;
    e.rule = r.name;
    e.fired = t.fired;
    if (t.evaluated) e.condition = engine::truth_name(t.condition);
    e.reason = engine::explain_reason(t, r);
    for (const auto& a : t.actions) e.actions.push_back(to_action(a));
    e.tree = engine::explain_tree(t, 0);
    out.push_back(std::move(e));
  }
  return out;
}

std::string Store::explain_text(const Script& script, int64_t customer, std::string_view date,
                                std::string_view format) const {
  if (format != "text" && format != "jsonl") throw Error(fmt::format("explain format '{}': expected text or jsonl", format));
  Impl& s = *impl_;
  const Script::Impl& p = script.impl();
  std::lock_guard lock(s.mu);
  Days d = parse_day(date, s.tz);
  auto traces = trace(s, script, customer, d);
  return format == "jsonl" ? engine::explain_jsonl(p.program, traces, customer, d)
                           : engine::explain_text(p.program, traces, customer, d);
}

}  // namespace crm
