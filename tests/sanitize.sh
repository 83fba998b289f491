#!/usr/bin/env bash
# Builds the whole project with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs the test suite there (any finding fails the run). Not part of
# `./setup.sh test` (it doubles CI time); run it before a release or after touching memory code.
# usage: tests/sanitize.sh [ctest args...]   e.g. tests/sanitize.sh -R unit
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1"
# -O1, the sanitizers' recommended level: -O3 with the instrumentation takes many minutes per
# file (PEGTL's parser above all) on a 2-core machine, and finds nothing more.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Benchmarks print figures only and are slow under the sanitizers; everything else runs.
ctest --test-dir build-asan -j "$jobs" --output-on-failure -E "bench" "$@"
