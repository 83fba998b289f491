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
#include "engine/eval/program.hpp"
#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/store/timezone.hpp"
#include "lang/checker.hpp"
#include "lang/parser.hpp"

namespace crm {

struct Script::Impl {
  lang::CheckedProgram program;
  engine::RuleGraph graph;
  engine::Program compiled;
  // Extra customers columns the script was checked against (from CompileOptions::store).
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
  std::vector<std::string> dirs = options.stdlib_dirs;
  if (const char* env = std::getenv("CRM_STDLIB"); env && *env) dirs.emplace_back(env);
  std::string lib = library_dir();
  if (!lib.empty()) dirs.push_back((std::filesystem::path(lib) / CRM_LIB_TO_STDLIB).lexically_normal().string());
  dirs.emplace_back(CRM_STDLIB_INSTALL_DIR);
  dirs.emplace_back(CRM_STDLIB_SOURCE_DIR);
  return dirs;
}

CompileResult finish_compile(std::shared_ptr<Script::Impl> impl, lang::Diagnostics& diags) {
  if (!diags.has_errors()) impl->graph = engine::build_rule_graph(impl->program, diags);
  if (!diags.has_errors()) impl->compiled = engine::compile_program(impl->program, diags);
  diags.sort();
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

// Row ranges of a CSR layout.
template <class T>
void copy_range(std::vector<T>& out, const std::vector<T>& in, size_t b, size_t e) {
  out.assign(in.begin() + static_cast<std::ptrdiff_t>(b), in.begin() + static_cast<std::ptrdiff_t>(e));
}

// The SPEC §5 tables a JSON document may fill.
const char* const kTables[] = {"customers", "products", "orders",  "order_items", "subscriptions",
                               "surveys",   "referrals", "events", "tags",        "outbox"};

std::string quote_ident(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The SQL type of an extra customers column, from its first non-null JSON value.
const char* sql_type_of(const nlohmann::json& v) {
  if (v.is_boolean()) return "BOOLEAN";
  if (v.is_number_integer() || v.is_number_unsigned()) return "INTEGER";
  if (v.is_number_float()) return "REAL";
  if (v.is_string() && parse_date(v.get<std::string>()).has_value()) return "DATE";
  return "TEXT";
}

void bind_json(SQLite::Statement& st, int i, const nlohmann::json& v) {
  if (v.is_null()) st.bind(i);
  else if (v.is_boolean()) st.bind(i, v.get<bool>() ? 1 : 0);
  else if (v.is_number_integer()) st.bind(i, v.get<int64_t>());
  else if (v.is_number_unsigned()) st.bind(i, static_cast<int64_t>(v.get<uint64_t>()));
  else if (v.is_number_float()) st.bind(i, v.get<double>());
  else if (v.is_string()) st.bind(i, v.get<std::string>());
  else st.bind(i, v.dump());  // objects and arrays (an event's payload) as JSON text
}

// Fills an empty crm store from a JSON document (see Store::from_json).
void fill_from_json(SQLite::Database& db, const nlohmann::json& doc, std::optional<std::string>& timezone) {
  if (!doc.is_object()) throw Error("customers JSON: expected an object whose keys are table names");
  if (!doc.contains("customers")) throw Error("customers JSON: the \"customers\" array is missing");
  SQLite::Transaction tx(db);
  for (const auto& [table, rows] : doc.items()) {
    if (table == "timezone") {
      if (!rows.is_string()) throw Error("customers JSON: \"timezone\" must be a string such as \"Asia/Tokyo\"");
      timezone = rows.get<std::string>();
      continue;
    }
    const std::string& name = table;  // clang before 16 cannot capture a structured binding
    if (std::find_if(std::begin(kTables), std::end(kTables), [&](const char* t) { return name == t; }) ==
        std::end(kTables)) {
      std::string list;
      for (const char* t : kTables) list += std::string(list.empty() ? "" : ", ") + t;
      throw Error(fmt::format("customers JSON: unknown table '{}' (expected timezone, {})", table, list));
    }
    if (!rows.is_array()) throw Error(fmt::format("customers JSON: \"{}\" must be an array of row objects", table));
    std::set<std::string> columns;
    {
      SQLite::Statement q(db, "SELECT name FROM pragma_table_info(?)");
      q.bind(1, table);
      while (q.executeStep()) columns.insert(q.getColumn(0).getString());
    }
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
        db.exec("ALTER TABLE customers ADD COLUMN " + quote_ident(key) + " " + sql_type_of(value));
        columns.insert(key);
      }
    }
    std::map<std::string, SQLite::Statement> inserts;  // by key list
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string keys, marks;
      for (const auto& [key, value] : rows[i].items()) {
        if (!columns.count(key)) continue;  // a key that is null in every row
        keys += (keys.empty() ? "" : ",") + quote_ident(key);
        marks += marks.empty() ? "?" : ",?";
      }
      if (keys.empty()) throw Error(fmt::format("customers JSON: {}[{}] is empty", table, i));
      auto it = inserts.find(keys);
      if (it == inserts.end())
        it = inserts.emplace(keys, SQLite::Statement(db, "INSERT INTO " + table + " (" + keys + ") VALUES (" + marks + ")"))
                 .first;
      SQLite::Statement& st = it->second;
      st.reset();
      st.clearBindings();
      int k = 1;
      for (const auto& [key, value] : rows[i].items())
        if (columns.count(key)) bind_json(st, k++, value);
      try {
        st.exec();
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
  // Per customer row: its events and outbox entries (indexes), for one-customer slices.
  std::vector<uint32_t> event_offsets, event_index, outbox_offsets, outbox_index;
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
    size_t rows = facts.rows();
    auto index = [&](size_t n, auto row_of, std::vector<uint32_t>& offsets, std::vector<uint32_t>& idx) {
      offsets.assign(rows + 1, 0);
      for (size_t i = 0; i < n; ++i)
        if (int64_t r = row_of(i); r >= 0) offsets[static_cast<size_t>(r) + 1]++;
      for (size_t r = 0; r < rows; ++r) offsets[r + 1] += offsets[r];
      idx.assign(offsets[rows], 0);
      std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
      for (size_t i = 0; i < n; ++i)
        if (int64_t r = row_of(i); r >= 0) idx[fill[static_cast<size_t>(r)]++] = static_cast<uint32_t>(i);
    };
    index(facts.event_id.size(), [&](size_t i) { return static_cast<int64_t>(facts.event_row[i]); }, event_offsets,
          event_index);
    index(facts.outbox.size(), [&](size_t i) { return facts.outbox[i].row; }, outbox_offsets, outbox_index);
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
  void slice(size_t r) {
    const Facts& f = facts;
    Facts& s = one;
    s.strings = f.strings;
    s.timezone = f.timezone;
    s.customer_id.assign(1, f.customer_id[r]);
    s.name.assign(1, f.name[r]);
    s.email.assign(1, f.email[r]);
    s.birthday.assign(1, f.birthday[r]);
    s.created_at.assign(1, f.created_at[r]);
    for (size_t k = 0; k < engine::kOptInCount; ++k) s.opt_in[k].assign(1, f.opt_in[k][r]);
    s.referred_by.assign(1, f.referred_by[r]);
    s.referred_by_valid.assign(1, f.referred_by_valid[r]);
    s.extra.resize(f.extra.size());
    for (size_t k = 0; k < f.extra.size(); ++k) {
      const auto& e = f.extra[k];
      auto& o = s.extra[k];
      o.name = e.name;
      o.type = e.type;
      o.declared_type = e.declared_type;
      if (e.i64.empty()) o.i64.clear(); else o.i64.assign(1, e.i64[r]);
      if (e.f64.empty()) o.f64.clear(); else o.f64.assign(1, e.f64[r]);
      o.valid.assign(1, e.valid[r]);
    }
    // Orders and their items.
    size_t o0 = f.order_offsets[r], o1 = f.order_offsets[r + 1];
    s.order_offsets = {0, static_cast<uint32_t>(o1 - o0)};
    copy_range(s.order_id, f.order_id, o0, o1);
    copy_range(s.order_day, f.order_day, o0, o1);
    copy_range(s.order_local_seconds, f.order_local_seconds, o0, o1);
    copy_range(s.order_total, f.order_total, o0, o1);
    copy_range(s.order_status, f.order_status, o0, o1);
    s.order_row.assign(o1 - o0, 0);
    size_t i0 = f.item_offsets[o0], i1 = f.item_offsets[o1];
    s.item_offsets.resize(o1 - o0 + 1);
    for (size_t o = o0; o <= o1; ++o) s.item_offsets[o - o0] = static_cast<uint32_t>(f.item_offsets[o] - i0);
    copy_range(s.item_sku, f.item_sku, i0, i1);
    s.orders_by_day.resize(o1 - o0);
    for (size_t k = 0; k < o1 - o0; ++k) s.orders_by_day[k] = static_cast<uint32_t>(k);
    std::sort(s.orders_by_day.begin(), s.orders_by_day.end(), [&](uint32_t a, uint32_t b) {
      if (s.order_day[a] != s.order_day[b]) return s.order_day[a] < s.order_day[b];
      if (s.order_local_seconds[a] != s.order_local_seconds[b]) return s.order_local_seconds[a] < s.order_local_seconds[b];
      return s.order_id[a] < s.order_id[b];
    });
    // Subscriptions, surveys, referrals, tags.
    size_t b = f.sub_offsets[r], e = f.sub_offsets[r + 1];
    s.sub_offsets = {0, static_cast<uint32_t>(e - b)};
    copy_range(s.sub_id, f.sub_id, b, e);
    copy_range(s.sub_start, f.sub_start, b, e);
    copy_range(s.sub_status, f.sub_status, b, e);
    copy_range(s.sub_cycles, f.sub_cycles, b, e);
    copy_range(s.sub_cycles_valid, f.sub_cycles_valid, b, e);
    copy_range(s.sub_cancelled, f.sub_cancelled, b, e);
    copy_range(s.sub_cancel_reason, f.sub_cancel_reason, b, e);
    b = f.survey_offsets[r], e = f.survey_offsets[r + 1];
    s.survey_offsets = {0, static_cast<uint32_t>(e - b)};
    copy_range(s.survey_day, f.survey_day, b, e);
    copy_range(s.survey_satisfaction, f.survey_satisfaction, b, e);
    b = f.referral_offsets[r], e = f.referral_offsets[r + 1];
    s.referral_offsets = {0, static_cast<uint32_t>(e - b)};
    copy_range(s.referral_day, f.referral_day, b, e);
    b = f.tag_offsets[r], e = f.tag_offsets[r + 1];
    s.tag_offsets = {0, static_cast<uint32_t>(e - b)};
    copy_range(s.tag, f.tag, b, e);
    copy_range(s.tag_set_at, f.tag_set_at, b, e);
    // Events (in the facts' time order) and the outbox history.
    s.event_id.clear(), s.event_row.clear(), s.event_type.clear(), s.event_day.clear();
    s.event_local_seconds.clear(), s.event_payload.clear();
    for (uint32_t k = event_offsets[r]; k < event_offsets[r + 1]; ++k) {
      size_t i = event_index[k];
      s.event_id.push_back(f.event_id[i]);
      s.event_row.push_back(0);
      s.event_type.push_back(f.event_type[i]);
      s.event_day.push_back(f.event_day[i]);
      s.event_local_seconds.push_back(f.event_local_seconds[i]);
      s.event_payload.push_back(f.event_payload[i]);
    }
    s.outbox.clear();
    for (uint32_t k = outbox_offsets[r]; k < outbox_offsets[r + 1]; ++k) {
      s.outbox.push_back(f.outbox[outbox_index[k]]);
      s.outbox.back().row = 0;
    }
  }

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
      runners.push_back({script, std::make_unique<engine::Runner>(p.program, p.graph, p.compiled, one)});
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

// ---------------------------------------------------------------- scripts

namespace {
// The checker's options for a compile: stdlib folders, and the store's extra columns as attributes.
lang::CheckOptions check_options(const CompileOptions& options) {
  lang::CheckOptions co;
  co.stdlib_dirs = stdlib_dirs(options);
  co.allow_imports_outside = options.allow_imports_outside;
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
  impl->program = lang::load_and_check({path}, co, diags);
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
    if (!diags.has_errors()) impl->program = lang::check(std::move(modules), co, diags);
  }
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
    engine::Runner runner(p.program, p.graph, p.compiled, s.facts);
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
  engine::Runner runner(p.program, p.graph, p.compiled, s.facts);
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
