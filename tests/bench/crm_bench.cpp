// crm-bench: evaluates a 20-rule playbook over 1M synthetic customers held in memory with the
// compiled evaluator, and the same conditions as a hand-written C++ loop over a struct of arrays.
// Usage: crm-bench [ROWS] [RUNS]. Built by default, not run as a test (see docs/evaluator.md).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/eval/program.hpp"
#include "eval_exprs.hpp"
#include "lang/checker.hpp"
#include "lang/parser.hpp"

#pragma GCC diagnostic ignored "-Wparentheses"  // hand_loop: & on comparisons, on purpose

using namespace crm;
using namespace crm::test;
using engine::Frame;

namespace {

constexpr size_t kRules = 20;

Frame make_frame(size_t rows) {
  Frame f;
  f.rows = rows;
  f.today = days_from_civil(2026, 11, 23);
  std::mt19937_64 rng(42);
  auto u = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)); };
  auto nul = [&](int pct) { return static_cast<int>(rng() % 100) < pct; };
  auto& pc = add_column(f, "purchase_count", Type::integer());
  auto& ds = add_column(f, "days_since", Type::integer());
  auto& ts = add_column(f, "total_spent", Type::decimal());
  auto& bd = add_column(f, "days_until_birthday", Type::integer());
  auto& sm = add_column(f, "subscription.months", Type::integer());
  auto& sc = add_column(f, "subscription.cycles", Type::integer());
  auto& st = add_column(f, "subscription.status", Type::string());
  auto& sat = add_column(f, "satisfaction", Type::integer());
  auto& rc = add_column(f, "referral_count", Type::integer());
  auto& dss = add_column(f, "days_since_signup", Type::integer());
  auto& em = add_column(f, "email_opt_in", Type::boolean());
  auto& ln = add_column(f, "line_opt_in", Type::boolean());
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  auto& pur = add_column(f, "purchased", Type::list(TypeKind::String));
  const int64_t statuses[] = {f.strings->intern("active"), f.strings->intern("paused"), f.strings->intern("cancelled")};
  const int64_t tag_ids[] = {f.strings->intern("vip"), f.strings->intern("welcomed"), f.strings->intern("newsletter"),
                             f.strings->intern("b2b")};
  std::vector<int64_t> skus;
  for (int k = 0; k < 50; ++k) skus.push_back(f.strings->intern("SKU" + std::to_string(k)));
  tags.list_offsets.assign(1, 0);
  pur.list_offsets.assign(1, 0);
  for (size_t r = 0; r < rows; ++r) {
    int64_t n = rng() % 10 < 3 ? 1 : u(0, 20);
    pc.i64[r] = n;
    ds.i64[r] = u(0, 400), ds.valid[r] = n > 0 && !nul(5);
    ts.f64[r] = static_cast<double>(u(0, 300000)), ts.valid[r] = !nul(5);
    bd.i64[r] = u(0, 365), bd.valid[r] = !nul(10);
    sm.i64[r] = u(0, 24), sm.valid[r] = !nul(40);
    sc.i64[r] = u(0, 24), sc.valid[r] = sm.valid[r];
    st.i64[r] = statuses[u(0, 2)], st.valid[r] = sm.valid[r];
    sat.i64[r] = u(1, 5), sat.valid[r] = !nul(20);
    rc.i64[r] = u(0, 3), rc.valid[r] = !nul(5);
    dss.i64[r] = u(0, 2000), dss.valid[r] = !nul(2);
    em.i64[r] = u(0, 1), em.valid[r] = !nul(5);
    ln.i64[r] = u(0, 1), ln.valid[r] = !nul(8);
    for (int64_t t : tag_ids)
      if (rng() % 4 == 0) tags.list_values.push_back(t);
    tags.list_offsets.push_back(static_cast<uint32_t>(tags.list_values.size()));
    for (int64_t k = u(0, 5); k > 0; --k) pur.list_values.push_back(skus[static_cast<size_t>(u(0, 49))]);
    pur.list_offsets.push_back(static_cast<uint32_t>(pur.list_values.size()));
    pur.valid[r] = !nul(3);
  }
  return f;
}

// The playbook (SPEC §1): 20 rules sharing four definitions, compiled from .crm text.
const char* kPlaybook = R"crm(
segment vip = total_spent >= 100_000 or purchase_count >= 10
segment subscriber = subscription.status == "active"
let dormant = days_since >= 90
segment reachable = email_opt_in or line_opt_in
let aov = total_spent / purchase_count

message thanks via email
message any_concerns via line
message usage_tips via email
message voices via email
message continuation via email
message birthday_card via dm cost 120
message anniversary via email
message winback via email
message deep_winback via dm cost 120
message referral_ask via email
message continuation_perk via email
message skip_offer via email
message vip_news via email
message welcome via email
message second_step via email
message bundle via email
message recommend via email
message paused_nudge via line
message survey via email
message vip_winback via email

rule thanks: when purchase_count == 1 and days_since == 0 then send thanks
rule check_in: when purchase_count == 1 and days_since == 7 then send any_concerns priority 10
rule tips: when purchase_count == 1 and days_since == 14 then send usage_tips
rule voices: when purchase_count == 1 and days_since == 30 then send voices
rule continuation: when purchase_count == 1 and days_since == 45 and reachable then send continuation
rule birthday: when vip and days_until_birthday == 7 then send birthday_card, grant coupon birthday_10 once per year(today)
rule anniversary: when vip and days_since_signup % 365 == 0 then send anniversary once per year(today)
rule winback: when days_since >= 90 and days_since < 180 then send winback
rule deep_winback: when dormant and days_since >= 180 and not vip then send deep_winback
rule referral: when satisfaction >= 4 and purchase_count >= 2 and referral_count == 0 then send referral_ask
rule perk: when subscriber and subscription.months in [3, 6, 12] then send continuation_perk once per subscription.months
rule skip: when subscriber and subscription.cycles == 2 and satisfaction <= 2 then send skip_offer
rule vip_news: when "vip" in tags and days_since == 30 then send vip_news
rule welcome: when "welcomed" not in tags and days_since_signup <= 3 then send welcome, tag welcomed
rule second: when purchase_count >= 2 and purchase_count <= 4 and days_since == 60 then send second_step
rule bundle: when aov >= 8000 and purchase_count >= 3 then send bundle
rule recommend: when "SKU1" in purchased and days_since == 20 then send recommend
rule paused: when subscription.status == "paused" and days_since >= 30 then send paused_nudge
rule survey: when satisfaction is null and purchase_count >= 1 and days_since == 10 then send survey
rule vip_winback: when vip and dormant and email_opt_in then send vip_winback
)crm";

// The same 20 conditions written by hand over the columns (a rule fires only when TRUE, so a
// null operand makes a comparison fail, which is what `valid & ...` says). Bitwise & and |
// instead of && and || keep the loop free of branches, as a performance-minded author would.
struct Soa {
  const int64_t *pc, *ds, *bd, *sm, *sc, *st, *sat, *rc, *dss, *em, *ln;
  const double* ts;
  const uint8_t *pcv, *dsv, *tsv, *bdv, *smv, *scv, *stv, *satv, *rcv, *dssv, *emv, *lnv, *tagv, *purv;
  const uint32_t *tago, *puro;
  const int64_t *tagval, *purval;
  int64_t active, paused, vip_tag, welcomed_tag, sku1;
};

Soa soa_of(const Frame& f) {
  auto c = [&](const char* n) -> const engine::Column& { return *f.column(n); };
  Soa s;
  s.pc = c("purchase_count").i64.data(), s.pcv = c("purchase_count").valid.data();
  s.ds = c("days_since").i64.data(), s.dsv = c("days_since").valid.data();
  s.ts = c("total_spent").f64.data(), s.tsv = c("total_spent").valid.data();
  s.bd = c("days_until_birthday").i64.data(), s.bdv = c("days_until_birthday").valid.data();
  s.sm = c("subscription.months").i64.data(), s.smv = c("subscription.months").valid.data();
  s.sc = c("subscription.cycles").i64.data(), s.scv = c("subscription.cycles").valid.data();
  s.st = c("subscription.status").i64.data(), s.stv = c("subscription.status").valid.data();
  s.sat = c("satisfaction").i64.data(), s.satv = c("satisfaction").valid.data();
  s.rc = c("referral_count").i64.data(), s.rcv = c("referral_count").valid.data();
  s.dss = c("days_since_signup").i64.data(), s.dssv = c("days_since_signup").valid.data();
  s.em = c("email_opt_in").i64.data(), s.emv = c("email_opt_in").valid.data();
  s.ln = c("line_opt_in").i64.data(), s.lnv = c("line_opt_in").valid.data();
  s.tago = c("tags").list_offsets.data(), s.tagval = c("tags").list_values.data(), s.tagv = c("tags").valid.data();
  s.puro = c("purchased").list_offsets.data(), s.purval = c("purchased").list_values.data(), s.purv = c("purchased").valid.data();
  s.active = f.strings->find("active"), s.paused = f.strings->find("paused");
  s.vip_tag = f.strings->find("vip"), s.welcomed_tag = f.strings->find("welcomed"), s.sku1 = f.strings->find("SKU1");
  return s;
}

inline bool has(const uint32_t* off, const int64_t* vals, size_t r, int64_t x) {
  for (uint32_t j = off[r]; j < off[r + 1]; ++j)
    if (vals[j] == x) return true;
  return false;
}

void hand_loop(const Soa& s, size_t rows, std::vector<size_t>& counts) {
  size_t c[kRules] = {};
  for (size_t r = 0; r < rows; ++r) {
    bool pc = s.pcv[r], ds = s.dsv[r];
    int64_t p = s.pc[r], d = s.ds[r];
    bool pc1 = pc & p == 1;
    // vip: true when either side is TRUE; false or unknown otherwise. `not vip` needs it FALSE.
    bool vip_t = (s.tsv[r] & s.ts[r] >= 100000) | (pc & p >= 10);
    bool vip_f = s.tsv[r] & !(s.ts[r] >= 100000) & pc & !(p >= 10);
    bool dormant = ds & d >= 90;
    bool reach = (s.emv[r] & s.em[r]) | (s.lnv[r] & s.ln[r]);
    bool subscriber = s.stv[r] & s.st[r] == s.active;
    c[0] += pc1 & ds & d == 0;
    c[1] += pc1 & ds & d == 7;
    c[2] += pc1 & ds & d == 14;
    c[3] += pc1 & ds & d == 30;
    c[4] += pc1 & ds & d == 45 & reach;
    c[5] += vip_t & s.bdv[r] & s.bd[r] == 7;
    c[6] += vip_t & s.dssv[r] & s.dss[r] % 365 == 0;
    c[7] += ds & d >= 90 & d < 180;
    c[8] += dormant & d >= 180 & vip_f;
    c[9] += s.satv[r] & s.sat[r] >= 4 & pc & p >= 2 & s.rcv[r] & s.rc[r] == 0;
    c[10] += subscriber & s.smv[r] & (s.sm[r] == 3 | s.sm[r] == 6 | s.sm[r] == 12);
    c[11] += subscriber & s.scv[r] & s.sc[r] == 2 & s.satv[r] & s.sat[r] <= 2;
    c[12] += s.tagv[r] & has(s.tago, s.tagval, r, s.vip_tag) & ds & d == 30;
    c[13] += s.tagv[r] & !has(s.tago, s.tagval, r, s.welcomed_tag) & s.dssv[r] & s.dss[r] <= 3;
    c[14] += pc & p >= 2 & p <= 4 & ds & d == 60;
    c[15] += pc & p != 0 & s.tsv[r] & s.ts[r] / static_cast<double>(p) >= 8000 & p >= 3;
    c[16] += s.purv[r] & has(s.puro, s.purval, r, s.sku1) & ds & d == 20;
    c[17] += s.stv[r] & s.st[r] == s.paused & ds & d >= 30;
    c[18] += !s.satv[r] & pc & p >= 1 & ds & d == 10;
    c[19] += vip_t & dormant & s.emv[r] & s.em[r];
  }
  counts.assign(c, c + kRules);
}

void compiled(const engine::Program& prog, const Frame& f, std::vector<size_t>& counts) {
  engine::Evaluator ev(prog, f);
  counts.assign(kRules, 0);
  for (size_t b = 0; b < f.rows; b += engine::kBatchRows) {
    ev.set_batch(b, std::min(f.rows, b + engine::kBatchRows));
    size_t n = ev.batch_size();
    for (size_t rule = 0; rule < kRules; ++rule) {
      const engine::Truth* t = ev.condition(rule);
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) k += t[i] == engine::Truth::True;
      counts[rule] += k;
    }
  }
}

struct Timing {
  double best = 0, median = 0;  // wall-clock milliseconds
  double cpu_best = 0;          // thread CPU milliseconds (less sensitive to a busy machine)
};

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// The same over `threads` threads, each with its own Evaluator on a contiguous share of batches.
void compiled_parallel(const engine::Program& prog, const Frame& f, size_t threads, std::vector<size_t>& counts) {
  size_t batches = (f.rows + engine::kBatchRows - 1) / engine::kBatchRows;
  std::vector<std::vector<size_t>> part(threads, std::vector<size_t>(kRules, 0));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      engine::Evaluator ev(prog, f);
      for (size_t bi = batches * t / threads; bi < batches * (t + 1) / threads; ++bi) {
        size_t b = bi * engine::kBatchRows;
        ev.set_batch(b, std::min(f.rows, b + engine::kBatchRows));
        for (size_t rule = 0; rule < kRules; ++rule) {
          const engine::Truth* tr = ev.condition(rule);
          size_t k = 0;
          for (size_t i = 0; i < ev.batch_size(); ++i) k += tr[i] == engine::Truth::True;
          part[t][rule] += k;
        }
      }
    });
  for (auto& th : pool) th.join();
  counts.assign(kRules, 0);
  for (const auto& p : part)
    for (size_t r = 0; r < kRules; ++r) counts[r] += p[r];
}

template <class F>
Timing time_runs(int runs, F f) {
  std::vector<double> ms, cpu;
  for (int i = 0; i < runs; ++i) {
    double c0 = cpu_ms();
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    cpu.push_back(cpu_ms() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  return {ms.front(), ms[ms.size() / 2], cpu.front()};
}

}  // namespace

int main(int argc, char** argv) {
  size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 9;
  std::printf("building %zu customers...\n", rows);
  Frame f = make_frame(rows);
  auto t0 = std::chrono::steady_clock::now();
  lang::Diagnostics diags;
  auto src = std::make_shared<const lang::SourceFile>("playbook.crm", kPlaybook);
  std::vector<lang::Module> modules;
  modules.push_back(lang::parse(src, diags));
  lang::CheckedProgram checked = lang::check(std::move(modules), {}, diags);
  if (diags.has_errors()) {
    std::fprintf(stderr, "%s", lang::render_all(diags).c_str());
    return 1;
  }
  engine::Program prog = engine::compile_program(checked, diags);
  auto t1 = std::chrono::steady_clock::now();
  if (diags.has_errors() || prog.rules().size() != kRules) {
    std::fprintf(stderr, "%s", lang::render_all(diags).c_str());
    return 1;
  }
  std::printf("parsed, checked and compiled %zu rules into %zu instructions in %.3f ms; columns:", prog.rules().size(), prog.nodes().size(),
              std::chrono::duration<double, std::milli>(t1 - t0).count());
  for (const auto& c : prog.required_columns()) std::printf(" %s", c.c_str());
  std::printf("\n");

  std::vector<size_t> got, want;
  Soa soa = soa_of(f);
  Timing v = time_runs(runs, [&] { compiled(prog, f, got); });
  Timing h = time_runs(runs, [&] { hand_loop(soa, rows, want); });
  std::vector<size_t> got2;
  Timing v2 = time_runs(runs, [&] { compiled_parallel(prog, f, 2, got2); });
  bool same = got == want && got2 == want;
  double evals = static_cast<double>(rows) * kRules;
  std::printf("compiled evaluator: best %.1f ms, median %.1f ms, best CPU %.1f ms  (%.0f M customer-rule evaluations/s)\n",
              v.best, v.median, v.cpu_best, evals / v.best / 1e3);
  std::printf("hand-written loop:  best %.1f ms, median %.1f ms, best CPU %.1f ms  (%.0f M customer-rule evaluations/s)\n",
              h.best, h.median, h.cpu_best, evals / h.best / 1e3);
  std::printf("compiled, 2 threads: best %.1f ms, median %.1f ms\n", v2.best, v2.median);
  {
    // One customer at a time (the embedding case): a one-row frame, an Evaluator bound once.
    Frame one = make_frame(1);
    engine::Evaluator ev(prog, one);
    constexpr int kReps = 100000;
    size_t fired = 0;
    auto c0 = std::chrono::steady_clock::now();
    for (int rep = 0; rep < kReps; ++rep) {
      ev.set_batch(0, 1);
      for (size_t rule = 0; rule < kRules; ++rule) fired += ev.condition(rule)[0] == engine::Truth::True;
    }
    auto c1 = std::chrono::steady_clock::now();
    std::printf("one customer, all 20 rules: %.2f us per customer (%zu fired)\n",
                std::chrono::duration<double, std::micro>(c1 - c0).count() / kReps, fired / kReps);
  }
  std::printf("ratio compiled / hand-written (best): %.2fx   target: < 70 ms for 20 rules x 1M rows\n", v.best / h.best);
  std::printf("fires per rule:");
  for (size_t k : got) std::printf(" %zu", k);
  std::printf("\nresults %s the hand-written loop\n", same ? "match" : "DIFFER FROM");
  if (!same) {
    for (size_t i = 0; i < kRules; ++i)
      if (got[i] != want[i]) std::printf("  rule %zu: compiled %zu, hand %zu\n", i + 1, got[i], want[i]);
    return 1;
  }
  return 0;
}
