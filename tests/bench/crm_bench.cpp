// crm-bench: evaluates a 20-rule playbook over 1M synthetic customers held in memory with the
// compiled evaluator, beside its honest peers on the same customers and the same 20 rules: a
// hand-written loop over the engine's columns, a tight struct-of-arrays loop (32-bit values,
// nulls as sentinels), and SQLite (an in-memory table, one COUNT query per rule). It prints
// ratios, which hold on a noisy machine. Usage: crm-bench [ROWS] [RUNS] [--no-sqlite].
// Built by default, not run as a test (see docs/evaluator.md, tests/bench/README.md).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include <climits>
#include <cmath>
#include <cstring>

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

// The tight loop a performance-minded author writes for one known playbook: 32-bit values with
// INT32_MIN for null (so `valid & x == k` becomes `x == k`), float money with NaN for null, the
// two list columns as 32-bit CSR. Same results as the other two; nothing precomputed per rule.
constexpr int32_t kNull = INT32_MIN;
struct Tight {
  std::vector<int32_t> pc, ds, bd, sm, sc, st, sat, rc, dss;
  std::vector<int8_t> em, ln;  // -1 null
  std::vector<float> ts;       // NaN null
  std::vector<uint32_t> tago, puro;
  std::vector<int32_t> tagval, purval;
  std::vector<uint8_t> tagv, purv;
  int32_t active, paused, vip_tag, welcomed_tag, sku1;
};

Tight tight_of(const Frame& f) {
  Tight t;
  auto ints = [&](const char* n, std::vector<int32_t>& out) {
    const auto& c = *f.column(n);
    out.resize(f.rows);
    for (size_t r = 0; r < f.rows; ++r) out[r] = c.valid[r] ? static_cast<int32_t>(c.i64[r]) : kNull;
  };
  ints("purchase_count", t.pc), ints("days_since", t.ds), ints("days_until_birthday", t.bd);
  ints("subscription.months", t.sm), ints("subscription.cycles", t.sc), ints("subscription.status", t.st);
  ints("satisfaction", t.sat), ints("referral_count", t.rc), ints("days_since_signup", t.dss);
  auto flags = [&](const char* n, std::vector<int8_t>& out) {
    const auto& c = *f.column(n);
    out.resize(f.rows);
    for (size_t r = 0; r < f.rows; ++r) out[r] = c.valid[r] ? static_cast<int8_t>(c.i64[r] != 0) : int8_t{-1};
  };
  flags("email_opt_in", t.em), flags("line_opt_in", t.ln);
  const auto& ts = *f.column("total_spent");
  t.ts.resize(f.rows);
  for (size_t r = 0; r < f.rows; ++r) t.ts[r] = ts.valid[r] ? static_cast<float>(ts.f64[r]) : NAN;
  auto list = [&](const char* n, std::vector<uint32_t>& off, std::vector<int32_t>& val, std::vector<uint8_t>& v) {
    const auto& c = *f.column(n);
    off = c.list_offsets;
    val.assign(c.list_values.begin(), c.list_values.end());
    v = c.valid;
  };
  list("tags", t.tago, t.tagval, t.tagv), list("purchased", t.puro, t.purval, t.purv);
  t.active = static_cast<int32_t>(f.strings->find("active")), t.paused = static_cast<int32_t>(f.strings->find("paused"));
  t.vip_tag = static_cast<int32_t>(f.strings->find("vip")), t.welcomed_tag = static_cast<int32_t>(f.strings->find("welcomed"));
  t.sku1 = static_cast<int32_t>(f.strings->find("SKU1"));
  return t;
}

inline bool has32(const uint32_t* off, const int32_t* vals, size_t r, int32_t x) {
  for (uint32_t j = off[r]; j < off[r + 1]; ++j)
    if (vals[j] == x) return true;
  return false;
}

void tight_loop(const Tight& t, size_t rows, std::vector<size_t>& counts) {
  size_t c[kRules] = {};
  const int32_t *PC = t.pc.data(), *DS = t.ds.data(), *BD = t.bd.data(), *SM = t.sm.data(), *SC = t.sc.data(),
                *ST = t.st.data(), *SAT = t.sat.data(), *RC = t.rc.data(), *DSS = t.dss.data();
  const int8_t *EM = t.em.data(), *LN = t.ln.data();
  const float* TS = t.ts.data();
  for (size_t r = 0; r < rows; ++r) {
    int32_t p = PC[r], d = DS[r], sat = SAT[r], dss = DSS[r];
    float ts = TS[r];
    bool dsv = d != kNull, pcv = p != kNull;
    bool pc1 = p == 1;
    bool vip_t = ts >= 100000.f | (pcv & p >= 10);  // NaN compares false
    bool vip_f = ts < 100000.f & pcv & p < 10;
    bool dormant = dsv & d >= 90;
    bool reach = EM[r] == 1 | LN[r] == 1;
    bool subscriber = ST[r] == t.active;
    c[0] += pc1 & d == 0;
    c[1] += pc1 & d == 7;
    c[2] += pc1 & d == 14;
    c[3] += pc1 & d == 30;
    c[4] += pc1 & d == 45 & reach;
    c[5] += vip_t & BD[r] == 7;
    c[6] += vip_t & dss != kNull & dss % 365 == 0;
    c[7] += dsv & d >= 90 & d < 180;
    c[8] += dormant & d >= 180 & vip_f;
    c[9] += sat != kNull & sat >= 4 & pcv & p >= 2 & RC[r] == 0;
    c[10] += subscriber & (SM[r] == 3 | SM[r] == 6 | SM[r] == 12);
    c[11] += subscriber & SC[r] == 2 & sat != kNull & sat <= 2;
    c[12] += t.tagv[r] & d == 30 && has32(t.tago.data(), t.tagval.data(), r, t.vip_tag);
    c[13] += t.tagv[r] & dss != kNull & dss <= 3 && !has32(t.tago.data(), t.tagval.data(), r, t.welcomed_tag);
    c[14] += pcv & p >= 2 & p <= 4 & d == 60;
    c[15] += pcv & p >= 3 && ts / static_cast<float>(p) >= 8000.f;
    c[16] += t.purv[r] & d == 20 && has32(t.puro.data(), t.purval.data(), r, t.sku1);
    c[17] += ST[r] == t.paused & dsv & d >= 30;
    c[18] += sat == kNull & pcv & p >= 1 & d == 10;
    c[19] += vip_t & dormant & EM[r] == 1;
  }
  counts.assign(c, c + kRules);
}

// SQLite as a peer: the customers in an in-memory table (NULL for nulls, lists as ",a,b,"
// text), and the 20 conditions as one COUNT query each, which SQL's three-valued logic
// answers with the language's semantics (a row counts only when the condition is TRUE).
const char* kSqlRules[kRules] = {
    "pc = 1 AND ds = 0", "pc = 1 AND ds = 7", "pc = 1 AND ds = 14", "pc = 1 AND ds = 30",
    "pc = 1 AND ds = 45 AND (em OR ln)",
    "(ts >= 100000 OR pc >= 10) AND bd = 7",
    "(ts >= 100000 OR pc >= 10) AND dss % 365 = 0",
    "ds >= 90 AND ds < 180",
    "ds >= 90 AND ds >= 180 AND NOT (ts >= 100000 OR pc >= 10)",
    "sat >= 4 AND pc >= 2 AND rc = 0",
    "st = 'active' AND sm IN (3, 6, 12)",
    "st = 'active' AND sc = 2 AND sat <= 2",
    "instr(tags, ',vip,') > 0 AND ds = 30",
    "instr(tags, ',welcomed,') = 0 AND dss <= 3",
    "pc >= 2 AND pc <= 4 AND ds = 60",
    "ts / pc >= 8000 AND pc >= 3",
    "instr(purchased, ',SKU1,') > 0 AND ds = 20",
    "st = 'paused' AND ds >= 30",
    "sat IS NULL AND pc >= 1 AND ds = 10",
    "(ts >= 100000 OR pc >= 10) AND ds >= 90 AND em",
};

sqlite3* sqlite_of(const Frame& f, double& build_ms) {
  auto t0 = std::chrono::steady_clock::now();
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_exec(db, "CREATE TABLE c (pc INTEGER, ds INTEGER, ts REAL, bd INTEGER, sm INTEGER, sc INTEGER, st TEXT, "
                   "sat INTEGER, rc INTEGER, dss INTEGER, em INTEGER, ln INTEGER, tags TEXT, purchased TEXT); BEGIN",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO c VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &ins, nullptr);
  const char* ints[] = {"purchase_count", "days_since", nullptr, "days_until_birthday", "subscription.months",
                        "subscription.cycles", nullptr, "satisfaction", "referral_count", "days_since_signup",
                        "email_opt_in", "line_opt_in"};
  std::string list;
  for (size_t r = 0; r < f.rows; ++r) {
    sqlite3_reset(ins);
    for (int k = 0; k < 12; ++k) {
      if (!ints[k]) continue;
      const auto& c = *f.column(ints[k]);
      if (c.valid[r]) sqlite3_bind_int64(ins, k + 1, c.i64[r]);
      else sqlite3_bind_null(ins, k + 1);
    }
    const auto& ts = *f.column("total_spent");
    if (ts.valid[r]) sqlite3_bind_double(ins, 3, ts.f64[r]);
    else sqlite3_bind_null(ins, 3);
    const auto& st = *f.column("subscription.status");
    if (st.valid[r]) {
      std::string_view v = f.strings->get(st.i64[r]);
      sqlite3_bind_text(ins, 7, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(ins, 7);
    }
    int k = 13;
    for (const char* n : {"tags", "purchased"}) {
      const auto& c = *f.column(n);
      if (!c.valid[r]) {
        sqlite3_bind_null(ins, k++);
        continue;
      }
      list = ",";
      for (uint32_t j = c.list_offsets[r]; j < c.list_offsets[r + 1]; ++j) (list += f.strings->get(c.list_values[j])) += ",";
      sqlite3_bind_text(ins, k++, list.data(), static_cast<int>(list.size()), SQLITE_TRANSIENT);
    }
    sqlite3_step(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return db;
}

void sqlite_rules(sqlite3* db, std::vector<size_t>& counts) {
  counts.assign(kRules, 0);
  for (size_t i = 0; i < kRules; ++i) {
    std::string sql = std::string("SELECT count(*) FROM c WHERE ") + kSqlRules[i];
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr);
    if (sqlite3_step(q) == SQLITE_ROW) counts[i] = static_cast<size_t>(sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
  }
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
  bool with_sqlite = !(argc > 3 && std::strcmp(argv[3], "--no-sqlite") == 0);
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
  Tight tight = tight_of(f);
  std::vector<size_t> got_tight;
  Timing tl = time_runs(runs, [&] { tight_loop(tight, rows, got_tight); });
  std::vector<size_t> got_sql = want;
  Timing sq{};
  double sql_build_ms = 0;
  if (with_sqlite) {
    sqlite3* db = sqlite_of(f, sql_build_ms);
    sq = time_runs(std::max(1, runs / 3), [&] { sqlite_rules(db, got_sql); });
    sqlite3_close(db);
  }
  bool same = got == want && got2 == want && got_tight == want && got_sql == want;
  double evals = static_cast<double>(rows) * kRules;
  std::printf("compiled evaluator: best %.1f ms, median %.1f ms, best CPU %.1f ms  (%.0f M customer-rule evaluations/s)\n",
              v.best, v.median, v.cpu_best, evals / v.best / 1e3);
  std::printf("hand-written loop:  best %.1f ms, median %.1f ms, best CPU %.1f ms  (%.0f M customer-rule evaluations/s)\n",
              h.best, h.median, h.cpu_best, evals / h.best / 1e3);
  std::printf("tight SoA loop:      best %.1f ms, median %.1f ms, best CPU %.1f ms  (%.0f M customer-rule evaluations/s)\n",
              tl.best, tl.median, tl.cpu_best, evals / tl.best / 1e3);
  if (with_sqlite)
    std::printf("SQLite, 1 query/rule: best %.1f ms, median %.1f ms (table built in %.0f ms, not counted)\n", sq.best,
                sq.median, sql_build_ms);
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
  std::printf("ratios (best): compiled / tight loop %.2fx, compiled / hand-written %.2fx", v.best / tl.best, v.best / h.best);
  if (with_sqlite) std::printf(", SQLite / compiled %.1fx", sq.best / v.best);
  std::printf("\n");
  std::printf("fires per rule:");
  for (size_t k : got) std::printf(" %zu", k);
  std::printf("\nresults %s the hand-written loop\n", same ? "match" : "DIFFER FROM");
  if (!same) {
    for (size_t i = 0; i < kRules; ++i)
      if (got[i] != want[i] || got_tight[i] != want[i] || got_sql[i] != want[i])
        std::printf("  rule %zu: compiled %zu, hand %zu, tight %zu, sqlite %zu\n", i + 1, got[i], want[i], got_tight[i],
                    got_sql[i]);
    return 1;
  }
  return 0;
}
