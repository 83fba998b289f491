// The CDNOW importer (see cdnow.hpp): one pass over the lines, customers written last.
#include "engine/import/cdnow.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "engine/import/empty_store.hpp"
#include "lang/date.hpp"

namespace crm::importer {
namespace {

constexpr size_t kMaxWarnings = 10;

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::optional<double> number(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

CdnowCounts import_cdnow(const std::string& db_path, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  SQLite::Database db = examples::open_empty_store(db_path, "import into a new file");
  SQLite::Transaction tx(db);
  db.exec("INSERT INTO products (id, sku, name, category, price) VALUES (1, 'CD', 'CD', 'music', NULL)");
  SQLite::Statement order(db, "INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES (?, ?, ?, ?, 'paid')");
  SQLite::Statement item(db, "INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (?, 1, ?, ?)");
  CdnowCounts c;
  std::map<int64_t, Days> first;  // customer -> first purchase day
  std::string line;
  int64_t line_no = 0;
  auto bad = [&](const std::string& why) {
    ++c.skipped_bad;
    if (c.warnings.size() < kMaxWarnings) c.warnings.push_back(path + ":" + std::to_string(line_no) + ": skipped: " + why);
  };
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    if (!all_digits(f[0])) {
      if (c.lines == 0 && c.skipped_bad == 0) continue;  // a header line
      bad("the customer id '" + f[0] + "' is not a number");
      continue;
    }
    if (f.size() != 4 && f.size() != 5) { bad("expected 4 or 5 columns, found " + std::to_string(f.size())); continue; }
    size_t k = f.size() - 3;  // the date column
    const std::string& d = f[k];
    if (d.size() != 8 || !all_digits(d)) { bad("the date '" + d + "' is not YYYYMMDD"); continue; }
    auto day = parse_date(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2));
    auto cds = number(f[k + 1]);
    auto value = number(f[k + 2]);
    if (!day) { bad("the date '" + d + "' is not a calendar date"); continue; }
    if (!cds || *cds < 0 || std::floor(*cds) != *cds) { bad("the number of CDs '" + f[k + 1] + "' is not a whole number"); continue; }
    if (!value) { bad("the dollar value '" + f[k + 2] + "' is not a number"); continue; }
    if (f[0].size() > 15) { bad("the customer id is too long"); continue; }
    int64_t customer = std::stoll(f[0]);
    ++c.lines;
    auto [it, inserted] = first.emplace(customer, *day);
    if (!inserted && *day < it->second) it->second = *day;
    order.bind(1, c.lines);
    order.bind(2, customer);
    order.bind(3, format_date(*day) + kCdnowTimeOfDay);
    order.bind(4, *value);
    order.exec();
    order.reset();
    ++c.orders;
    if (*cds > 0) {
      item.bind(1, c.lines);
      item.bind(2, static_cast<int64_t>(*cds));
      item.bind(3, std::round(*value / *cds * 100) / 100);
      item.exec();
      item.reset();
    }
  }
  if (c.lines == 0) throw std::runtime_error("'" + path + "' has no CDNOW data line (customer id, date YYYYMMDD, CDs, dollars)");
  SQLite::Statement cust(db, "INSERT INTO customers (id, created_at) VALUES (?, ?)");
  for (const auto& [id, day] : first) {
    cust.bind(1, id);
    cust.bind(2, format_date(day) + kCdnowTimeOfDay);
    cust.exec();
    cust.reset();
    ++c.customers;
  }
  tx.commit();
  return c;
}

}  // namespace crm::importer
