// crm-embed-bench: the latency of evaluating the 20-rule playbook (playbook20.crm) for one
// in-memory customer through the C API (crm_evaluate, JSON out, crm_free), the customers already
// loaded with crm_store_from_json. Usage: crm-embed-bench [CALLS] [CUSTOMERS]. Prints the median
// and p99 in microseconds. Not run as a test.
#include <crm/crm.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "sample_json.hpp"

int main(int argc, char** argv) {
  size_t calls = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 50000;
  int customers = argc > 2 ? std::atoi(argv[2]) : 10000;
  std::string json = crm::testing::sample_customers_json(customers);
  crm_store* store = nullptr;
  if (crm_store_from_json(json.c_str(), nullptr, &store) != CRM_OK) {
    std::fprintf(stderr, "store: %s\n", crm_last_error());
    return 1;
  }
  crm_script* script = nullptr;
  std::string path = std::string(CRM_BENCH_DIR) + "/playbook20.crm";
  if (crm_script_compile_file(path.c_str(), store, &script, nullptr) != CRM_OK) {
    std::fprintf(stderr, "script: %s\n", crm_last_error());
    return 1;
  }
  // Wall time, and the thread's CPU time (which a busy machine's other processes do not inflate).
  auto cpu_us = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  };
  std::vector<double> us, cpu;
  us.reserve(calls);
  cpu.reserve(calls);
  size_t actions = 0;
  for (size_t i = 0; i < calls; ++i) {
    int64_t id = 1 + static_cast<int64_t>((i * 7919) % static_cast<size_t>(customers));
    char* out = nullptr;
    double c0 = cpu_us();
    auto t0 = std::chrono::steady_clock::now();
    crm_status st = crm_evaluate(store, script, id, "2026-11-24", &out);
    if (st == CRM_OK && out[1] != ']') actions++;
    crm_free(out);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(cpu_us() - c0);
    if (st != CRM_OK) {
      std::fprintf(stderr, "evaluate: %s\n", crm_last_error());
      return 1;
    }
  }
  std::sort(us.begin(), us.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("crm_evaluate, 20 rules, one in-memory customer of %d: %zu calls (%zu with actions)\n", customers, calls,
              actions);
  std::printf("wall: median %.2f us, p90 %.2f us, p99 %.2f us, max %.1f us\n", us[us.size() / 2],
              us[us.size() * 9 / 10], us[us.size() * 99 / 100], us.back());
  std::printf("cpu:  median %.2f us, p90 %.2f us, p99 %.2f us (thread CPU time, not inflated by other processes)\n",
              cpu[cpu.size() / 2], cpu[cpu.size() * 9 / 10], cpu[cpu.size() * 99 / 100]);
  crm_script_free(script);
  crm_store_free(store);
  return 0;
}
