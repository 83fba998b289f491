// The writer of SPEC §5 rows (fact_writer.hpp): typed rows to INSERTs with bound values.
#include "engine/store/fact_writer.hpp"

#include <type_traits>

namespace crm::engine {

std::string quote_identifier(const std::string& name) {
  std::string q = "\"";
  for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string customer_columns_sql_v1(bool postgres) {
  // Wrapped at 88 columns after a two-space indent: the text migration 1 always had, so the
  // table's CREATE statement in sqlite_master is the same as before the list existed.
  constexpr size_t kWidth = 88;
  std::string out, line = " ";
  for (const auto& c : kCustomerColumns) {
    if (c.since != 1) continue;
    std::string_view type = postgres ? c.pg_type : c.sql_type;
    const size_t item = c.name.size() + 1 + type.size() + 1;  // "name TYPE,"
    if (line.size() > 1 && line.size() + 1 + item > kWidth) {
      out += line;
      out += '\n';
      line.resize(1);  // the first space of the indent
    }
    line += ' ';
    line += c.name;
    line += ' ';
    line += type;
    line += ',';
  }
  out += line;
  out.pop_back();  // the last comma
  return out;
}

std::set<std::string> FactWriter::columns(const std::string& table) {
  std::set<std::string> out;
  SQLite::Statement q(db_, "SELECT name FROM pragma_table_info(?)");
  q.bind(1, table);
  while (q.executeStep()) out.insert(q.getColumn(0).getString());
  return out;
}

void FactWriter::add_customer_column(const std::string& name, const std::string& sql_type) {
  if (columns("customers").count(name)) return;
  db_.exec("ALTER TABLE customers ADD COLUMN " + quote_identifier(name) + " " + sql_type);
  statements_.clear();  // prepared INSERTs into customers would not see the new column
  typed_.fill(nullptr);
}

SQLite::Statement& FactWriter::typed(size_t kind, const std::string& table, const std::vector<std::string>& columns,
                                     bool or_ignore) {
  if (!typed_[kind]) typed_[kind] = &statement(table, columns, or_ignore);
  return *typed_[kind];
}

SQLite::Statement& FactWriter::statement(const std::string& table, const std::vector<std::string>& columns,
                                         bool or_ignore) {
  std::string names, marks;
  for (const auto& c : columns) {
    names += (names.empty() ? "" : ", ") + quote_identifier(c);
    marks += marks.empty() ? "?" : ", ?";
  }
  std::string sql = std::string(or_ignore ? "INSERT OR IGNORE INTO " : "INSERT INTO ") + quote_identifier(table) +
                    " (" + names + ") VALUES (" + marks + ")";
  auto it = statements_.find(sql);
  if (it == statements_.end()) it = statements_.emplace(sql, SQLite::Statement(db_, sql)).first;
  return it->second;
}

int64_t FactWriter::run(SQLite::Statement& st, const std::vector<Cell>& values) {
  st.reset();
  st.clearBindings();
  for (size_t i = 0; i < values.size(); ++i) {
    const int k = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) st.bind(k);
          else st.bind(k, v);
        },
        values[i]);
  }
  st.exec();
  return db_.getLastInsertRowid();
}

int64_t FactWriter::insert(const std::string& table, const std::vector<std::string>& columns,
                           const std::vector<Cell>& values, bool or_ignore) {
  return run(statement(table, columns, or_ignore), values);
}

namespace {
Cell id_cell(const std::optional<int64_t>& id) { return id ? Cell(*id) : Cell(); }
}  // namespace

int64_t FactWriter::write(const CustomerRow& r) {
  std::vector<Cell> values(r.cells.begin(), r.cells.end());
  std::string extras;  // the extra names, NUL-separated: the statement's signature
  for (const auto& [name, value] : r.extra) {
    extras += name;
    extras += '\0';
    values.push_back(value);
  }
  if (extras != customer_extras_) {
    typed_[0] = nullptr;
    customer_extras_ = extras;
  }
  if (!typed_[0]) {
    std::vector<std::string> cols;
    for (const auto& c : kCustomerColumns) cols.emplace_back(c.name);
    for (const auto& e : r.extra) cols.push_back(e.first);
    typed_[0] = &statement("customers", cols, false);
  }
  return run(*typed_[0], values);
}

int64_t FactWriter::write(const ProductRow& r) {
  static const std::vector<std::string> cols = {"id", "sku", "name", "category", "price"};
  return run(typed(1, "products", cols), {id_cell(r.id), r.sku, r.name, r.category, r.price});
}

int64_t FactWriter::write(const OrderRow& r) {
  static const std::vector<std::string> cols = {"id", "customer_id", "ordered_at", "total", "status"};
  return run(typed(2, "orders", cols), {r.id, r.customer_id, r.ordered_at, r.total, r.status});
}

int64_t FactWriter::write(const OrderItemRow& r) {
  static const std::vector<std::string> cols = {"order_id", "product_id", "quantity", "price"};
  return run(typed(3, "order_items", cols), {r.order_id, r.product_id, r.quantity, r.price});
}

int64_t FactWriter::write(const SubscriptionRow& r) {
  static const std::vector<std::string> cols = {"id",     "customer_id", "product_id",   "started_at",
                                                "status", "cycles",      "cancelled_at", "cancel_reason"};
  return run(typed(4, "subscriptions", cols), {id_cell(r.id), r.customer_id, r.product_id, r.started_at, r.status, r.cycles, r.cancelled_at,
                 r.cancel_reason});
}

int64_t FactWriter::write(const SurveyRow& r) {
  static const std::vector<std::string> cols = {"customer_id", "answered_at", "satisfaction"};
  return run(typed(5, "surveys", cols), {r.customer_id, r.answered_at, r.satisfaction});
}

int64_t FactWriter::write(const ReferralRow& r) {
  static const std::vector<std::string> cols = {"referrer_id", "referee_id", "created_at"};
  return run(typed(6, "referrals", cols), {r.referrer_id, r.referee_id, r.created_at});
}

int64_t FactWriter::write(const EventRow& r) {
  static const std::vector<std::string> cols = {"id", "customer_id", "type", "at", "payload"};
  return run(typed(7, "events", cols), {id_cell(r.id), r.customer_id, r.type, r.at, r.payload});
}

int64_t FactWriter::write(const TagRow& r) {
  static const std::vector<std::string> cols = {"customer_id", "tag", "set_at"};
  return run(typed(8, "tags", cols, true), {r.customer_id, r.tag, r.set_at});
}

}  // namespace crm::engine
