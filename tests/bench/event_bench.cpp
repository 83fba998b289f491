// crm-event-bench: the latency of one real-time event evaluation (Runner::evaluate_occurrences)
// with 20 event rules, the customer's attributes already loaded (the day's frame computed once).
// Usage: crm-event-bench [CALLS]. Prints median and p99 in microseconds. Not run as a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "engine/frame/attributes.hpp"
#include "engine/run/events.hpp"
#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/import/sample_shop.hpp"
#include "lang/checker.hpp"

using namespace crm;

namespace {

// 20 event rules of the kinds a shop writes: by reason, by order content and size, by history.
const char* kScript = R"(timezone "UTC"
message m_email via email
message m_line via line
rule r01: on cancel_request when event.reason == "too_expensive" then send m_line, offer light_plan
rule r02: on cancel_request when event.reason == "too_much_stock" then send m_line, offer skip
rule r03: on cancel_request when event.reason == "no_effect" then send m_email
rule r04: on cancel_request when subscription.active and subscription.cycles >= 3 then grant coupon stay_10
rule r05: on cancel_request when satisfaction >= 4 then send m_email
rule r06: on cancel_request when event.type == "cancel_request" then tag asked_to_cancel
rule r07: on cancel_request when total_spent >= 50000 then grant points 500
rule r08: on cancel_request when days_since_first_purchase < 90 then send m_line
rule r09: on cancel_request when purchase_count >= 5 and event.reason != "no_effect" then offer vip_call
rule r10: on cancel_request when not has_tag("asked_to_cancel") then send m_email
rule r11: on purchase when order.total >= 5000 then grant points order.total / 100
rule r12: on purchase when "TRIAL-MOIST" in order.skus then send m_email, offer bundle
rule r13: on purchase when purchase_count == 2 then send m_line
rule r14: on purchase when avg_order_value > 8000 then tag big_spender
rule r15: on first_purchase when true then grant coupon welcome_10
rule r16: on first_purchase when order.total < 3000 then send m_email
rule r17: on survey when event.score <= 2 then send m_email
rule r18: on survey when event.score >= 5 then offer referral
rule r19: on signup when email_opt_in == true then send m_email
rule r20: on cancel_request when coalesce(subscription.months, 0) >= 12 then grant coupon loyal
)";

double us_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t calls = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  std::string dir = "/tmp/crm-event-bench-" + std::to_string(::getpid());
  std::string mk = "mkdir -p " + dir;
  if (std::system(mk.c_str()) != 0) return 1;
  std::string db = dir + "/shop.db", script = dir + "/events.crm";
  std::ofstream(script) << kScript;
  examples::ShopOptions so;
  so.customers = 10'000;
  examples::generate_shop(db, so);

  engine::SqliteStore store = engine::SqliteStore::open(db);
  lang::Diagnostics diags;
  lang::CheckOptions opts;
  opts.has_store = true;
  opts.extra_attributes = store.extra_attributes();
  lang::CheckedProgram prog = lang::load_and_check({script}, opts, diags);
  if (diags.has_errors()) {
    std::fprintf(stderr, "script errors\n");
    return 1;
  }
  engine::RuleGraph graph = engine::build_rule_graph(prog, diags);
  engine::Program compiled = engine::compile_program(prog, diags);
  engine::Facts facts = store.load_facts("UTC").facts;
  engine::Runner runner(prog, graph, compiled, facts);
  Days d = so.as_of;
  engine::Frame frame = engine::compute_frame(facts, d, runner.columns());  // "customer loaded"

  const char* reasons[] = {"too_expensive", "too_much_stock", "no_effect"};
  std::vector<double> lat;
  lat.reserve(calls);
  size_t actions = 0;
  std::string error;
  for (size_t k = 0; k < calls; ++k) {
    int64_t customer = facts.customer_id[k % facts.rows()];
    std::vector<engine::Occurrence> occ;
    std::string payload = std::string("{\"reason\": \"") + reasons[k % 3] + "\"}";
    auto t = std::chrono::steady_clock::now();
    engine::realtime_occurrences(facts, customer, d, "cancel_request", payload, static_cast<int64_t>(k), occ, error);
    actions += runner.evaluate_occurrences(d, frame, occ).size();
    lat.push_back(us_since(t));
  }
  std::sort(lat.begin(), lat.end());
  std::printf("crm-event-bench: %zu real-time cancel_request events, 20 event rules, %zu customers loaded\n", calls,
              facts.rows());
  std::printf("latency per event: median %.1f us, p99 %.1f us, max %.1f us (%zu actions)\n", lat[lat.size() / 2],
              lat[lat.size() * 99 / 100], lat.back(), actions);
  std::string rm = "rm -rf " + dir;
  return std::system(rm.c_str()) == 0 ? 0 : 1;
}
