// crm-model-column-bench STORE DATE: what the lifetime-model columns add to a day's frame
// (fit_bench.sh). Loads the store's facts, gives them a BG/NBD model (in days) when the store has
// none, and times a frame of days_since alone and with p_alive, from scratch and as a FrameCursor
// step to the next day (how crm run --from/--to and crm simulate compute days).
#include <fmt/core.h>

#include <chrono>
#include <string>

#include "engine/frame/attributes.hpp"
#include "engine/store/sqlite_store.hpp"

using namespace crm;
using namespace crm::engine;

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: crm-model-column-bench STORE DATE\n");
    return 2;
  }
  auto d = parse_date(argv[2]);
  if (!d) return 2;
  SqliteStore s = SqliteStore::open(argv[1]);
  auto t0 = std::chrono::steady_clock::now();
  Facts f = s.load_facts("UTC").facts;
  fmt::print("store {}: {} customers loaded in {:.0f} ms\n", argv[1], f.rows(), ms_since(t0));
  if (f.models.empty())
    f.models.push_back({"bgnbd", *d - 1, R"({"r":0.9,"alpha":60,"a":0.05,"b":3,"unit":"days"})", "bench"});
  for (int rep = 0; rep < 2; ++rep) {
    t0 = std::chrono::steady_clock::now();
    Frame a = compute_frame(f, *d, {"days_since"});
    double base = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    Frame b = compute_frame(f, *d, {"days_since", "p_alive"});
    double with = ms_since(t0);
    size_t valid = 0;
    for (auto v : b.column("p_alive")->valid) valid += v;
    fmt::print("  compute_frame: days_since {:.1f} ms, with p_alive {:.1f} ms (+{:.1f} ms, {} customers with a value)\n", base,
               with, with - base, valid);
    FrameCursor c1(f, {"days_since"}), c2(f, {"days_since", "p_alive"});
    c1.advance(*d, {}, {});
    c2.advance(*d, {}, {});
    t0 = std::chrono::steady_clock::now();
    c1.advance(*d + 1, {}, {});
    base = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    c2.advance(*d + 1, {}, {});
    with = ms_since(t0);
    fmt::print("  FrameCursor step to the next day: days_since {:.1f} ms, with p_alive {:.1f} ms (+{:.1f} ms)\n", base, with,
               with - base);
  }
  return 0;
}
