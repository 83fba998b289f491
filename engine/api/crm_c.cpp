// The C API (engine/include/crm/crm.h) over the C++ API: handles, status codes, a per-thread
// error message, JSON in and out. Every entry point catches everything.
#include "crm/crm.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>

#include "crm/crm.hpp"
#include "engine/api/internal.hpp"

using json = nlohmann::ordered_json;

struct crm_script {
  crm::Script script;
};
struct crm_store {
  crm::Store store;
};

namespace {

thread_local std::string last_error;

crm_status fail(crm_status s, std::string message) {
  last_error = std::move(message);
  return s;
}

char* dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size() + 1);
  return p;
}

void set_out(char** out, const std::string& s) {
  if (out) *out = dup(s);
}

std::string to_actions_json(const std::vector<crm::Action>& actions) {
  std::string s = "[";
  for (size_t i = 0; i < actions.size(); ++i) {
    if (i) s += ',';
    s += actions[i].to_json();
  }
  return s + "]";
}

std::string diagnostics_json(const std::vector<crm::Diagnostic>& ds) {
  json a = json::array();
  for (const auto& d : ds)
    a.push_back({{"file", d.file}, {"line", d.line}, {"col", d.col}, {"severity", d.severity}, {"code", d.code},
                 {"message", d.message}, {"hint", d.hint}, {"rendered", d.rendered}});
  return a.dump();
}

const char* opt(const char* s) { return s ? s : ""; }

// Runs `body`, turning exceptions into status codes and the thread's error message.
template <class F>
crm_status guard(char** out1, F&& body) {
  if (out1) *out1 = nullptr;
  last_error.clear();
  try {
    return body();
  } catch (const crm::StoreError& e) {
    return fail(CRM_ERROR_STORE, e.what());
  } catch (const crm::Error& e) {
    return fail(CRM_ERROR_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return fail(CRM_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(CRM_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(CRM_ERROR_INTERNAL, "unknown error");
  }
}

crm_status compile(bool from_file, const char* text, const char* name, const crm_store* store, crm_script** out,
                   char** diagnostics) {
  if (out) *out = nullptr;
  return guard(diagnostics, [&]() -> crm_status {
    if (!text || !out) return fail(CRM_ERROR_ARGUMENT, from_file ? "path and out must not be NULL" : "source and out must not be NULL");
    crm::CompileOptions options;
    if (store) options.store = &store->store;
    crm::CompileResult r = from_file ? crm::Script::compile_file(text, options)
                                     : crm::Script::compile_string(text, name ? name : "<string>", options);
    set_out(diagnostics, diagnostics_json(r.diagnostics));
    if (!r.ok()) {
      size_t errors = 0;
      for (const auto& d : r.diagnostics) errors += d.severity == "error";
      std::string first;
      for (const auto& d : r.diagnostics)
        if (d.severity == "error") {
          first = d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message;
          break;
        }
      return fail(CRM_ERROR_SCRIPT, std::to_string(errors) + " error(s) in the script; the first: " + first);
    }
    *out = new crm_script{std::move(*r.script)};
    return CRM_OK;
  });
}

crm_status open_store(bool json, const char* text, const char* timezone, crm_store** out) {
  if (out) *out = nullptr;
  return guard(nullptr, [&]() -> crm_status {
    if (!text || !out) return fail(CRM_ERROR_ARGUMENT, json ? "json and out must not be NULL" : "path and out must not be NULL");
    crm::StoreOptions options;
    if (timezone && *timezone) options.timezone = timezone;
    *out = new crm_store{json ? crm::Store::from_json(text, options) : crm::Store::open(text, options)};
    return CRM_OK;
  });
}

// Calls the C callback for each action (its JSON valid only during the call).
crm::ActionCallback callback(crm_action_callback cb, void* user) {
  if (!cb) return {};
  return [cb, user](const crm::Action& a) {
    std::string j = a.to_json();
    cb(j.c_str(), user);
  };
}

}  // namespace

extern "C" {

const char* crm_version(void) { return crm::version(); }
int crm_version_number(void) { return CRM_VERSION_NUMBER; }
const char* crm_last_error(void) { return last_error.c_str(); }
void crm_free(char* p) { std::free(p); }

crm_status crm_script_compile_file(const char* path, const crm_store* store, crm_script** out, char** diagnostics_json) {
  return compile(true, path, nullptr, store, out, diagnostics_json);
}

crm_status crm_script_compile_string(const char* source, const char* name, const crm_store* store, crm_script** out,
                                     char** diagnostics_json) {
  return compile(false, source, name, store, out, diagnostics_json);
}

crm_status crm_script_rules(const crm_script* script, char** rules_json) {
  return guard(rules_json, [&]() -> crm_status {
    if (!script || !rules_json) return fail(CRM_ERROR_ARGUMENT, "script and rules_json must not be NULL");
    set_out(rules_json, json(script->script.rule_names()).dump());
    return CRM_OK;
  });
}

void crm_script_free(crm_script* script) { delete script; }

crm_status crm_store_open(const char* path, const char* timezone, crm_store** out) {
  return open_store(false, path, timezone, out);
}

crm_status crm_store_from_json(const char* json, const char* timezone, crm_store** out) {
  return open_store(true, json, timezone, out);
}

crm_status crm_store_info(const crm_store* store, char** info_json) {
  return guard(info_json, [&]() -> crm_status {
    if (!store || !info_json) return fail(CRM_ERROR_ARGUMENT, "store and info_json must not be NULL");
    json j = {{"customers", store->store.customer_count()},
                        {"timezone", store->store.timezone()},
                        {"today", store->store.today()},
                        {"warnings", store->store.warnings()}};
    set_out(info_json, j.dump());
    return CRM_OK;
  });
}

void crm_store_free(crm_store* store) { delete store; }

crm_status crm_evaluate(const crm_store* store, const crm_script* script, int64_t customer, const char* date,
                        char** actions_json) {
  return guard(actions_json, [&]() -> crm_status {
    if (!store || !script || !actions_json) return fail(CRM_ERROR_ARGUMENT, "store, script and actions_json must not be NULL");
    thread_local std::string buffer;  // reused: a call allocates only the returned copy
    crm::detail::evaluate_json(store->store, script->script, customer, opt(date), buffer);
    set_out(actions_json, buffer);
    return CRM_OK;
  });
}

crm_status crm_evaluate_event(crm_store* store, const crm_script* script, const char* event_json, int write,
                              char** actions_json) {
  return guard(actions_json, [&]() -> crm_status {
    if (!store || !script || !event_json || !actions_json)
      return fail(CRM_ERROR_ARGUMENT, "store, script, event_json and actions_json must not be NULL");
    json j;
    try {
      j = crm::detail::parse_json_limited(event_json);
    } catch (const json::exception& e) {
      return fail(CRM_ERROR_ARGUMENT, std::string("event JSON: ") + e.what());
    }
    if (!j.is_object()) return fail(CRM_ERROR_ARGUMENT, "event JSON: expected an object {\"customer\":ID,\"type\":TYPE,...}");
    crm::Event ev;
    for (const auto& [key, v] : j.items()) {
      if (key == "customer" && v.is_number_integer()) ev.customer = v.get<int64_t>();
      else if (key == "type" && v.is_string()) ev.type = v.get<std::string>();
      else if (key == "payload" && v.is_object()) ev.payload = v.dump();
      else if (key == "payload" && v.is_null()) continue;
      else if (key == "id" && v.is_number_integer()) ev.id = v.get<int64_t>();
      else if (key == "id" && v.is_null()) continue;
      else if (key == "date" && (v.is_string() || v.is_null())) ev.date = v.is_string() ? v.get<std::string>() : "";
      else
        return fail(CRM_ERROR_ARGUMENT, "event JSON: unexpected key or type of '" + key +
                                            "' (customer: integer, type: string, payload: object, id: integer, date: "
                                            "\"YYYY-MM-DD\")");
    }
    if (!j.contains("customer")) return fail(CRM_ERROR_ARGUMENT, "event JSON: \"customer\" is missing");
    set_out(actions_json, to_actions_json(store->store.evaluate_event(script->script, ev, write != 0)));
    return CRM_OK;
  });
}

crm_status crm_run(crm_store* store, const crm_script* script, const char* from, const char* to, int dry_run,
                   crm_action_callback on_action, void* user_data, char** summary_json) {
  return guard(summary_json, [&]() -> crm_status {
    if (!store || !script) return fail(CRM_ERROR_ARGUMENT, "store and script must not be NULL");
    crm::RunResult r = store->store.run(script->script, opt(from), opt(to), dry_run != 0, callback(on_action, user_data));
    json j = {{"days", r.days}, {"actions", r.actions}, {"sent", r.sent}, {"written", r.written}};
    set_out(summary_json, j.dump());
    return CRM_OK;
  });
}

crm_status crm_simulate(const crm_store* store, const crm_script* script, const char* from, const char* to,
                        crm_action_callback on_action, void* user_data, char** summary_json) {
  return guard(summary_json, [&]() -> crm_status {
    if (!store || !script) return fail(CRM_ERROR_ARGUMENT, "store and script must not be NULL");
    crm::SimulationSummary r = store->store.simulate(script->script, opt(from), opt(to), callback(on_action, user_data));
    json j = {{"days", r.days},       {"sent", r.sent},       {"held_out", r.held_out},
                        {"blocked_consent", r.blocked_consent},         {"blocked_cap", r.blocked_cap},
                        {"reached", r.reached}, {"touched", r.touched}, {"cost", r.cost}};
    set_out(summary_json, j.dump());
    return CRM_OK;
  });
}

crm_status crm_explain(const crm_store* store, const crm_script* script, int64_t customer, const char* date,
                       char** explanation_json) {
  return guard(explanation_json, [&]() -> crm_status {
    if (!store || !script || !explanation_json)
      return fail(CRM_ERROR_ARGUMENT, "store, script and explanation_json must not be NULL");
    json a = json::array();
    for (const auto& e : store->store.explain(script->script, customer, opt(date))) {
      json actions = json::array();
      for (const auto& x : e.actions) actions.push_back(json::parse(x.to_json()));
      a.push_back({{"rule", e.rule},
                   {"fired", e.fired},
                   {"condition", e.condition ? json(*e.condition) : json(nullptr)},
                   {"reason", e.reason},
                   {"actions", actions},
                   {"tree", e.tree}});
    }
    set_out(explanation_json, a.dump());
    return CRM_OK;
  });
}

}  // extern "C"
