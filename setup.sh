#!/usr/bin/env bash
# crm set-up for a fresh Debian 12 machine (run as root): installs what is missing, builds,
# then runs the main job (default) or the whole test suite (`./setup.sh test`).
#   ./setup.sh        install, build, dry-run the example campaigns on the sample store
#   ./setup.sh test   install, build (with the fuzzer), run every test
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-main}"
case "$mode" in main|test|build) ;; *) echo "usage: ./setup.sh [main|test|build]" >&2; exit 2 ;; esac

# --- 1. Debian packages: only those missing, so a prepared machine needs no network.
pkgs=(g++ cmake ninja-build ccache pkg-config tao-pegtl-dev libboost-graph-dev libfmt-dev
      libsqlitecpp-dev libsqlite3-dev doctest-dev sqlite3 zlib1g-dev libpq-dev
      nlohmann-json3-dev python3  # JSON in the embedding API (engine/api/); python3: its ctypes example
      libcurl4-openssl-dev libtomlplusplus-dev  # crm deliver (HTTP, deliver.toml); TOML mappings of crm import csv
      libgsl-dev)                  # GSL: the lifetime models' optimiser and special functions (engine/model/)
[ "$mode" = test ] && pkgs+=(clang libclang-rt-14-dev chromium postgresql)  # chromium: tests/scripts/report_chromium.sh; postgresql: tests/scripts/pg_*.sh
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

# --- 2. The fuzzer (test mode only): clang + libFuzzer over the parser, checker, compiler and JSON store input.
fuzz_args=()
if [ "$mode" = test ]; then
  echo "== building the fuzzer (clang, libFuzzer)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCRM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j "$jobs" --target crm_fuzz
  fuzz_args=(-DCRM_FUZZER="$PWD/build-fuzz/tests/fuzz/crm_fuzz" -DCRM_FUZZ_SECONDS="${CRM_FUZZ_SECONDS:-60}")
fi

# --- 3. The build.
echo "== building crm"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${fuzz_args[@]}" >/dev/null
cmake --build build -j "$jobs"

# --- 4. The main job or the tests.
if [ "$mode" = test ]; then
  echo "== running the tests"
  ctest --test-dir build --output-on-failure -j "$jobs"
elif [ "$mode" = main ]; then
  bash examples/main_job.sh build/engine/crm
fi
