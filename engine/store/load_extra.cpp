// Extra customers columns as attributes, and the SELECT the loaders send (load_extra.hpp).
#include "engine/store/load_extra.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "lang/builtins.hpp"

namespace crm::engine::loading {

namespace {

// Keywords of SPEC §2: an extra column with one of these names cannot be written in a script.
constexpr const char* kKeywords[] = {
    "import", "let", "segment", "message", "rule", "when", "then", "on", "once", "per", "every", "days", "priority",
    "after", "from", "until", "journey", "day", "unless", "exit", "campaign", "limit", "timezone", "holdout",
    "transactional", "send", "via", "grant", "coupon", "points", "offer", "tag", "untag", "and", "or", "not", "in",
    "is", "null", "true", "false", "order", "event", "subscription", "today"};

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace

std::string quote_ident(const std::string& s) {
  std::string out(1, '"');
  for (char c : s) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

// "SELECT a, NULL, c FROM t": the wanted columns, NULL for those the table lacks.
std::string select_sql(const std::vector<ColumnInfo>& have, const std::string& table, const std::vector<std::string>& wanted,
                       const std::string& tail, const std::string& rowid_expr, const std::string& filter) {
  std::string from = quote_ident(table), rowid = rowid_expr;
  if (!filter.empty() && rowid_expr != "rowid") {  // number the rows before the filter
    from = "(SELECT *, " + rowid_expr + " AS crm_rowid FROM " + from + ") AS " + from;
    rowid = "crm_rowid";
  }
  std::string sql = "SELECT ";
  for (size_t i = 0; i < wanted.size(); ++i) {
    bool present = wanted[i] == "rowid" ||
                   std::any_of(have.begin(), have.end(), [&](const ColumnInfo& c) { return c.name == wanted[i]; });
    if (i) sql += ", ";
    sql += present ? (wanted[i] == "rowid" ? rowid : quote_ident(wanted[i])) : "NULL";
  }
  if (filter.empty()) return sql + " FROM " + from + tail;
  std::string where = filter, rest = tail;
  if (rest.rfind(" WHERE ", 0) == 0) {
    size_t order = rest.find(" ORDER BY ");
    where = "(" + filter + ") AND (" + rest.substr(7, order == std::string::npos ? std::string::npos : order - 7) + ")";
    rest = order == std::string::npos ? "" : rest.substr(order);
  }
  return sql + " FROM " + from + " WHERE " + where + rest;
}

std::string shard_filter(const std::vector<ColumnInfo>& have, const std::string& table, const Shard& shard) {
  auto has = [&](const char* c) {
    return std::any_of(have.begin(), have.end(), [&](const ColumnInfo& i) { return i.name == c; });
  };
  if (table == "order_items")  // no customer column: through their order
    return has("order_id") ? "order_id IN (SELECT id FROM orders WHERE " + shard_sql("customer_id", shard) + ")" : "";
  const char* column = table == "customers" ? "id" : table == "referrals" ? "referrer_id" : "customer_id";
  if (table == "products" || !has(column)) return "";
  return shard_sql(quote_ident(column), shard);
}

std::optional<lang::Type> type_of_declared(const std::string& declared) {
  std::string t = declared;
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("BOOL")) return lang::Type::boolean();
  if (has("DATE") || has("TIME")) return lang::Type::date();
  if (has("INT")) return lang::Type::integer();
  if (has("REAL") || has("FLOA") || has("DOUB") || has("NUMERIC") || has("DECIMAL") || has("NUMBER") || has("MONEY"))
    return lang::Type::decimal();
  if (has("BLOB")) return std::nullopt;
  return lang::Type::string();
}

const std::vector<std::string> kSpec = {"id", "name", "email", "birthday", "created_at", "email_opt_in",
                                        "line_opt_in", "sms_opt_in", "push_opt_in", "dm_opt_in", "referred_by"};


std::vector<ExtraColumn> extra_columns(const std::vector<ColumnInfo>& have, std::vector<std::string>* skipped) {
  std::vector<ExtraColumn> out;
  std::set<std::string> keywords(std::begin(kKeywords), std::end(kKeywords));
  for (const ColumnInfo& c : have) {
    if (std::find(kSpec.begin(), kSpec.end(), c.name) != kSpec.end()) continue;
    std::string why;
    auto type = type_of_declared(c.declared);
    if (!is_identifier(c.name)) why = "its name is not an identifier";
    else if (keywords.count(c.name)) why = "its name is a keyword";
    else if (stdlib::find_attribute(c.name)) why = "a builtin attribute has that name";
    else if (!type) why = "BLOB columns cannot be attributes";
    if (!why.empty()) {
      if (skipped) skipped->push_back("customers." + c.name + " is not an attribute: " + why);
      continue;
    }
    ExtraColumn e;
    e.name = c.name;
    e.type = *type;
    e.declared_type = c.declared;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace crm::engine::loading
