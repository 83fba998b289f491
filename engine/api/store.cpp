// The C++ embedding API's stores (engine/include/crm/crm.hpp): a thin layer over the store, the
// facts and the Runner. Per-customer calls evaluate a one-customer slice of the store's facts,
// so their cost does not grow with the store. Scripts: script.cpp; JSON stores: json_store.cpp.
#include "crm/crm.hpp"
#include "engine/api/internal.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>

#include "engine/frame/attributes.hpp"
#include "engine/run/events.hpp"
#include "engine/report/explain.hpp"
#include "engine/eval/compiled_script.hpp"
#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/store/timezone.hpp"
#include "lang/checker.hpp"

namespace crm {

namespace {

using engine::Facts;

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
    engine::RunLock run_lock = sql->lock_runs();  // a real-time event must not race a run's caps
    size_t n = sql->write_actions(d, rows, tags);
    load();
    return n;
  }
};

namespace detail {
std::vector<lang::CheckOptions::Extra> store_extras(const Store& store) { return store.impl().facts_extras(); }
}  // namespace detail

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

nlohmann::json detail::parse_json_limited(std::string_view text) {
  // A SAX handler over the DOM builder that counts open objects and arrays: the parser itself
  // is iterative, so the limit is enforced before any deep value exists.
  struct Limited : nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
    using Base = nlohmann::detail::json_sax_dom_parser<nlohmann::json>;
    using Base::Base;
    int depth = 0;
    bool deeper() {
      if (++depth > kMaxJsonDepth)
        throw nlohmann::json::other_error::create(
            599, fmt::format("nested more than {} levels deep (the limit for JSON input)", kMaxJsonDepth), nullptr);
      return true;
    }
    bool start_object(std::size_t n) { return deeper() && Base::start_object(n); }
    bool start_array(std::size_t n) { return deeper() && Base::start_array(n); }
    bool end_object() { --depth; return Base::end_object(); }
    bool end_array() { --depth; return Base::end_array(); }
  };
  nlohmann::json out;
  Limited sax(out, /*allow_exceptions=*/true);
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  return out;
}

Store Store::from_json(std::string_view json, const StoreOptions& options) {
  nlohmann::json doc;
  try {
    doc = detail::parse_json_limited(json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("customers JSON: {}", e.what()));
  }
  auto impl = std::make_unique<Impl>();
  impl->in_memory = true;
  try {
    auto memory = std::make_unique<engine::SqliteStore>(engine::SqliteStore::open(":memory:", /*create_if_missing=*/true));
    std::optional<std::string> zone;
    detail::fill_from_json(memory->db(), doc, zone);
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
