/* Embedding crm from C: compile a script, feed customers from memory (JSON), evaluate each one
 * as of a date and print the actions. Usage: embed_c SCRIPT CUSTOMERS.json DATE
 * Build: see CMakeLists.txt (find_package(Crm)) or `cc embed.c $(pkg-config --cflags --libs crm)`. */
#include <crm/crm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* text = malloc((size_t)n + 1);
  if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
    free(text);
    text = NULL;
  }
  if (text) text[n] = '\0';
  fclose(f);
  return text;
}

/* Prints the objects of a JSON array of actions one per line: crm's action objects are flat, so
 * each one ends at the first '}' after its '{'. */
static void print_actions(int64_t customer, const char* json) {
  const char* p = json;
  while ((p = strchr(p, '{')) != NULL) {
    const char* end = strchr(p, '}');
    if (!end) break;
    printf("customer %lld: %.*s\n", (long long)customer, (int)(end - p + 1), p);
    p = end + 1;
  }
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s SCRIPT CUSTOMERS.json DATE\n", argv[0]);
    return 2;
  }
  if (crm_version_number() / 10000 != CRM_VERSION_MAJOR) {
    fprintf(stderr, "libcrm %s does not match the header %s\n", crm_version(), CRM_VERSION_STRING);
    return 1;
  }
  char* customers = read_file(argv[2]);
  if (!customers) {
    fprintf(stderr, "cannot read %s\n", argv[2]);
    return 1;
  }
  crm_store* store = NULL;
  if (crm_store_from_json(customers, NULL, &store) != CRM_OK) {
    fprintf(stderr, "customers: %s\n", crm_last_error());
    free(customers);
    return 1;
  }
  free(customers);
  crm_script* script = NULL;
  char* diagnostics = NULL;
  /* The store is passed so that its extra customer columns (here `plan`) are attributes. */
  if (crm_script_compile_file(argv[1], store, &script, &diagnostics) != CRM_OK) {
    fprintf(stderr, "%s\n%s\n", crm_last_error(), diagnostics ? diagnostics : "");
    crm_free(diagnostics);
    crm_store_free(store);
    return 1;
  }
  crm_free(diagnostics);
  for (int64_t id = 1; id <= 3; ++id) {
    char* actions = NULL;
    if (crm_evaluate(store, script, id, argv[3], &actions) != CRM_OK) {
      fprintf(stderr, "customer %lld: %s\n", (long long)id, crm_last_error());
      crm_script_free(script);
      crm_store_free(store);
      return 1;
    }
    print_actions(id, actions);
    crm_free(actions);
  }
  crm_script_free(script);
  crm_store_free(store);
  return 0;
}
