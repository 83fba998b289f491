// Reading a mapping (mapping.hpp): TOML (toml++) is turned into JSON and both are read by one
// walker that checks every key, so a typo is an error naming the table and key, not a silent no-op.
#include "engine/import/csv/mapping.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace crm::import_csv {

const std::vector<TableDef>& table_defs() {
  static const std::vector<TableDef> defs = {
      {Table::Customers, "customers",
       {{"id", Kind::Ref}, {"name", Kind::Text}, {"email", Kind::Text}, {"birthday", Kind::Date},
        {"created_at", Kind::Time}, {"email_opt_in", Kind::Bool}, {"line_opt_in", Kind::Bool},
        {"sms_opt_in", Kind::Bool}, {"push_opt_in", Kind::Bool}, {"dm_opt_in", Kind::Bool},
        {"referred_by", Kind::Ref}},
       {}},
      {Table::Products, "products",
       {{"id", Kind::Ref}, {"sku", Kind::Text}, {"name", Kind::Text}, {"category", Kind::Text}, {"price", Kind::Real}},
       {}},
      {Table::Orders, "orders",
       {{"id", Kind::Ref}, {"customer_id", Kind::Ref}, {"ordered_at", Kind::Time}, {"total", Kind::Real},
        {"status", Kind::Status}},
       {"paid", "cancelled", "refunded"}},
      {Table::OrderItems, "order_items",
       {{"order_id", Kind::Ref}, {"product_id", Kind::Ref}, {"quantity", Kind::Int}, {"price", Kind::Real}},
       {}},
      {Table::Subscriptions, "subscriptions",
       {{"id", Kind::Ref}, {"customer_id", Kind::Ref}, {"product_id", Kind::Ref}, {"started_at", Kind::Time},
        {"status", Kind::Status}, {"cycles", Kind::Int}, {"cancelled_at", Kind::Time}, {"cancel_reason", Kind::Text}},
       {"active", "paused", "cancelled"}},
      {Table::Surveys, "surveys",
       {{"customer_id", Kind::Ref}, {"answered_at", Kind::Time}, {"satisfaction", Kind::Int}}, {}},
      {Table::Referrals, "referrals",
       {{"referrer_id", Kind::Ref}, {"referee_id", Kind::Ref}, {"created_at", Kind::Time}}, {}},
      {Table::Tags, "tags", {{"customer_id", Kind::Ref}, {"tag", Kind::Text}, {"set_at", Kind::Time}}, {}},
      {Table::Events, "events",
       {{"id", Kind::Ref}, {"customer_id", Kind::Ref}, {"type", Kind::Text}, {"at", Kind::Time}, {"payload", Kind::Json}},
       {}},
  };
  return defs;
}

const TableDef& table_def(Table t) {
  for (const auto& d : table_defs())
    if (d.table == t) return d;
  throw std::logic_error("table_def");
}

const FieldSpec* TableSpec::field(const std::string& n) const {
  for (const auto& f : fields)
    if (f.name == n) return &f;
  return nullptr;
}

namespace {
using json = nlohmann::ordered_json;

// Settings that may be given at the top level, per table or per field (the nearest wins).
const std::set<std::string> kInherited = {"timezone", "datetime_format", "date_format", "decimal", "thousands", "strip"};
const std::set<std::string> kFileKeys = {"file", "encoding", "delimiter"};
const std::set<std::string> kFieldKeys = {"column", "value", "default", "map", "prefix_map", "otherwise",
                                          "prefix_offsets", "strip_prefix", "by", "positive_only", "aggregate",
                                          "type", "format", "timezone", "decimal", "thousands", "strip"};

struct Walker {
  std::string path;
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw MappingError(path + ": " + where + ": " + what);
  }
  std::string text(const json& v, const std::string& where) const {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    if (v.is_number_float()) { std::ostringstream o; o << v.get<double>(); return o.str(); }
    fail(where, "expected a string");
  }
  std::vector<std::string> texts(const json& v, const std::string& where) const {
    std::vector<std::string> out;
    if (v.is_array()) for (const auto& e : v) out.push_back(text(e, where));
    else out.push_back(text(v, where));
    return out;
  }
  char one_char(const json& v, const std::string& where) const {
    std::string s = text(v, where);
    if (s == "\\t" || s == "tab") return '\t';
    if (s.size() != 1) fail(where, "expected one character, got '" + s + "'");
    return s[0];
  }
  std::vector<std::pair<std::string, std::string>> pairs(const json& v, const std::string& where) const {
    if (!v.is_object()) fail(where, "expected a table of value = value");
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = v.begin(); it != v.end(); ++it) out.emplace_back(it.key(), text(it.value(), where + "." + it.key()));
    return out;
  }
};

struct Inherited {
  std::string timezone;
  std::vector<std::string> datetime_formats = {"%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S",
                                               "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
  std::vector<std::string> date_formats = {"%Y-%m-%d"};
  char decimal = '.';
  std::string thousands;
  std::vector<std::string> strip;

  void read(const json& obj, const Walker& w, const std::string& where) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& k = it.key();
      if (k == "timezone") timezone = w.text(*it, where + " timezone");
      else if (k == "datetime_format") datetime_formats = w.texts(*it, where + " datetime_format");
      else if (k == "date_format") date_formats = w.texts(*it, where + " date_format");
      else if (k == "decimal") decimal = w.one_char(*it, where + " decimal");
      else if (k == "thousands") thousands = w.text(*it, where + " thousands");
      else if (k == "strip") strip = w.texts(*it, where + " strip");
    }
  }
};

Aggregate parse_aggregate(const std::string& s, const Walker& w, const std::string& where) {
  if (s == "first") return Aggregate::First;
  if (s == "last") return Aggregate::Last;
  if (s == "min") return Aggregate::Min;
  if (s == "max") return Aggregate::Max;
  w.fail(where, "aggregate must be first, last, min or max, not '" + s + "'");
}

FieldSpec parse_field(const std::string& name, Kind kind, const json& v, Inherited inh, const Walker& w,
                      const std::string& where) {
  FieldSpec f;
  f.name = name;
  f.kind = kind;
  if (v.is_string()) {
    f.column = v.get<std::string>();
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      const json& x = it.value();
      std::string at = where + " " + k;
      if (!kFieldKeys.count(k)) w.fail(where, "unknown key '" + k + "' (known: column, value, default, map, prefix_map, otherwise, prefix_offsets, strip_prefix, by, positive_only, aggregate, type, format, timezone, decimal, thousands, strip)");
      if (k == "column") f.column = w.text(x, at);
      else if (k == "value") f.constant = w.text(x, at);
      else if (k == "default") f.if_empty = w.text(x, at);
      else if (k == "map") {
        f.map = w.pairs(x, at);
        for (auto& [from, to] : f.map) std::transform(from.begin(), from.end(), from.begin(), [](unsigned char c) { return std::tolower(c); });
      } else if (k == "prefix_map") f.prefix_map = w.pairs(x, at);
      else if (k == "otherwise") f.otherwise = w.text(x, at);
      else if (k == "prefix_offsets") {
        if (!x.is_object()) w.fail(at, "expected a table of prefix = number");
        for (auto p = x.begin(); p != x.end(); ++p) {
          if (!p.value().is_number_integer()) w.fail(at + "." + p.key(), "expected a whole number");
          f.prefix_offsets.emplace_back(p.key(), p.value().get<int64_t>());
        }
      } else if (k == "strip_prefix") f.strip_prefix = w.text(x, at);
      else if (k == "by") f.by = w.text(x, at);
      else if (k == "positive_only") {
        if (!x.is_boolean()) w.fail(at, "expected true or false");
        f.positive_only = x.get<bool>();
      } else if (k == "aggregate") f.aggregate = parse_aggregate(w.text(x, at), w, at);
      else if (k == "type") f.sql_type = w.text(x, at);
      else if (k == "format") {
        if (kind == Kind::Date) inh.date_formats = w.texts(x, at);
        else inh.datetime_formats = w.texts(x, at);
      }
    }
    inh.read(v, w, where);
  } else {
    w.fail(where, "expected a column name or a table { column = ..., ... }");
  }
  if (f.column.empty() && !f.constant) w.fail(where, "needs a column (or a constant value)");
  f.formats = kind == Kind::Date ? inh.date_formats : inh.datetime_formats;
  f.timezone = inh.timezone;
  f.decimal = inh.decimal;
  f.thousands = inh.thousands;
  f.strip = inh.strip;
  if (!f.by.empty()) {
    bool ok = kind == Kind::Ref && ((f.by == "email" && (name == "id" || name == "customer_id" || name == "referred_by" ||
                                                         name == "referrer_id" || name == "referee_id")) ||
                                    (f.by == "sku" && (name == "product_id" || name == "id")));
    if (!ok) w.fail(where, "by = \"" + f.by + "\" is for customer references (by = \"email\") and product references (by = \"sku\")");
  }
  return f;
}

Kind kind_of_sql_type(const std::string& type, const Walker& w, const std::string& where) {
  std::string t;
  for (char c : type) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (t == "TEXT") return Kind::Text;
  if (t == "INTEGER") return Kind::Int;
  if (t == "REAL" || t == "NUMERIC") return Kind::Real;
  if (t == "DATE") return Kind::Date;
  if (t == "TIMESTAMP") return Kind::Time;
  if (t == "BOOLEAN") return Kind::Bool;
  w.fail(where, "type must be TEXT, INTEGER, REAL, NUMERIC, DATE, TIMESTAMP or BOOLEAN, not '" + type + "'");
}

}  // namespace

Mapping parse_mapping_json(const std::string& json_text, const std::string& path) {
  Walker w{path};
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    throw MappingError(path + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) w.fail("top level", "expected a table");
  Mapping m;
  m.path = path;
  Inherited top;
  top.read(root, w, "top level");
  m.timezone = top.timezone;
  std::string top_encoding = "utf-8";
  char top_delimiter = ',';
  std::set<std::string> known_top = kInherited;
  known_top.insert({"encoding", "delimiter"});
  for (const auto& d : table_defs()) known_top.insert(d.name);
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!known_top.count(it.key()))
      w.fail("top level", "unknown key '" + it.key() + "' (tables: customers, products, orders, order_items, subscriptions, surveys, referrals, tags, events)");
    if (it.key() == "encoding") top_encoding = w.text(*it, "encoding");
    if (it.key() == "delimiter") top_delimiter = w.one_char(*it, "delimiter");
  }
  for (const auto& def : table_defs()) {
    if (!root.contains(def.name)) continue;
    const json& t = root[def.name];
    std::string where = std::string("[") + def.name + "]";
    if (!t.is_object()) w.fail(where, "expected a table");
    TableSpec spec;
    spec.table = def.table;
    spec.name = def.name;
    spec.encoding = top_encoding;
    spec.delimiter = top_delimiter;
    spec.files = {std::string("*") + def.name + "*"};
    Inherited inh = top;
    inh.read(t, w, where);
    for (auto it = t.begin(); it != t.end(); ++it) {
      const std::string& k = it.key();
      if (kInherited.count(k)) continue;
      if (k == "file") spec.files = w.texts(*it, where + " file");
      else if (k == "encoding") spec.encoding = w.text(*it, where + " encoding");
      else if (k == "delimiter") spec.delimiter = w.one_char(*it, where + " delimiter");
      else if (k == "attributes") {
        if (def.table != Table::Customers) w.fail(where, "only customers have attributes");
        if (!it->is_object()) w.fail(where + " attributes", "expected a table of name = { column = ..., type = ... }");
        for (auto a = it->begin(); a != it->end(); ++a) {
          std::string at = "[customers.attributes] " + a.key();
          if (a.key().empty()) w.fail(at, "an attribute needs a name");
          std::string type = a->is_object() && a->contains("type") ? w.text((*a)["type"], at) : "TEXT";
          Kind kind = kind_of_sql_type(type, w, at);
          FieldSpec f = parse_field(a.key(), kind, *a, inh, w, at);
          f.sql_type = type;
          for (const auto& c : def.columns)
            if (a.key() == c.name) w.fail(at, "is a SPEC column of customers: map it outside [customers.attributes]");
          spec.attributes.push_back(std::move(f));
        }
      } else {
        const ColumnDef* col = nullptr;
        for (const auto& c : def.columns)
          if (k == c.name) col = &c;
        if (!col) {
          std::string known;
          for (const auto& c : def.columns) known += (known.empty() ? "" : ", ") + std::string(c.name);
          w.fail(where, "unknown field '" + k + "' (fields of " + def.name + ": " + known +
                            (def.table == Table::Customers ? "; extra columns go in [customers.attributes]" : "") + ")");
        }
        spec.fields.push_back(parse_field(k, col->kind, *it, inh, w, where + " " + k));
      }
    }
    // The fields a table cannot do without.
    std::vector<std::vector<const char*>> required;
    switch (def.table) {
      case Table::Customers: required = {{"id"}}; break;
      case Table::Products: required = {{"sku"}}; break;
      case Table::Orders: required = {{"id"}, {"customer_id"}, {"ordered_at"}}; break;
      case Table::OrderItems: required = {{"order_id"}, {"product_id"}, {"quantity"}, {"price"}}; break;
      case Table::Subscriptions: required = {{"id"}, {"customer_id"}}; break;
      case Table::Surveys: required = {{"customer_id"}, {"satisfaction"}}; break;
      case Table::Referrals: required = {{"referrer_id"}, {"referee_id"}}; break;
      case Table::Tags: required = {{"customer_id"}, {"tag"}}; break;
      case Table::Events: required = {{"customer_id"}, {"type"}, {"at"}}; break;
    }
    for (const auto& r : required)
      if (!spec.field(r[0])) w.fail(where, std::string("needs ") + r[0] + " = \"<CSV column>\"");
    m.tables.push_back(std::move(spec));
  }
  if (m.tables.empty()) w.fail("top level", "no tables mapped (add e.g. [orders] with file = \"orders.csv\")");
  return m;
}

Mapping load_mapping(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw MappingError("cannot open mapping '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (is_json) return parse_mapping_json(text, path);
  try {
    toml::table t = toml::parse(text, path);
    std::ostringstream js;
    js << toml::json_formatter{t};
    return parse_mapping_json(js.str(), path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw MappingError(path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
                       std::string(e.description()));
  }
}

}  // namespace crm::import_csv
