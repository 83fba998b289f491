// `crm import csv --init-mapping FILE` (mapping.hpp guess_mapping): a commented TOML mapping
// guessed from a file's header (English and Japanese column names) and its first data row.
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/import/csv/csv_reader.hpp"
#include "engine/import/csv/encoding.hpp"
#include "engine/import/csv/mapping.hpp"
#include "engine/import/csv/row_conversion.hpp"

namespace crm::import_csv {

namespace {

// Known header names per table field, normalised (lower case, without spaces, '_' and '-').
struct Synonyms {
  const char* table;
  const char* field;
  std::vector<std::string> names;
};
const std::vector<Synonyms>& synonyms() {
  static const std::vector<Synonyms> table = {
      {"orders", "id", {"orderid", "ordernumber", "orderno", "invoiceno", "invoice", "注文番号", "受注番号", "注文id"}},
      {"orders", "customer_id", {"customerid", "customerno", "memberid", "会員id", "顧客id", "会員番号", "顧客番号"}},
      {"orders", "ordered_at", {"orderedat", "orderdate", "invoicedate", "createdat", "date", "注文日時", "注文日", "受注日", "購入日"}},
      {"orders", "total", {"total", "ordertotal", "totalprice", "amount", "合計", "合計金額", "注文金額", "購入金額"}},
      {"orders", "status", {"status", "orderstatus", "financialstatus", "状態", "ステータス", "注文ステータス"}},
      {"order_items", "quantity", {"quantity", "qty", "lineitemquantity", "数量", "個数"}},
      {"order_items", "price", {"unitprice", "price", "lineitemprice", "単価", "販売価格", "価格"}},
      {"products", "sku", {"sku", "stockcode", "lineitemsku", "productcode", "itemcode", "商品コード", "品番", "商品番号"}},
      {"products", "name", {"description", "productname", "lineitemname", "itemname", "商品名"}},
      {"products", "category", {"category", "producttype", "カテゴリ", "カテゴリー"}},
      {"customers", "id", {"customerid", "customerno", "memberid", "id", "会員id", "顧客id", "会員番号", "顧客番号"}},
      {"customers", "name", {"name", "customername", "fullname", "billingname", "氏名", "名前", "お名前", "顧客名"}},
      {"customers", "email", {"email", "emailaddress", "mail", "メールアドレス", "メール"}},
      {"customers", "birthday", {"birthday", "birthdate", "dateofbirth", "生年月日", "誕生日"}},
      {"customers", "created_at", {"createdat", "signupdate", "registeredat", "created", "登録日", "登録日時", "入会日"}},
      {"customers", "email_opt_in", {"acceptsmarketing", "emailoptin", "newsletter", "メルマガ", "メルマガ購読", "メール配信"}},
  };
  return table;
}

std::string normalise(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string toml_string(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

const char* kTimeFormats[] = {"%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                              "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
                              "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y",
                              "%Y年%m月%d日"};

std::optional<std::string> guess_format(const std::string& value) {
  for (const char* f : kTimeFormats)
    if (parse_time_format(value, f)) return std::string(f);
  return std::nullopt;
}

}  // namespace

std::string guess_mapping(const std::string& csv_path) {
  // The delimiter: the most frequent of , ; TAB on the first line.
  char delimiter = ',';
  {
    gzFile g = gzopen(csv_path.c_str(), "rb");
    if (!g) throw CsvError("cannot open '" + csv_path + "'");
    char buf[8192];
    int n = gzread(g, buf, sizeof buf);
    gzclose(g);
    std::string line(buf, static_cast<size_t>(std::max(n, 0)));
    line = line.substr(0, line.find('\n'));
    size_t best = 0;
    for (char d : {',', ';', '\t'}) {
      size_t k = static_cast<size_t>(std::count(line.begin(), line.end(), d));
      if (k > best) { best = k; delimiter = d; }
    }
  }
  CsvReader in(csv_path, delimiter);
  if (!in.next()) throw CsvError(csv_path + ": the file is empty (expected a header line)");
  std::vector<std::string> raw_header(in.fields().begin(), in.fields().end());
  std::vector<std::string> raw_row;
  if (in.next()) raw_row.assign(in.fields().begin(), in.fields().end());
  // The encoding: UTF-8 if every cell is valid UTF-8, else Shift_JIS (CP932).
  std::string encoding = "utf-8";
  for (const auto* cells : {&raw_header, &raw_row})
    for (const auto& c : *cells)
      if (invalid_utf8_at(c) != std::string::npos) encoding = "shift_jis";
  Decoder dec(encoding);
  auto decode = [&](std::vector<std::string>& cells) {
    for (auto& c : cells) {
      size_t bad = 0;
      auto d = dec.decode(c, bad);
      c = d ? std::string(*d) : std::string();
    }
  };
  decode(raw_header);
  decode(raw_row);
  const auto& header = raw_header;
  std::set<std::string> cols(header.begin(), header.end());
  bool shopify = cols.count("Lineitem quantity") && cols.count("Financial Status") && cols.count("Name");

  // field -> column, per table
  std::map<std::string, std::map<std::string, std::string>> found;
  std::set<std::string> used;
  for (const auto& syn : synonyms())
    for (const auto& name : syn.names) {
      if (found[syn.table].count(syn.field)) break;
      for (const auto& h : header)
        if (normalise(h) == normalise(name)) { found[syn.table][syn.field] = h; used.insert(h); break; }
    }
  if (shopify) found["orders"]["id"] = "Name", found["customers"].erase("name"), found["customers"]["name"] = "Billing Name", used.insert("Billing Name");
  bool orders = found["orders"].count("id") > 0;
  bool lines = found["order_items"].count("quantity") && found["products"].count("sku");
  bool customers_here = !orders && !lines;
  std::string customer_col = found["orders"].count("customer_id") ? found["orders"]["customer_id"] : "";
  std::string email_col = found["customers"].count("email") ? found["customers"]["email"] : "";
  bool by_email = customer_col.empty() && !email_col.empty();
  auto sample = [&](const std::string& col) -> std::string {
    for (size_t i = 0; i < header.size() && i < raw_row.size(); ++i)
      if (header[i] == col) return raw_row[i];
    return "";
  };

  std::ostringstream o;
  std::string base = std::filesystem::path(csv_path).filename().string();
  o << "# Mapping for `crm import csv`, guessed from the header of " << base << " by --init-mapping.\n"
    << "# Check every line (docs/import.md is the reference): fields marked `?` were not recognised.\n"
    << "# A field is `field = \"CSV column\"` or `field = { column = \"...\", format = ..., map = { ... } }`.\n\n"
    << "encoding = " << toml_string(encoding) << (encoding == "utf-8" ? "" : "   # the file is not UTF-8; Shift_JIS (CP932) guessed") << "\n";
  if (delimiter != ',') o << "delimiter = " << (delimiter == '\t' ? std::string("\"\\t\"") : toml_string(std::string(1, delimiter))) << "\n";
  o << "# timezone = \"Asia/Tokyo\"   # the zone of times written without an offset (default: the store's)\n";
  auto time_field = [&](const std::string& field, const std::string& col) {
    auto f = guess_format(sample(col));
    o << field << " = { column = " << toml_string(col);
    if (f) o << ", format = " << toml_string(*f);
    o << " }";
    if (!f) o << "   # ? no known date format matched '" << sample(col) << "': add format = \"...\"";
    else if (f->rfind("%m/%d", 0) == 0 || f->rfind("%d/%m", 0) == 0) o << "   # check: day/month or month/day?";
    o << "\n";
  };
  auto customer_ref = [&](const char* field) {
    if (!customer_col.empty()) o << field << " = " << toml_string(customer_col) << "\n";
    else if (by_email) o << field << " = { column = " << toml_string(email_col) << ", by = \"email\" }\n";
    else o << "# " << field << " = ?   # the column naming the customer\n";
  };
  auto section = [&](const char* table) {
    o << "\n[" << table << "]\nfile = " << toml_string(base) << "\n";
  };
  auto plain = [&](const char* table, const char* field) {
    auto it = found[table].find(field);
    if (it != found[table].end()) o << field << " = " << toml_string(it->second) << "\n";
    else o << "# " << field << " = ?\n";
  };

  if (customers_here || customer_col.size() || by_email) {
    section("customers");
    if (customers_here) plain("customers", "id");
    else customer_ref("id");
    for (const char* f : {"name", "email"})
      if (!(by_email && std::string(f) == "email")) plain("customers", f);
    if (found["customers"].count("birthday")) {
      auto fmt = guess_format(sample(found["customers"]["birthday"]));
      o << "birthday = { column = " << toml_string(found["customers"]["birthday"]) << (fmt ? ", format = " + toml_string(*fmt) : std::string()) << " }\n";
    } else o << "# birthday = ?\n";
    if (found["customers"].count("created_at")) time_field("created_at", found["customers"]["created_at"]);
    else if (orders && found["orders"].count("ordered_at")) {
      o << "# no sign-up date: the first order's time\n";
      auto col = found["orders"]["ordered_at"];
      auto f = guess_format(sample(col));
      o << "created_at = { column = " << toml_string(col) << (f ? ", format = " + toml_string(*f) : std::string()) << ", aggregate = \"min\" }\n";
    } else o << "# created_at = ?\n";
    if (found["customers"].count("email_opt_in")) o << "email_opt_in = " << toml_string(found["customers"]["email_opt_in"]) << "   # yes/no, true/false or 1/0; else add map = { ... }\n";
    else o << "# email_opt_in = ?   # consent: without it nobody is sent email\n";
    o << "\n# Other columns kept as customer attributes (uncomment those you want; type TEXT, INTEGER, REAL, DATE or BOOLEAN):\n"
      << "[customers.attributes]\n";
    for (const auto& h : header)
      if (!used.count(h)) o << "# " << toml_string(normalise(h).empty() ? h : h) << " = { column = " << toml_string(h) << ", type = \"TEXT\" }\n";
  }
  if (orders) {
    section("orders");
    if (shopify) o << "id = { column = \"Name\", strip_prefix = \"#\" }\n";
    else o << "id = " << toml_string(found["orders"]["id"]) << "\n";
    customer_ref("customer_id");
    if (found["orders"].count("ordered_at")) time_field("ordered_at", found["orders"]["ordered_at"]);
    else o << "# ordered_at = ?\n";
    if (found["orders"].count("total")) o << "total = " << toml_string(found["orders"]["total"]) << "\n";
    else o << "# total: not mapped, so each order's total is the sum of its lines (quantity x price)\n";
    if (found["orders"].count("status"))
      o << "status = { column = " << toml_string(found["orders"]["status"])
        << ", map = { \"paid\" = \"paid\", \"canceled\" = \"cancelled\", \"refunded\" = \"refunded\" } }   # add the file's other values\n";
    else o << "# status: not mapped, so every order is paid\n";
  }
  if (lines) {
    section("products");
    plain("products", "sku");
    plain("products", "name");
    if (found["products"].count("category")) plain("products", "category");
    o << "price = { column = " << toml_string(found["order_items"]["price"]) << ", positive_only = true }\n";
    section("order_items");
    if (orders) o << "order_id = " << (shopify ? std::string("{ column = \"Name\", strip_prefix = \"#\" }") : toml_string(found["orders"]["id"])) << "\n";
    else o << "# order_id = ?\n";
    o << "product_id = { column = " << toml_string(found["products"]["sku"]) << ", by = \"sku\" }\n";
    o << "quantity = " << toml_string(found["order_items"]["quantity"]) << "\n";
    o << "price = " << toml_string(found["order_items"]["price"]) << "\n";
  }
  return o.str();
}

}  // namespace crm::import_csv
