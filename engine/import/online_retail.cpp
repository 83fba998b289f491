// The UCI Online Retail importer (see online_retail.hpp): a streaming CSV reader over zlib,
// rows grouped into orders per invoice, customers and products collected and written last.
#include "engine/import/online_retail.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/store/store.hpp"
#include "lang/date.hpp"
#include "engine/import/empty_store.hpp"
#include "engine/store/fact_writer.hpp"

namespace crm::examples {
namespace {

constexpr size_t kReadChunk = 1 << 16;
constexpr size_t kMaxWarnings = 10;          // the first few bad rows are named, then only counted
constexpr size_t kMaxFieldBytes = 1 << 20;   // a runaway quoted field is a broken file, not data

// ---------------------------------------------------------------- CSV over gzip
// RFC 4180: fields separated by commas, optionally in double quotes ("" is a quote inside);
// quoted fields may span lines. gzread reads plain files unchanged.
class CsvReader {
 public:
  explicit CsvReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw std::runtime_error("cannot open '" + path + "'");
  }
  ~CsvReader() { gzclose(file_); }
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // The line on which the last record started (1-based).
  int64_t line() const { return record_line_; }

  bool next(std::vector<std::string>& fields) {
    fields.clear();
    int c = get();
    while (c == '\r' || c == '\n') c = get();  // blank lines
    if (c == EOF) return false;
    record_line_ = line_;
    std::string field;
    bool quoted = false;
    for (;;) {
      if (quoted) {
        if (c == EOF) throw error("unterminated quoted field");
        if (c == '"') {
          int n = get();
          if (n == '"') field += '"';
          else { quoted = false; c = n; continue; }
        } else {
          field += static_cast<char>(c);
        }
      } else if (c == '"' && field.empty()) {
        quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\n' || c == '\r' || c == EOF) {
        fields.push_back(std::move(field));
        return true;
      } else {
        field += static_cast<char>(c);
      }
      if (field.size() > kMaxFieldBytes) throw error("a field longer than 1 MiB");
      c = get();
    }
  }

  std::runtime_error error(const std::string& what) const {
    return std::runtime_error(path_ + ":" + std::to_string(record_line_) + ": " + what);
  }

 private:
  int get() {
    if (pos_ == len_) {
      int n = gzread(file_, buf_, kReadChunk);
      if (n < 0) {
        int code = 0;
        throw std::runtime_error("'" + path_ + "': " + gzerror(file_, &code));
      }
      if (n == 0) return EOF;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    char c = buf_[pos_++];
    if (c == '\n') ++line_;
    return static_cast<unsigned char>(c);
  }

  std::string path_;
  gzFile file_;
  char buf_[kReadChunk];
  size_t pos_ = 0, len_ = 0;
  int64_t line_ = 1, record_line_ = 1;
};

// ---------------------------------------------------------------- field parsing
std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// The original file is Latin-1 in some copies: bytes that are not valid UTF-8 are read as Latin-1.
std::string to_utf8(const std::string& s) {
  bool valid = true;
  for (size_t i = 0; i < s.size() && valid;) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) { valid = false; break; }
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) valid = false;
    i += n;
  }
  if (valid) return s;
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) out += static_cast<char>(c);
    else { out += static_cast<char>(0xC0 | (c >> 6)); out += static_cast<char>(0x80 | (c & 0x3F)); }
  }
  return out;
}

std::optional<double> parse_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "17850" or "17850.0" -> 17850.
std::optional<int64_t> parse_customer(const std::string& s) {
  auto v = parse_number(s);
  if (!v || *v < 1 || *v > 9e15 || std::floor(*v) != *v) return std::nullopt;
  return static_cast<int64_t>(*v);
}

// "12/1/2010 8:26" (M/D/YYYY H:MM, the UCI file), "2010-12-01 08:26:00" or "2010-12-01T08:26"
// -> {day, "YYYY-MM-DDTHH:MM:SS"}.
std::optional<std::pair<Days, std::string>> parse_when(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  char sep = 0;
  int n = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%d%c%d:%d%n", &y, &mo, &d, &sep, &h, &mi, &n) >= 6 && (sep == ' ' || sep == 'T')) {
    std::sscanf(s.c_str() + n, ":%d", &sec);
  } else if (std::sscanf(s.c_str(), "%d/%d/%d %d:%d%n", &mo, &d, &y, &h, &mi, &n) >= 5) {
    std::sscanf(s.c_str() + n, ":%d", &sec);
  } else {
    return std::nullopt;
  }
  if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(days_in_month(y, static_cast<unsigned>(mo))) ||
      h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
    return std::nullopt;
  Days day = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d", h, mi, sec);
  return std::make_pair(day, format_date(day) + buf);
}

// ---------------------------------------------------------------- the columns
struct Columns {
  int invoice = -1, stock_code = -1, description = -1, quantity = -1, date = -1, price = -1, customer = -1,
      country = -1;
};

Columns find_columns(const std::vector<std::string>& header, const CsvReader& in) {
  auto norm = [](std::string s) {
    std::string out;
    for (char c : s)
      if (c != ' ' && c != '_' && static_cast<unsigned char>(c) < 0x80) out += static_cast<char>(std::tolower(c));
    return out;
  };
  Columns c;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = norm(header[i]);
    if (i == 0 && h.size() >= 3 && h.compare(0, 3, "\xEF\xBB\xBF") == 0) h = h.substr(3);
    int idx = static_cast<int>(i);
    if (h == "invoiceno" || h == "invoice") c.invoice = idx;
    else if (h == "stockcode") c.stock_code = idx;
    else if (h == "description") c.description = idx;
    else if (h == "quantity") c.quantity = idx;
    else if (h == "invoicedate") c.date = idx;
    else if (h == "unitprice" || h == "price") c.price = idx;
    else if (h == "customerid") c.customer = idx;
    else if (h == "country") c.country = idx;
  }
  const std::pair<int, const char*> required[] = {{c.invoice, "InvoiceNo"},  {c.stock_code, "StockCode"},
                                                  {c.quantity, "Quantity"},  {c.date, "InvoiceDate"},
                                                  {c.price, "UnitPrice"},    {c.customer, "CustomerID"}};
  for (auto [col, name] : required)
    if (col < 0) throw in.error(std::string("missing column '") + name + "' in the header (is this the Online Retail CSV?)");
  return c;
}

struct OrderAgg {
  int64_t customer = 0;
  std::string at;
  double total = 0;
  bool refund = false;
};

struct CustomerAgg {
  Days first = 0;
  std::string first_at;
  std::string country;
};

struct ProductAgg {
  int64_t id = 0;
  std::string name;
  std::optional<double> price;
};

}  // namespace

OnlineRetailCounts import_online_retail(const std::string& db_path, const std::string& csv_path,
                                        const OnlineRetailOptions& options) {
  CsvReader in(csv_path);
  std::vector<std::string> f;
  if (!in.next(f)) throw in.error("empty file: expected a header line");
  Columns col = find_columns(f, in);
  size_t needed = 0;
  for (int i : {col.invoice, col.stock_code, col.description, col.quantity, col.date, col.price, col.customer, col.country})
    needed = std::max(needed, static_cast<size_t>(i + 1));

  SQLite::Database db = open_empty_store(db_path, "import into a new file");
  engine::FactWriter writer(db);
  writer.add_customer_column("country", "TEXT");
  // The shop is in the UK and its invoice times are local, without an offset.
  db.exec("INSERT INTO meta (key, value) VALUES ('timezone', 'Europe/London')"
          " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  SQLite::Transaction tx(db);

  OnlineRetailCounts counts;
  std::map<int64_t, OrderAgg> orders;
  std::unordered_map<int64_t, CustomerAgg> customers;
  std::unordered_map<std::string, ProductAgg> products;
  std::vector<std::string> product_order;  // skus in first-seen order, for stable ids
  auto bad = [&](const std::string& why) {
    ++counts.skipped_bad;
    if (counts.warnings.size() < kMaxWarnings)
      counts.warnings.push_back(csv_path + ":" + std::to_string(in.line()) + ": skipped: " + why);
  };

  while (in.next(f)) {
    ++counts.rows;
    if (f.size() < needed) { bad("expected " + std::to_string(needed) + " fields, found " + std::to_string(f.size())); continue; }
    std::string cust_text = trim(f[static_cast<size_t>(col.customer)]);
    if (cust_text.empty()) { ++counts.skipped_no_customer; continue; }
    auto customer = parse_customer(cust_text);
    if (!customer) { bad("CustomerID '" + cust_text + "' is not a number"); continue; }
    std::string invoice = trim(f[static_cast<size_t>(col.invoice)]);
    bool refund = !invoice.empty() && (invoice[0] == 'C' || invoice[0] == 'c');
    std::string digits = refund ? invoice.substr(1) : invoice;
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
      bad("invoice number '" + invoice + "' is not digits or C + digits");
      continue;
    }
    int64_t order_id = std::stoll(digits) + (refund ? kRefundIdOffset : 0);
    auto when = parse_when(trim(f[static_cast<size_t>(col.date)]));
    if (!when) { bad("InvoiceDate '" + f[static_cast<size_t>(col.date)] + "' is not M/D/YYYY H:MM or YYYY-MM-DD HH:MM"); continue; }
    auto qty = parse_number(trim(f[static_cast<size_t>(col.quantity)]));
    if (!qty || std::floor(*qty) != *qty || std::abs(*qty) > 1e12) { bad("Quantity is not a whole number"); continue; }
    auto price = parse_number(trim(f[static_cast<size_t>(col.price)]));
    if (!price) { bad("UnitPrice is not a number"); continue; }
    std::string sku = to_utf8(trim(f[static_cast<size_t>(col.stock_code)]));
    if (sku.empty()) { bad("empty StockCode"); continue; }

    auto [pit, new_product] = products.try_emplace(sku);
    ProductAgg& p = pit->second;
    if (new_product) {
      p.id = static_cast<int64_t>(product_order.size()) + 1;
      product_order.push_back(sku);
    }
    if (p.name.empty() && col.description >= 0) p.name = to_utf8(trim(f[static_cast<size_t>(col.description)]));
    if (!p.price && *price > 0) p.price = *price;

    auto [cit, new_customer] = customers.try_emplace(*customer);
    CustomerAgg& c = cit->second;
    if (new_customer || when->first < c.first || (when->first == c.first && when->second < c.first_at)) {
      c.first = when->first;
      c.first_at = when->second;
    }
    if (c.country.empty() && col.country >= 0) c.country = to_utf8(trim(f[static_cast<size_t>(col.country)]));

    auto [oit, new_order] = orders.try_emplace(order_id);
    OrderAgg& o = oit->second;
    if (new_order) {
      o.customer = *customer;
      o.at = when->second;
      o.refund = refund;
    }
    o.total += *qty * *price;

    writer.write(engine::OrderItemRow{order_id, p.id, static_cast<int64_t>(*qty), *price});
    ++counts.order_items;
  }

  std::map<int64_t, const CustomerAgg*> sorted_customers;
  for (const auto& [id, c] : customers) sorted_customers.emplace(id, &c);
  for (const auto& [id, c] : sorted_customers) {
    engine::CustomerRow row;
    row.set(engine::CustomerCol::id, id).set(engine::CustomerCol::created_at, c->first_at);
    if (options.assume_email_opt_in) row.set(engine::CustomerCol::email_opt_in, int64_t{1});
    row.extra.emplace_back("country", c->country.empty() ? engine::Cell() : engine::Cell(c->country));
    writer.write(row);
    ++counts.customers;
  }

  for (const std::string& sku : product_order) {
    const ProductAgg& p = products.at(sku);
    engine::ProductRow row;
    row.id = p.id;
    row.sku = sku;
    if (!p.name.empty()) row.name = p.name;
    if (p.price) row.price = *p.price;
    writer.write(row);
    ++counts.products;
  }

  for (const auto& [id, o] : orders) {
    // Totals in pence: sums of prices drift in binary.
    writer.write(engine::OrderRow{id, o.customer, o.at, std::round(o.total * 100) / 100, o.refund ? "refunded" : "paid"});
    ++(o.refund ? counts.refunds : counts.orders);
  }
  tx.commit();
  return counts;
}

}  // namespace crm::examples
