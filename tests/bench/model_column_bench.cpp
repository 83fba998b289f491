// crm-model-column-bench STORE DATE: what the lifetime-model columns add to a day's frame
// (fit_bench.sh). Loads the store's facts, gives them a BG/NBD model (in days) when the store has
// none, and times a frame of days_since alone and with p_alive (then with expected_purchases(30)
// too), from scratch and as FrameCursor steps over the next days (how crm run --from/--to and
// crm simulate compute days). Wall and process CPU time (the machine may be shared).
#include <fmt/core.h>

#include <chrono>
#include <ctime>
#include <string>

#include "engine/frame/attributes.hpp"
#include "engine/store/sqlite_store.hpp"

using namespace crm;
using namespace crm::engine;

namespace {
struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_now();
  static double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }
  double wall_ms() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall).count(); }
  double cpu_ms() const { return cpu_now() - cpu; }
};
constexpr int kSteps = 5;
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: crm-model-column-bench STORE DATE\n");
    return 2;
  }
  auto d = parse_date(argv[2]);
  if (!d) return 2;
  SqliteStore s = SqliteStore::open(argv[1]);
  Clock load;
  Facts f = s.load_facts("UTC").facts;
  fmt::print("store {}: {} customers loaded in {:.0f} ms\n", argv[1], f.rows(), load.wall_ms());
  if (f.models.empty())
    f.models.push_back({"bgnbd", *d - 1, R"({"r":0.9,"alpha":60,"a":0.05,"b":3,"unit":"days"})", "bench"});
  const std::vector<std::string> base_cols{"days_since"};
  for (const std::vector<std::string>& with_cols :
       {std::vector<std::string>{"days_since", "p_alive"}, std::vector<std::string>{"days_since", "p_alive", "expected_purchases(30)"}}) {
    std::string label = with_cols.size() == 2 ? "p_alive" : "p_alive, expected_purchases(30)";
    for (int rep = 0; rep < 2; ++rep) {
      Clock t0;
      Frame a = compute_frame(f, *d, base_cols);
      double base_w = t0.wall_ms(), base_c = t0.cpu_ms();
      Clock t1;
      Frame b = compute_frame(f, *d, with_cols);
      double with_w = t1.wall_ms(), with_c = t1.cpu_ms();
      size_t valid = 0;
      for (auto v : b.column("p_alive")->valid) valid += v;
      fmt::print("  compute_frame: days_since {:.1f} ms (cpu {:.1f}), with {} {:.1f} ms (cpu {:.1f}): +{:.1f} ms, cpu +{:.1f} ms"
                 " ({} customers with a value)\n",
                 base_w, base_c, label, with_w, with_c, with_w - base_w, with_c - base_c, valid);
      FrameCursor c1(f, base_cols), c2(f, with_cols);
      c1.advance(*d, {}, {});
      c2.advance(*d, {}, {});
      double bw = 0, bc = 0, ww = 0, wc = 0;
      for (int k = 1; k <= kSteps; ++k) {
        Clock s1;
        c1.advance(*d + k, {}, {});
        bw += s1.wall_ms();
        bc += s1.cpu_ms();
        Clock s2;
        c2.advance(*d + k, {}, {});
        ww += s2.wall_ms();
        wc += s2.cpu_ms();
      }
      fmt::print("  FrameCursor step, mean of {} days: days_since {:.1f} ms (cpu {:.1f}), with {} {:.1f} ms (cpu {:.1f}):"
                 " +{:.1f} ms, cpu +{:.1f} ms\n",
                 kSteps, bw / kSteps, bc / kSteps, label, ww / kSteps, wc / kSteps, (ww - bw) / kSteps, (wc - bc) / kSteps);
    }
  }
  return 0;
}
