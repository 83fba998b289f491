// crm-bare-read: the "bare read" baseline of a store. Scans, through the SQLite C API and with
// nothing else, every column that `crm run` loads (the same SELECTs as engine/store/load_facts),
// touching each cell once, so store_bench.sh can quote crm's load and day as ratios of it.
// Usage: crm-bare-read STORE [RUNS]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct TableScan {
  const char* name;
  const char* sql;
};

// The columns of SPEC §5 the loader reads (engine/store/load_facts.cpp), table by table.
const TableScan kScans[] = {
    {"customers",
     "SELECT id, name, email, birthday, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in, dm_opt_in, "
     "referred_by FROM customers ORDER BY 1"},
    {"orders", "SELECT id, customer_id, ordered_at, total, status FROM orders"},
    {"products", "SELECT id, sku FROM products"},
    {"order_items", "SELECT order_id, product_id FROM order_items"},
    {"subscriptions", "SELECT id, customer_id, started_at, status, cycles, cancelled_at, cancel_reason FROM subscriptions"},
    {"surveys", "SELECT rowid, customer_id, answered_at, satisfaction FROM surveys"},
    {"referrals", "SELECT rowid, referrer_id, created_at FROM referrals"},
    {"events", "SELECT id, customer_id, type, at, payload FROM events"},
    {"tags", "SELECT rowid, customer_id, tag, set_at FROM tags"},
    {"outbox", "SELECT id, run_date, customer_id, rule, action, target, idem_key, channel FROM outbox"},
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Steps through every row, reading each cell in its stored type; returns a checksum so the
// compiler cannot drop the reads, and the row count.
uint64_t scan(sqlite3* db, const char* sql, size_t& rows) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return 0;  // a table the store lacks
  uint64_t sum = 0;
  int cols = sqlite3_column_count(st);
  while (sqlite3_step(st) == SQLITE_ROW) {
    ++rows;
    for (int c = 0; c < cols; ++c) {
      switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER: sum += static_cast<uint64_t>(sqlite3_column_int64(st, c)); break;
        case SQLITE_FLOAT: sum += static_cast<uint64_t>(sqlite3_column_double(st, c)); break;
        case SQLITE_TEXT: {
          const unsigned char* t = sqlite3_column_text(st, c);
          int n = sqlite3_column_bytes(st, c);
          sum += static_cast<uint64_t>(n) + (n > 0 ? t[0] : 0);
          break;
        }
        default: break;
      }
    }
  }
  sqlite3_finalize(st);
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: crm-bare-read STORE [RUNS]\n");
    return 2;
  }
  int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "crm-bare-read: cannot open %s\n", argv[1]);
    return 1;
  }
  std::vector<double> totals;
  for (int r = 0; r < runs; ++r) {
    double t0 = now_ms(), total = 0;
    uint64_t sum = 0;
    for (const TableScan& s : kScans) {
      size_t rows = 0;
      double a = now_ms();
      sum += scan(db, s.sql, rows);
      double ms = now_ms() - a;
      if (r == runs - 1) std::printf("  %-14s %10zu rows %9.1f ms\n", s.name, rows, ms);
    }
    total = now_ms() - t0;
    totals.push_back(total);
    if (r == runs - 1) std::printf("  (checksum %llu)\n", static_cast<unsigned long long>(sum % 1000));
  }
  std::sort(totals.begin(), totals.end());
  std::printf("bare read: best %.1f ms, median %.1f ms over %d run(s)\n", totals.front(), totals[totals.size() / 2], runs);
  sqlite3_close(db);
  return 0;
}
