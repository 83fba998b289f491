#!/usr/bin/env bash
# The embedding API from an installed prefix (docs/embedding.md): installs the project into a
# temporary prefix, builds the C and C++ examples with find_package(Crm CONFIG) and the C one
# with pkg-config too, runs them and the Python (ctypes) one on customers fed from memory, and
# compares their output with examples/embed/expected.txt; builds and runs the C ABI test (every
# function of crm.h, compiled as C); and checks that the in-memory store gives the same actions
# as `crm run` on a SQLite store holding the same data.  usage: embed_install.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
build=$(cd "$(dirname "$crm")/.." && pwd)
test -f "$build/CMakeCache.txt" || { echo "FAIL: no build directory above $crm"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
ex="$root/examples/embed"
date=2026-11-24

lib=$(find "$prefix" -name libcrm.so -print -quit)
test -n "$lib" || { echo "FAIL: libcrm.so not installed"; exit 1; }
libdir=$(dirname "$lib")
for f in bin/crm include/crm/crm.h include/crm/crm.hpp include/crm/version.h share/crm/stdlib/lifecycle.crm; do
  test -e "$prefix/$f" || { echo "FAIL: $f not installed"; exit 1; }
done
for f in cmake/Crm/CrmConfig.cmake cmake/Crm/CrmConfigVersion.cmake cmake/Crm/CrmTargets.cmake pkgconfig/crm.pc; do
  test -f "$libdir/$f" || { echo "FAIL: $f not installed under $libdir"; exit 1; }
done
# Only the API is exported: no engine, fmt or SQLiteCpp symbol.
if nm -D --defined-only -C "$lib" | grep -E ' (crm::engine|crm::lang|SQLite::|fmt::)' | head -3 | grep .; then
  echo "FAIL: internal symbols are exported from libcrm.so"; exit 1
fi

# Under tests/sanitize.sh the library is built with ASan/UBSan and the examples are not: their
# runtime must then come first, so the examples run with it preloaded (python without leak
# checks: the interpreter's own allocations at exit are not ours).
san=(); san_py=()
if ldd "$lib" | grep -q libasan; then
  preload="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)"
  san=(env LD_PRELOAD="$preload")
  san_py=(env LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0")
fi

check_output() {  # name, file
  if ! diff -u "$ex/expected.txt" "$2"; then echo "FAIL: $1 printed something else"; exit 1; fi
}

# find_package(Crm CONFIG): the C and C++ examples.
cmake -S "$ex" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/build" >/dev/null
(cd "$work" && "${san[@]}" env -u CRM_STDLIB "$work/build/embed_c" "$ex/campaign.crm" "$ex/customers.json" $date) > "$work/c.out"
check_output "the C example (find_package)" "$work/c.out"
(cd "$work" && "${san[@]}" env -u CRM_STDLIB "$work/build/embed_cpp" "$ex/campaign.crm" "$ex/customers.json" $date) > "$work/cpp.out"
check_output "the C++ example (find_package)" "$work/cpp.out"

# pkg-config: the C example again, and the ABI test (C11, every warning an error).
export PKG_CONFIG_PATH="$libdir/pkgconfig"
test "$(pkg-config --modversion crm)" = "$(grep -o '"[0-9.]*"' "$prefix/include/crm/version.h" | tr -d '"')" ||
  { echo "FAIL: crm.pc and version.h disagree"; exit 1; }
cc_flags=(-std=c11 -Wall -Wextra -Werror -pedantic)
cc "${cc_flags[@]}" "$ex/embed.c" $(pkg-config --cflags --libs crm) -Wl,-rpath,"$libdir" -o "$work/embed_c_pc"
"${san[@]}" "$work/embed_c_pc" "$ex/campaign.crm" "$ex/customers.json" $date > "$work/c_pc.out"
check_output "the C example (pkg-config)" "$work/c_pc.out"

# Python with ctypes, on the installed library.
"${san_py[@]}" python3 "$ex/embed.py" "$lib" "$ex/campaign.crm" "$ex/customers.json" $date > "$work/py.out"
check_output "the Python example" "$work/py.out"

# The ABI test, with a SQLite store for its real run.
"$prefix/bin/crm" init --db "$work/shop.db" >/dev/null
sqlite3 "$work/shop.db" "INSERT INTO customers (id, name, email_opt_in, created_at) VALUES (1, 'Aiko', 1, '2026-01-01')"
cc "${cc_flags[@]}" "$root/tests/embed/abi_test.c" $(pkg-config --cflags --libs crm) -Wl,-rpath,"$libdir" -o "$work/abi_test"
"${san[@]}" "$work/abi_test" "$ex/campaign.crm" "$ex/customers.json" "$work"

# The same data in a SQLite store: `crm run --dry-run` gives the same actions as the examples.
"$prefix/bin/crm" init --db "$work/same.db" >/dev/null
sqlite3 "$work/same.db" <<'SQL'
ALTER TABLE customers ADD COLUMN plan TEXT;
INSERT INTO customers (id, name, created_at, line_opt_in, email_opt_in, plan) VALUES
  (1, 'Aiko', '2026-01-05', 1, 1, 'gold'), (2, 'Ben', '2025-03-01', NULL, 0, 'basic'),
  (3, 'Chie', '2026-10-01', 0, NULL, NULL);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
  (10, 1, '2026-06-01T10:00:00', 18000, 'paid'), (11, 1, '2026-11-10T09:30:00', 15000, 'paid'),
  (20, 2, '2026-05-20T12:00:00', 4200, 'paid'), (30, 3, '2026-11-16T18:00:00', 3900, 'paid');
SQL
"$prefix/bin/crm" run "$ex/campaign.crm" --db "$work/same.db" --date $date --dry-run --format jsonl |
  sed -E 's/^(\{"date":"[^"]*","customer":([0-9]+),)/customer \2: \1/' > "$work/cli.out"
check_output "crm run --dry-run on the same data in SQLite" "$work/cli.out"
# The C++ block of docs/embedding.md ("## The C++ API"), compiled and run as written: its
# #include lines on top, the rest in main() with customers_json read from the examples.
awk '/^## The C\+\+ API/ { sec = 1 } sec && /^```/ { if (inb) exit; inb = 1; next } inb' "$root/docs/embedding.md" > "$work/doc_block.cpp"
grep -q 'store.evaluate' "$work/doc_block.cpp" || { echo "FAIL: the C++ block of docs/embedding.md was not found"; exit 1; }
{
  grep '^#include' "$work/doc_block.cpp"
  printf '#include <fstream>\n#include <iostream>\n#include <sstream>\n#include <string>\nint main() {\n'
  printf '  std::ifstream in("customers.json");\n  std::stringstream ss;\n  ss << in.rdbuf();\n  std::string customers_json = ss.str();\n'
  grep -v '^#include' "$work/doc_block.cpp"
  printf '  return 0;\n}\n'
} > "$work/doc_example.cpp"
c++ -std=c++17 "$work/doc_example.cpp" $(pkg-config --cflags --libs crm) -Wl,-rpath,"$libdir" -o "$work/doc_example"
mkdir -p "$work/doc_run" && cp "$ex/campaign.crm" "$ex/customers.json" "$work/doc_run/"
(cd "$work/doc_run" && "${san[@]}" "$work/doc_example") > "$work/doc.out"
grep '"customer":1,' "$ex/expected.txt" | sed 's/^customer 1: //' > "$work/doc.expected"
test -s "$work/doc.expected" || { echo "FAIL: expected.txt has no action for customer 1"; exit 1; }
diff -u "$work/doc.expected" "$work/doc.out" || { echo "FAIL: the C++ example of docs/embedding.md printed something else"; exit 1; }

echo "embedding: C, C++ (find_package), C (pkg-config), Python (ctypes), ABI test, CLI and the docs' C++ block agree"
