// The import (csv_import.hpp): files are read in table order; each row is converted for every
// table that reads its file, then applied. Keyed tables (customers, products, orders) are merged
// in memory and upserted at the end; order lines and the rest are written as they come, through
// engine::SqlSession (the same import on SQLite and PostgreSQL).
#include "engine/import/csv/csv_import.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "engine/import/csv/csv_reader.hpp"
#include "engine/import/csv/encoding.hpp"
#include "engine/import/csv/row_conversion.hpp"
#include "engine/store/sql_session.hpp"

namespace crm::import_csv {

namespace {

constexpr size_t kMaxShownValue = 60;  // a cell quoted in an error is cut here

// One table section reading the current file, with its fields' column indexes and values.
struct Section {
  const TableSpec* spec = nullptr;
  std::vector<FieldContext> ctx;  // fields then attributes
  std::vector<int> col;           // CSV column of each (-1: a constant)
  std::vector<Value> val;         // the current row's values
  int index(const char* field) const {
    for (size_t i = 0; i < spec->fields.size(); ++i)
      if (spec->fields[i].name == field) return static_cast<int>(i);
    return -1;
  }
};

// A merged row of a keyed table: one value per field (+ attributes), and where it was first seen.
struct Merged {
  std::vector<Value> v;
  std::string sku;  // products keyed by sku
  double items_sum = 0;
  bool has_items = false;
  const std::string* file = nullptr;  // the FILE argument (lives as long as the import)
  int64_t line = 0;
};

void merge(Value& into, const Value& v, Aggregate a) {
  if (v.null()) return;
  if (into.null()) { into = v; return; }
  auto less = [](const Value& x, const Value& y) {
    if (x.type == Value::Type::Text && y.type == Value::Type::Text) return x.s < y.s;
    return x.number() < y.number();
  };
  switch (a) {
    case Aggregate::First: break;
    case Aggregate::Last: into = v; break;
    case Aggregate::Min: if (less(v, into)) into = v; break;
    case Aggregate::Max: if (less(into, v)) into = v; break;
  }
}

engine::SqlValue sql_value(const Value& v) {
  switch (v.type) {
    case Value::Type::Null: return {};
    case Value::Type::Int: return v.i;
    case Value::Type::Real: return v.d;
    case Value::Type::Text: return v.s;
  }
  return {};
}

// The PostgreSQL type of an attribute column from the mapping's type (TEXT, INTEGER, REAL,
// NUMERIC, DATE, TIMESTAMP, BOOLEAN).
std::string pg_type(std::string t) {
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (t == "INTEGER") return "bigint";
  if (t == "REAL") return "double precision";
  if (t == "NUMERIC") return "numeric";
  if (t == "DATE") return "date";
  if (t == "TIMESTAMP") return "timestamp";
  if (t == "BOOLEAN") return "boolean";
  return "text";
}

std::string merge_sql(const std::string& table, const std::string& col, Aggregate a) {
  std::string c = quote_identifier(col), old = table + "." + c, nu = "excluded." + c;
  switch (a) {
    case Aggregate::Min: return c + " = CASE WHEN " + old + " IS NULL OR " + nu + " < " + old + " THEN " + nu + " ELSE " + old + " END";
    case Aggregate::Max: return c + " = CASE WHEN " + old + " IS NULL OR " + nu + " > " + old + " THEN " + nu + " ELSE " + old + " END";
    default: return c + " = coalesce(" + nu + ", " + old + ")";
  }
}

class Importer {
 public:
  Importer(engine::SqlSession& db, const Mapping& m, const ImportOptions& o, ImportReport& r)
      : db_(db), mapping_(m), options_(o), report_(r) {}

  void run(const std::vector<std::string>& files);

 private:
  struct FilePlan {
    std::string path;
    std::vector<const TableSpec*> tables;
    size_t first_table = 0;
  };
  std::vector<FilePlan> plan(const std::vector<std::string>& files);
  void prepare_store();
  void read_file(const FilePlan& f);
  bool resolve(Section& s, const CsvReader& in, const std::vector<std::string>& header, bool row_has_customer_key,
               const std::string& row_email);
  void apply(Section& s, const CsvReader& in);
  void bad(RowError e);
  void write_keyed();
  const std::string& stream_statement(const TableSpec& spec);

  engine::SqlSession& db_;
  const Mapping& mapping_;
  const ImportOptions& options_;
  ImportReport& report_;
  std::string store_zone_;
  std::optional<engine::TimeZone> pg_zone_;  // PostgreSQL: the store's zone, in which times are stored
  bool had_items_ = false;
  int64_t next_customer_ = 1, next_product_ = 1;
  std::unordered_map<std::string, int64_t> customer_by_email_, product_by_sku_;
  std::unordered_set<int64_t> cleared_orders_;
  std::unordered_map<int64_t, Merged> customers_, products_, orders_;
  std::map<Table, std::string> stream_;
  std::map<Table, TableCounts> counts_;
  std::map<std::string, int64_t> before_;
  int64_t bad_total_ = 0;
  const std::string* current_file_ = nullptr;  // the FILE argument being read
};

void Importer::bad(RowError e) {
  ++bad_total_;
  if (e.value.size() > kMaxShownValue) e.value = e.value.substr(0, kMaxShownValue) + "...";
  if (static_cast<int64_t>(report_.bad_rows.size()) < std::max<int64_t>(options_.max_errors, 0) + 1)
    report_.bad_rows.push_back(std::move(e));
  if (bad_total_ > options_.max_errors) throw ImportFailed(report_.bad_rows, bad_total_);
}

std::vector<Importer::FilePlan> Importer::plan(const std::vector<std::string>& files) {
  std::vector<FilePlan> out;
  for (const auto& path : files) {
    FilePlan f;
    f.path = path;
    std::string base = std::filesystem::path(path).filename().string();
    f.first_table = mapping_.tables.size();
    for (size_t t = 0; t < mapping_.tables.size(); ++t) {
      const TableSpec& spec = mapping_.tables[t];
      for (const auto& pat : spec.files)
        if (fnmatch(pat.c_str(), base.c_str(), 0) == 0) {
          f.tables.push_back(&spec);
          f.first_table = std::min(f.first_table, t);
          break;
        }
    }
    if (f.tables.empty()) {
      std::string pats;
      for (const auto& spec : mapping_.tables)
        for (const auto& p : spec.files) pats += (pats.empty() ? "" : ", ") + spec.name + ": " + p;
      throw MappingError(path + ": no table of the mapping reads this file (file patterns: " + pats +
                         "); rename the file or set file = \"" + base + "\" in a table");
    }
    for (const auto* t : f.tables)
      if (t->encoding != f.tables[0]->encoding || t->delimiter != f.tables[0]->delimiter)
        throw MappingError(mapping_.path + ": [" + t->name + "] and [" + f.tables[0]->name + "] read " + base +
                           " with different encodings or delimiters");
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(), [](const FilePlan& a, const FilePlan& b) { return a.first_table < b.first_table; });
  return out;
}

void Importer::prepare_store() {
  db_.query("SELECT value FROM meta WHERE key = 'timezone'", [&](const engine::SqlRow& r) { store_zone_ = r.text(0); });
  if (store_zone_.empty() && !mapping_.timezone.empty()) {
    db_.exec("INSERT INTO meta (key, value) VALUES ('timezone', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
             {mapping_.timezone});
    store_zone_ = mapping_.timezone;
    report_.notes.push_back("set the store's time zone to " + mapping_.timezone);
  }
  if (db_.postgres()) {
    std::string err;
    pg_zone_ = store_zone_.empty() ? engine::TimeZone() : engine::TimeZone::load(store_zone_, err);
    if (!pg_zone_) throw MappingError("the store's time zone: " + err);
  }
  for (const char* t : {"customers", "products", "orders", "order_items", "subscriptions", "surveys", "referrals", "tags", "events"})
    before_[t] = db_.scalar(std::string("SELECT count(*) FROM ") + t);
  had_items_ = before_["order_items"] > 0;
  next_customer_ = db_.scalar("SELECT coalesce(max(id), 0) + 1 FROM customers");
  customer_by_email_.max_load_factor(0.5f);
  product_by_sku_.max_load_factor(0.5f);
  next_product_ = db_.scalar("SELECT coalesce(max(id), 0) + 1 FROM products");
  db_.query("SELECT id, lower(email) FROM customers WHERE email IS NOT NULL",
            [&](const engine::SqlRow& r) { customer_by_email_.emplace(r.text(1), r.i64(0)); });
  db_.query("SELECT id, sku FROM products WHERE sku IS NOT NULL",
            [&](const engine::SqlRow& r) { product_by_sku_.emplace(r.text(1), r.i64(0)); });
  // Attributes: typed columns on customers, added when missing (names quoted, types from a list).
  for (const auto& spec : mapping_.tables)
    for (const auto& a : spec.attributes) {
      bool have = false;
      for (const auto& [name, type] : db_.columns("customers")) {
        std::string l = name, r = a.name;
        for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        have |= l == r;
      }
      if (have) continue;
      db_.exec("ALTER TABLE customers ADD COLUMN " + quote_identifier(a.name) + " " + (db_.postgres() ? pg_type(a.sql_type) : a.sql_type));
      report_.notes.push_back("added column customers." + a.name + " (" + a.sql_type + ")");
    }
}

void Importer::run(const std::vector<std::string>& files) {
  auto plans = plan(files);
  prepare_store();
  for (const auto& f : plans) read_file(f);
  write_keyed();
  for (const auto& def : table_defs()) {
    auto it = counts_.find(def.table);
    if (it == counts_.end() || it->second.rows == 0) continue;
    it->second.table = def.name;
    it->second.inserted = db_.scalar(std::string("SELECT count(*) FROM ") + def.name) - before_[def.name];
    report_.tables.push_back(it->second);
  }
}

void Importer::read_file(const FilePlan& f) {
  report_.files.push_back(f.path);
  current_file_ = &f.path;
  const TableSpec& first = *f.tables[0];
  Decoder decoder(first.encoding);
  CsvReader in(f.path, first.delimiter);
  if (!in.next()) throw MappingError(f.path + ": the file is empty (expected a header line)");
  std::vector<std::string> header;
  for (auto cell : in.fields()) {
    size_t badpos = 0;
    auto d = decoder.decode(cell, badpos);
    if (!d) throw MappingError(f.path + ":1: the header is not valid " + decoder.name() + " text; set encoding = \"shift_jis\" (or the file's encoding) in the mapping");
    header.emplace_back(*d);
  }
  auto find_column = [&](const std::string& name) -> int {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i].size() == name.size() &&
          std::equal(name.begin(), name.end(), header[i].begin(), [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); }))
        return static_cast<int>(i);
    return -1;
  };
  std::vector<Section> sections;
  std::vector<std::optional<engine::TimeZone>> zones;
  for (const TableSpec* spec : f.tables) {
    Section s;
    s.spec = spec;
    auto add = [&](const FieldSpec& fs) {
      FieldContext c;
      c.spec = &fs;
      c.statuses = &table_def(spec->table).statuses;
      std::string zone = fs.timezone.empty() ? store_zone_ : fs.timezone;
      if (!zone.empty() && (fs.kind == Kind::Time)) {
        std::string err;
        c.zone = engine::TimeZone::load(zone, err);
        if (!c.zone) throw MappingError(mapping_.path + ": [" + spec->name + "] " + fs.name + ": " + err);
        c.write_naive = zone == store_zone_;
        if (pg_zone_) c.store_zone = &*pg_zone_;
      }
      int col = -1;
      if (!fs.constant) {
        col = find_column(fs.column);
        if (col < 0) {
          std::string cols;
          for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + h;
          throw MappingError(f.path + ":1: no column '" + fs.column + "' (mapped to " + spec->name + "." + fs.name +
                             " in " + mapping_.path + "); the header has: " + cols);
        }
      }
      s.ctx.push_back(c);
      s.col.push_back(col);
    };
    for (const auto& fs : spec->fields) add(fs);
    for (const auto& fs : spec->attributes) add(fs);
    s.val.resize(s.ctx.size());
    sections.push_back(std::move(s));
  }
  std::string error, hint;
  const std::string& path = f.path;
  while (in.next()) {
    ++report_.rows;
    const auto& cells = in.fields();
    bool extra = cells.size() > header.size() &&
                 std::any_of(cells.begin() + static_cast<std::ptrdiff_t>(header.size()), cells.end(), [](std::string_view c) { return !c.empty(); });
    if (cells.size() < header.size() || extra) {  // (empty trailing fields are ignored)
      bad({path, in.line(), "", "", "has " + std::to_string(cells.size()) + " fields, the header has " + std::to_string(header.size()),
           "a field with a '" + std::string(1, first.delimiter) + "' inside must be in quotes, a quote may be missing, or the delimiter is not '" + std::string(1, first.delimiter) + "' (set delimiter = \";\")"});
      continue;
    }
    // A row whose customer is empty cannot be attributed to anyone (guest orders): skipped
    // before its other cells are read.
    bool ok = true, no_customer = false;
    for (auto& s : sections) {
      int ci = s.spec->table == Table::Customers ? s.index("id") : s.index("customer_id");
      if (ci < 0) continue;
      const FieldSpec& fs = s.spec->fields[static_cast<size_t>(ci)];
      int col = s.col[static_cast<size_t>(ci)];
      if (!fs.constant && !fs.if_empty && col >= 0 && cells[static_cast<size_t>(col)].empty()) no_customer = true;
    }
    if (no_customer) { ++report_.skipped_no_customer; continue; }
    for (auto& s : sections) {
      for (size_t k = 0; k < s.ctx.size() && ok; ++k) {
        std::string_view cell = s.col[k] >= 0 && static_cast<size_t>(s.col[k]) < cells.size() ? cells[static_cast<size_t>(s.col[k])] : std::string_view();
        size_t badpos = 0;
        auto d = decoder.decode(cell, badpos);
        if (!d) {
          bad({path, in.line(), s.ctx[k].spec->column, "(bytes)", "is not valid " + decoder.name() + " text (byte " + std::to_string(badpos + 1) + ")",
               "set encoding = \"shift_jis\" (Japanese) or \"latin-1\" in the mapping"});
          ok = false;
          break;
        }
        if (!convert_cell(*d, s.ctx[k], s.val[k], error, hint)) {
          bad({path, in.line(), s.ctx[k].spec->column, std::string(*d), error, hint});
          ok = false;
        }
      }
      if (!ok) break;
    }
    if (!ok) continue;
    // References by email / sku must resolve before anything of the row is applied.
    std::string row_email;
    bool creates_customer = false;
    for (auto& s : sections)
      if (s.spec->table == Table::Customers) {
        int ci = s.index("id");
        if (s.spec->fields[static_cast<size_t>(ci)].by == "email") { row_email = s.val[static_cast<size_t>(ci)].s; creates_customer = true; }
      }
    for (auto& s : sections)
      if (ok && !resolve(s, in, header, creates_customer, row_email)) ok = false;
    if (!ok) continue;
    for (auto& s : sections) apply(s, in);
  }
}

// Turns email / sku references into ids; false (after reporting) when one names nobody.
bool Importer::resolve(Section& s, const CsvReader& in, const std::vector<std::string>&, bool creates_customer,
                       const std::string& row_email) {
  for (size_t k = 0; k < s.spec->fields.size(); ++k) {
    const FieldSpec& fs = s.spec->fields[k];
    Value& v = s.val[k];
    if (fs.by.empty() || v.null()) continue;
    bool is_key = (s.spec->table == Table::Customers && fs.name == "id") || (s.spec->table == Table::Products && fs.name == "id");
    if (is_key) continue;  // keys are assigned in apply()
    if (fs.by == "email") {
      auto it = customer_by_email_.find(v.s);
      if (it != customer_by_email_.end()) { v.set_int(it->second); continue; }
      if (creates_customer && v.s == row_email) { v.set_int(next_customer_); continue; }  // this row's new customer
      bad({in.path(), in.line(), fs.column, v.s, "no customer has this email",
           "import the customers first, or map [customers] from this file with id = { column = \"" + fs.column + "\", by = \"email\" }"});
      return false;
    }
    auto it = product_by_sku_.find(v.s);
    if (it != product_by_sku_.end()) { v.set_int(it->second); continue; }
    bool creates = false;
    for (const TableSpec& t : mapping_.tables)
      if (t.table == Table::Products && &t != s.spec) {
        const FieldSpec* sku = t.field("sku");
        if (sku && sku->column == fs.column) creates = true;
      }
    if (!creates) {
      bad({in.path(), in.line(), fs.column, v.s, "no product has this sku",
           "import the products first, or map [products] from this file with sku = \"" + fs.column + "\""});
      return false;
    }
    v.set_text(v.s);  // left as text: apply() of [products] assigns the id first
  }
  return true;
}

void Importer::apply(Section& s, const CsvReader& in) {
  const TableSpec& spec = *s.spec;
  auto& counts = counts_[spec.table];
  auto take = [&](Merged& m, bool fresh) {
    if (fresh) {
      m.v.resize(s.val.size());
      m.file = current_file_;
      m.line = in.line();
    }
    for (size_t k = 0; k < s.val.size(); ++k) {
      const FieldSpec& fs = k < spec.fields.size() ? spec.fields[k] : spec.attributes[k - spec.fields.size()];
      merge(m.v[k], s.val[k], fs.aggregate);
    }
  };
  switch (spec.table) {
    case Table::Customers: {
      size_t ki = static_cast<size_t>(s.index("id"));
      Value& key = s.val[ki];
      if (key.type == Value::Type::Text) {  // by email
        auto [eit, added] = customer_by_email_.try_emplace(key.s, next_customer_);
        if (added) ++next_customer_;
        key.set_int(eit->second);
        auto [it, fresh] = customers_.try_emplace(key.i);
        if (fresh) it->second.sku = eit->first;  // the email is the key: kept as the customer's email too
        take(it->second, fresh);
        return;
      }
      auto [it, fresh] = customers_.try_emplace(key.i);
      take(it->second, fresh);
      return;
    }
    case Table::Products: {
      int ii = s.index("id"), si = s.index("sku");
      if (si < 0 || s.val[static_cast<size_t>(si)].null()) return;  // a line without a sku has no product
      const std::string& sku = s.val[static_cast<size_t>(si)].s;
      int64_t id;
      if (ii >= 0 && s.val[static_cast<size_t>(ii)].type == Value::Type::Int) {
        id = s.val[static_cast<size_t>(ii)].i;
        product_by_sku_[sku] = id;
        next_product_ = std::max(next_product_, id + 1);
      } else {
        auto [pit, added] = product_by_sku_.try_emplace(sku, next_product_);
        if (added) ++next_product_;
        id = pit->second;
        if (ii >= 0) s.val[static_cast<size_t>(ii)].set_int(id);
      }
      auto [it, fresh] = products_.try_emplace(id);
      if (fresh) it->second.sku = sku;
      take(it->second, fresh);
      return;
    }
    case Table::Orders: {
      const Value& id = s.val[static_cast<size_t>(s.index("id"))];
      auto [it, fresh] = orders_.try_emplace(id.i);
      take(it->second, fresh);
      return;
    }
    case Table::OrderItems: {
      int64_t order = s.val[static_cast<size_t>(s.index("order_id"))].i;
      int pi = s.index("product_id"), qi = s.index("quantity"), ri = s.index("price");
      Value* product = pi >= 0 ? &s.val[static_cast<size_t>(pi)] : nullptr;
      if (product && product->type == Value::Type::Text) {  // a sku: its product was applied just before
        auto it = product_by_sku_.find(product->s);
        if (it != product_by_sku_.end()) product->set_int(it->second);
        else product->set_null();
      }
      if (had_items_ && cleared_orders_.insert(order).second) db_.exec_later("DELETE FROM order_items WHERE order_id = $1", {order});
      db_.exec_later("INSERT INTO order_items (order_id, product_id, quantity, price) VALUES ($1, $2, $3, $4)",
               {order, product ? sql_value(*product) : engine::SqlValue(),
                qi >= 0 ? sql_value(s.val[static_cast<size_t>(qi)]) : engine::SqlValue(),
                ri >= 0 ? sql_value(s.val[static_cast<size_t>(ri)]) : engine::SqlValue()});
      ++counts.rows;
      auto oit = orders_.find(order);
      if (oit != orders_.end() && qi >= 0 && ri >= 0 && !s.val[static_cast<size_t>(qi)].null() && !s.val[static_cast<size_t>(ri)].null()) {
        oit->second.items_sum += s.val[static_cast<size_t>(qi)].number() * s.val[static_cast<size_t>(ri)].number();
        oit->second.has_items = true;
      }
      return;
    }
    default: {
      std::vector<engine::SqlValue> params;
      params.reserve(s.val.size());
      for (const Value& v : s.val) params.push_back(sql_value(v));
      db_.exec_later(stream_statement(spec), params);
      ++counts.rows;
      return;
    }
  }
}

// The upsert of the streamed tables: by id when they have one, else "the same row is not added twice".
const std::string& Importer::stream_statement(const TableSpec& spec) {
  auto& slot = stream_[spec.table];
  if (!slot.empty()) return slot;
  std::string cols, params, key_match;
  std::vector<std::string> names;
  for (const auto& f : spec.fields) names.push_back(f.name);
  std::vector<std::pair<std::string, std::string>> types;  // PostgreSQL: parameters typed as their columns
  if (db_.postgres()) types = db_.columns(spec.name);
  for (size_t k = 0; k < names.size(); ++k) {
    cols += (k ? ", " : "") + quote_identifier(names[k]);
    params += (k ? ", $" : "$") + std::to_string(k + 1);
    for (const auto& [name, type] : types)
      if (name == names[k]) params += "::" + type;
  }
  std::string sql = "INSERT INTO " + spec.name + " (" + cols + ") ";
  bool has_id = std::find(names.begin(), names.end(), "id") != names.end();
  auto keys = [&]() -> std::vector<std::string> {
    switch (spec.table) {
      case Table::Surveys: return {"customer_id", "answered_at"};
      case Table::Referrals: return {"referrer_id", "referee_id"};
      case Table::Tags: return {"customer_id", "tag"};
      default: return {"customer_id", "type", "at"};
    }
  }();
  if (has_id) {
    std::string sets;
    for (const auto& f : spec.fields)
      if (f.name != "id") sets += (sets.empty() ? "" : ", ") + merge_sql(spec.name, f.name, Aggregate::Last);
    sql += "VALUES (" + params + ") ON CONFLICT (id) DO " + (sets.empty() ? "NOTHING" : "UPDATE SET " + sets);
  } else {
    // SELECT the row's values unless a row with the same key values exists (re-import).
    sql = "WITH r(" + cols + ") AS (VALUES (" + params + ")) INSERT INTO " + spec.name + " (" + cols + ") SELECT * FROM r WHERE NOT EXISTS (SELECT 1 FROM " + spec.name + " t WHERE true";
    for (const auto& k : keys)
      if (std::find(names.begin(), names.end(), k) != names.end())
        sql += " AND t." + quote_identifier(k) + " IS NOT DISTINCT FROM r." + quote_identifier(k);
    sql += ")";
  }
  slot = sql;
  return slot;
}

void Importer::write_keyed() {
  for (const TableSpec& spec : mapping_.tables) {
    if (spec.table != Table::Customers && spec.table != Table::Products && spec.table != Table::Orders) continue;
    // The columns: the mapped fields (+ email when customers are keyed by it, + sku, + total).
    std::vector<std::pair<std::string, Aggregate>> cols;
    for (const auto& f : spec.fields) cols.emplace_back(f.name, f.aggregate);
    for (const auto& a : spec.attributes) cols.emplace_back(a.name, a.aggregate);
    const FieldSpec* id = spec.field("id");
    bool email_from_key = spec.table == Table::Customers && id && id->by == "email" && !spec.field("email");
    if (email_from_key) cols.emplace_back("email", Aggregate::First);
    bool add_id = !id;  // products keyed by sku, orders always have an id
    if (add_id) cols.insert(cols.begin(), {"id", Aggregate::First});
    bool add_total = spec.table == Table::Orders && !spec.field("total");
    if (add_total) cols.emplace_back("total", Aggregate::Last);
    bool add_status = spec.table == Table::Orders && !spec.field("status");
    if (add_status) cols.emplace_back("status", Aggregate::Last);
    std::string names, params, sets;
    for (size_t k = 0; k < cols.size(); ++k) {
      names += (k ? ", " : "") + quote_identifier(cols[k].first);
      params += (k ? ", $" : "$") + std::to_string(k + 1);
      if (cols[k].first != "id") sets += (sets.empty() ? "" : ", ") + merge_sql(spec.name, cols[k].first, cols[k].second);
    }
    std::string sql = "INSERT INTO " + spec.name + " (" + names + ") VALUES (" + params + ") ON CONFLICT (id) DO " +
                      (sets.empty() ? "NOTHING" : "UPDATE SET " + sets);
    auto& counts = counts_[spec.table];
    std::vector<engine::SqlValue> p;
    auto write = [&](int64_t key, Merged& m) {
      p.clear();
      if (add_id) p.emplace_back(key);
      for (const Value& v : m.v) p.push_back(sql_value(v));
      if (email_from_key) p.emplace_back(m.sku);
      if (add_total) p.push_back(m.has_items ? engine::SqlValue(std::round(m.items_sum * 100) / 100) : engine::SqlValue());
      if (add_status) p.emplace_back("paid");
      db_.exec_later(sql, p);
      ++counts.rows;
    };
    auto sorted_keys = [](const std::unordered_map<int64_t, Merged>& m) {
      std::vector<int64_t> keys;
      keys.reserve(m.size());
      for (const auto& [k, v] : m) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      return keys;
    };
    if (spec.table == Table::Customers) for (int64_t k : sorted_keys(customers_)) write(k, customers_[k]);
    else if (spec.table == Table::Products) {
      int si = -1;
      for (size_t k = 0; k < spec.fields.size(); ++k) if (spec.fields[k].name == "sku") si = static_cast<int>(k);
      for (int64_t k : sorted_keys(products_)) {
        Merged& m = products_[k];
        if (si >= 0) m.v[static_cast<size_t>(si)].set_text(m.sku);
        write(k, m);
      }
    } else {
      std::vector<int64_t> ids;
      ids.reserve(orders_.size());
      for (const auto& [k, m] : orders_) ids.push_back(k);
      std::sort(ids.begin(), ids.end());
      int ti = -1, ai = -1;
      for (size_t k = 0; k < spec.fields.size(); ++k) {
        if (spec.fields[k].name == "total") ti = static_cast<int>(k);
        if (spec.fields[k].name == "ordered_at") ai = static_cast<int>(k);
      }
      for (int64_t k : ids) {
        Merged& m = orders_[k];
        if (ai < 0 || m.v[static_cast<size_t>(ai)].null()) {
          bad({*m.file, m.line, "", "", "order " + std::to_string(k) + " has no ordered_at on any of its rows",
               "map ordered_at to the column with the order's date"});
          continue;
        }
        if (ti >= 0 && m.v[static_cast<size_t>(ti)].null() && m.has_items) m.v[static_cast<size_t>(ti)].set_real(std::round(m.items_sum * 100) / 100);
        write(k, m);
      }
    }
  }
}

}  // namespace

void import_into(engine::SqlSession& db, const Mapping& mapping, const std::vector<std::string>& files,
                 const ImportOptions& options, ImportReport& report) {
  Importer importer(db, mapping, options, report);
  importer.run(files);
}

}  // namespace crm::import_csv
