/* The crm C API (SPEC §8, docs/embedding.md): a stable C interface over the C++ embedding API
 * (crm.hpp), for C programs and for Python (ctypes), Go (cgo) or Rust (FFI).
 *
 * Conventions
 * - Handles are opaque: crm_script (a compiled script) and crm_store (customers and facts, from
 *   a SQLite file or from JSON in memory). Each is created by one function and released by its
 *   crm_*_free function (NULL is accepted and ignored).
 * - Every function that can fail returns a crm_status: CRM_OK (0) or an error code. The message
 *   of the last failure on the calling thread is crm_last_error(); it stays valid until the
 *   next crm call on that thread. No C++ exception ever crosses this interface.
 * - Structured data crosses as UTF-8 JSON. Strings returned through `char**` out-parameters are
 *   allocated by the library and owned by the caller, who releases them with crm_free(). On
 *   failure they are set to NULL. Strings passed to a callback belong to the library and are
 *   valid only during the call.
 * - Dates are "YYYY-MM-DD" strings; NULL or "" means today in the store's time zone.
 *
 * Thread safety: a crm_script is immutable once compiled and may be used by any number of
 * threads at once. A crm_store may be shared too: calls on one store take its lock and run one
 * at a time; open one store per thread to evaluate in parallel.
 */
#ifndef CRM_H
#define CRM_H

#include <stddef.h>
#include <stdint.h>

#include "crm/version.h"

#if defined(_WIN32)
#define CRM_C_API __declspec(dllexport)
#else
#define CRM_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_script crm_script;
typedef struct crm_store crm_store;

typedef enum crm_status {
  CRM_OK = 0,
  CRM_ERROR_SCRIPT = 1,    /* the script has errors: see the diagnostics JSON */
  CRM_ERROR_ARGUMENT = 2,  /* a NULL handle, malformed JSON or date, an unknown customer */
  CRM_ERROR_STORE = 3,     /* the store cannot be opened, read or written */
  CRM_ERROR_INTERNAL = 4   /* a bug or out of memory: the message says what */
} crm_status;

/* The version of the loaded library, e.g. "0.1.0" (static storage, do not free), and the same
 * as CRM_VERSION_NUMBER (10000 * major + 100 * minor + patch), to compare with the header's. */
CRM_C_API const char* crm_version(void);
CRM_C_API int crm_version_number(void);

/* The message of the last failed call on this thread ("" when none). Owned by the library. */
CRM_C_API const char* crm_last_error(void);

/* Releases a string returned by this library (NULL is ignored). */
CRM_C_API void crm_free(char* p);

/* --- scripts ------------------------------------------------------------------------------
 * Compiles a script from a file, or from `source` (`name` is the file name shown in
 * diagnostics; NULL = "<string>"). `store` (may be NULL) contributes the extra customers
 * columns as attributes. On success *out is a new script (free with crm_script_free). On
 * CRM_ERROR_SCRIPT *out is NULL. When `diagnostics_json` is not NULL it receives, in every
 * case except CRM_ERROR_ARGUMENT/INTERNAL, a JSON array of
 *   {"file":"a.crm","line":3,"col":7,"severity":"error","code":"E-unknown-name",
 *    "message":"...","hint":"...","rendered":"a.crm:3:7: error: ..."}
 * (warnings too, so it may be non-empty on success); free it with crm_free. */
CRM_C_API crm_status crm_script_compile_file(const char* path, const crm_store* store, crm_script** out,
                                             char** diagnostics_json);
CRM_C_API crm_status crm_script_compile_string(const char* source, const char* name, const crm_store* store,
                                               crm_script** out, char** diagnostics_json);
/* The qualified rule names in declaration order, as a JSON array of strings. */
CRM_C_API crm_status crm_script_rules(const crm_script* script, char** rules_json);
CRM_C_API void crm_script_free(crm_script* script);

/* --- stores -------------------------------------------------------------------------------
 * Opens a crm SQLite store, or builds one in memory from `json`: an object whose keys are table
 * names of SPEC §5 ("customers" required), each an array of row objects, e.g.
 *   {"customers":[{"id":1,"email_opt_in":true,"created_at":"2026-01-05","plan":"gold"}],
 *    "orders":[{"id":10,"customer_id":1,"ordered_at":"2026-11-01T10:00:00","total":4800,
 *               "status":"paid"}]}
 * Unknown keys of customer rows become extra attributes. `timezone` (may be NULL) overrides the
 * store's zone (SQLite meta, or the JSON's "timezone" key; default UTC). Free with
 * crm_store_free. */
CRM_C_API crm_status crm_store_open(const char* path, const char* timezone, crm_store** out);
CRM_C_API crm_status crm_store_from_json(const char* json, const char* timezone, crm_store** out);
/* {"customers":N,"timezone":"UTC","today":"2026-11-24","warnings":["..."]} */
CRM_C_API crm_status crm_store_info(const crm_store* store, char** info_json);
CRM_C_API void crm_store_free(crm_store* store);

/* --- evaluation -----------------------------------------------------------------------------
 * Actions are JSON objects with exactly the keys of SPEC §7:
 *   {"date":"2026-11-23","customer":42,"rule":"check_in","action":"send",
 *    "target":"any_concerns","channel":"line","status":"sent"}
 * Array results are "[...]" of those objects, in evaluation order. */

/* Called once per action; `action_json` is valid only during the call. */
typedef void (*crm_action_callback)(const char* action_json, void* user_data);

/* The actions of one customer on `date`, as a dry run of that day gives them (nothing is
 * written): a JSON array in *actions_json. */
CRM_C_API crm_status crm_evaluate(const crm_store* store, const crm_script* script, int64_t customer, const char* date,
                                  char** actions_json);
/* An event in real time (`crm event`): `event_json` is
 *   {"customer":42,"type":"cancel_request","payload":{"reason":"too_expensive"},"id":981,
 *    "date":"2026-11-24"}
 * ("payload", "id" and "date" optional). With write != 0 the passed actions go to the outbox. */
CRM_C_API crm_status crm_evaluate_event(crm_store* store, const crm_script* script, const char* event_json, int write,
                                        char** actions_json);
/* The days [from, to] over every customer; a real run (dry_run == 0) writes the outbox.
 * `on_action` (may be NULL) gets every action. *summary_json (may be NULL) receives
 * {"days":1,"actions":12,"sent":9,"written":9}. */
CRM_C_API crm_status crm_run(crm_store* store, const crm_script* script, const char* from, const char* to, int dry_run,
                             crm_action_callback on_action, void* user_data, char** summary_json);
/* A simulation (dry run with history in memory) over [from, to]; *summary_json (may be NULL):
 * {"days":30,"sent":..,"held_out":..,"blocked_consent":..,"blocked_cap":..,"reached":..,
 *  "touched":..,"cost":..}. */
CRM_C_API crm_status crm_simulate(const crm_store* store, const crm_script* script, const char* from, const char* to,
                                  crm_action_callback on_action, void* user_data, char** summary_json);
/* Why each rule did or did not fire for one customer (`crm explain`): a JSON array, one object
 * per rule in evaluation order:
 *   {"rule":"welcome","fired":false,"condition":"false","reason":"not fired: ...",
 *    "actions":[...],"tree":"purchase_count == 1  => false\n..."} */
CRM_C_API crm_status crm_explain(const crm_store* store, const crm_script* script, int64_t customer, const char* date,
                                 char** explanation_json);

#ifdef __cplusplus
}
#endif

#endif /* CRM_H */
