/* The C API's ABI/API check: compiled as C (C11, -Wall -Werror -pedantic), it calls every
 * function of crm.h with the exact types the header declares, so a change to the header breaks
 * this build; it also checks results, error codes and ownership (run it under valgrind to see
 * that nothing leaks). Usage: abi_test SCRIPT CUSTOMERS.json WORKDIR */
#include <crm/crm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__,  \
              __LINE__, #cond, crm_last_error());                     \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

/* Each function's type, spelled out: assigning it to a pointer of this type fails to compile
 * (with -Werror) when the header changes a signature. */
static const char* (*p_version)(void) = crm_version;
static int (*p_version_number)(void) = crm_version_number;
static const char* (*p_last_error)(void) = crm_last_error;
static void (*p_free)(char*) = crm_free;
static crm_status (*p_compile_file)(const char*, const crm_store*, crm_script**, char**) = crm_script_compile_file;
static crm_status (*p_compile_string)(const char*, const char*, const crm_store*, crm_script**, char**) =
    crm_script_compile_string;
static crm_status (*p_rules)(const crm_script*, char**) = crm_script_rules;
static void (*p_script_free)(crm_script*) = crm_script_free;
static crm_status (*p_store_open)(const char*, const char*, crm_store**) = crm_store_open;
static crm_status (*p_store_from_json)(const char*, const char*, crm_store**) = crm_store_from_json;
static crm_status (*p_store_info)(const crm_store*, char**) = crm_store_info;
static void (*p_store_free)(crm_store*) = crm_store_free;
static crm_status (*p_evaluate)(const crm_store*, const crm_script*, int64_t, const char*, char**) = crm_evaluate;
static crm_status (*p_evaluate_event)(crm_store*, const crm_script*, const char*, int, char**) = crm_evaluate_event;
static crm_status (*p_run)(crm_store*, const crm_script*, const char*, const char*, int, crm_action_callback, void*,
                           char**) = crm_run;
static crm_status (*p_simulate)(const crm_store*, const crm_script*, const char*, const char*, crm_action_callback,
                                void*, char**) = crm_simulate;
static crm_status (*p_explain)(const crm_store*, const crm_script*, int64_t, const char*, char**) = crm_explain;

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* text = malloc((size_t)n + 1);
  if (text && fread(text, 1, (size_t)n, f) != (size_t)n) text[0] = '\0';
  if (text) text[n] = '\0';
  fclose(f);
  return text;
}

static void count_action(const char* action_json, void* user) {
  if (strstr(action_json, "\"status\":")) ++*(int*)user;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: abi_test SCRIPT CUSTOMERS.json WORKDIR\n");
    return 2;
  }
  /* Versions: the library's and the header's agree. */
  CHECK(strcmp(p_version(), CRM_VERSION_STRING) == 0);
  CHECK(p_version_number() == CRM_VERSION_NUMBER);
  CHECK(strcmp(p_last_error(), "") == 0);

  char* customers = read_file(argv[2]);
  CHECK(customers != NULL);
  crm_store* store = NULL;
  CHECK(p_store_from_json(customers, NULL, &store) == CRM_OK && store != NULL);
  free(customers);

  /* Bad JSON: an argument error with a message, and no handle. */
  crm_store* bad = (crm_store*)1;
  CHECK(p_store_from_json("{\"customers\": [", NULL, &bad) == CRM_ERROR_ARGUMENT && bad == NULL);
  CHECK(strstr(p_last_error(), "JSON") != NULL);
  CHECK(p_store_from_json("{\"orders\": []}", NULL, &bad) == CRM_ERROR_ARGUMENT);
  CHECK(strstr(p_last_error(), "customers") != NULL);
  /* A missing SQLite store: a store error. */
  CHECK(p_store_open("/nonexistent/dir/shop.db", NULL, &bad) == CRM_ERROR_STORE && bad == NULL);

  char* info = NULL;
  CHECK(p_store_info(store, &info) == CRM_OK && strstr(info, "\"customers\":3") != NULL);
  p_free(info);

  /* A script with an error: diagnostics as values, with position, code and hint. */
  crm_script* script = (crm_script*)1;
  char* diags = NULL;
  CHECK(p_compile_string("message m via email\nrule r: when purchse_count > 1 then send m\n", "bad.crm", NULL, &script,
                         &diags) == CRM_ERROR_SCRIPT);
  CHECK(script == NULL && diags != NULL);
  CHECK(diags && strstr(diags, "\"file\":\"bad.crm\",\"line\":2,\"col\":14") != NULL);
  CHECK(diags && strstr(diags, "purchase_count") != NULL);  /* the hint */
  p_free(diags);

  /* The example script, against the store (its extra column `plan`). */
  diags = NULL;
  CHECK(p_compile_file(argv[1], store, &script, &diags) == CRM_OK && script != NULL);
  CHECK(diags && strcmp(diags, "[]") == 0);
  p_free(diags);
  char* rules = NULL;
  CHECK(p_rules(script, &rules) == CRM_OK && strcmp(rules, "[\"check_in\",\"vip\",\"come_back\"]") == 0);
  p_free(rules);

  char* actions = NULL;
  CHECK(p_evaluate(store, script, 1, "2026-11-24", &actions) == CRM_OK);
  CHECK(actions && strstr(actions, "\"rule\":\"vip\",\"action\":\"coupon\",\"target\":\"vip_10\"") != NULL);
  p_free(actions);
  CHECK(p_evaluate(store, script, 99, "2026-11-24", &actions) == CRM_ERROR_ARGUMENT && actions == NULL);
  CHECK(strstr(p_last_error(), "no customer with id 99") != NULL);
  CHECK(p_evaluate(store, script, 1, "24/11/2026", &actions) == CRM_ERROR_ARGUMENT);
  CHECK(p_evaluate(NULL, script, 1, NULL, &actions) == CRM_ERROR_ARGUMENT);

  char* explanation = NULL;
  CHECK(p_explain(store, script, 2, "2026-11-24", &explanation) == CRM_OK);
  CHECK(explanation && strstr(explanation, "\"rule\":\"come_back\",\"fired\":false") != NULL);
  CHECK(explanation && strstr(explanation, "blocked_consent") != NULL);
  p_free(explanation);

  /* An event: a purchase of customer 3 in real time, not written. */
  crm_script* ev_script = NULL;
  CHECK(p_compile_string("rule thanks: on purchase when order.total >= 1000 then grant points order.total / 100\n",
                         NULL, store, &ev_script, NULL) == CRM_OK);
  CHECK(p_evaluate_event(store, ev_script,
                         "{\"customer\":3,\"type\":\"purchase\",\"payload\":{\"total\":5000},\"id\":31,"
                         "\"date\":\"2026-11-24\"}",
                         0, &actions) == CRM_OK);
  CHECK(actions && strstr(actions, "\"action\":\"points\",\"target\":\"50\"") != NULL);
  p_free(actions);
  CHECK(p_evaluate_event(store, ev_script, "{\"type\":\"purchase\"}", 0, &actions) == CRM_ERROR_ARGUMENT);
  p_script_free(ev_script);

  /* A dry run and a simulation, with a callback per action. */
  int seen = 0;
  char* summary = NULL;
  CHECK(p_run(store, script, "2026-11-24", "2026-11-24", 1, count_action, &seen, &summary) == CRM_OK);
  CHECK(seen == 4 && summary && strstr(summary, "\"actions\":4") != NULL);
  p_free(summary);
  seen = 0;
  CHECK(p_simulate(store, script, "2026-11-20", "2026-11-26", count_action, &seen, &summary) == CRM_OK);
  CHECK(seen > 0 && summary && strstr(summary, "\"days\":7") != NULL);
  p_free(summary);

  /* A real run on a SQLite store made with crm init: written once, not twice. */
  char db[4096];
  snprintf(db, sizeof db, "%s/shop.db", argv[3]);
  crm_store* sql = NULL;
  if (p_store_open(db, NULL, &sql) == CRM_OK) {
    crm_script* s2 = NULL;
    CHECK(p_compile_string("message hi via email\nrule hi: when true then send hi, tag greeted\n", NULL, sql, &s2,
                           NULL) == CRM_OK);
    CHECK(p_run(sql, s2, "2026-11-24", "2026-11-24", 0, NULL, NULL, &summary) == CRM_OK);
    CHECK(summary && strstr(summary, "\"written\":2") != NULL);
    p_free(summary);
    CHECK(p_run(sql, s2, "2026-11-24", "2026-11-24", 0, NULL, NULL, &summary) == CRM_OK);
    CHECK(summary && strstr(summary, "\"written\":0") != NULL);
    p_free(summary);
    /* once: the reloaded outbox history now blocks it */
    CHECK(p_evaluate(sql, s2, 1, "2026-11-25", &actions) == CRM_OK && strcmp(actions, "[]") == 0);
    p_free(actions);
    p_script_free(s2);
    p_store_free(sql);
  } else {
    fprintf(stderr, "FAIL: cannot open %s: %s\n", db, p_last_error());
    ++failures;
  }

  p_script_free(script);
  p_store_free(store);
  p_script_free(NULL);
  p_store_free(NULL);
  p_free(NULL);
  if (failures) return 1;
  printf("abi_test: every function of crm.h called and checked\n");
  return 0;
}
