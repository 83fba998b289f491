// Event occurrences (store replay and real time), a small flat-JSON reader for payloads, and
// the event frame: customer attributes plus order.* / event.* columns, one row per occurrence.
#include "engine/run/events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace crm::engine {
namespace {

// Payloads nest rarely; deeper values are skipped, never recursed into without bound.
constexpr int kMaxJsonDepth = 32;

struct JsonReader {
  const std::string& s;
  size_t i = 0;
  bool too_deep = false;  // a value nested past kMaxJsonDepth was met
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool lit(std::string_view w) {
    if (s.compare(i, w.size(), w) != 0) return false;
    i += w.size();
    return true;
  }
  bool string(std::string& out) {
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) return false;
      char e = s[i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (i + 4 > s.size()) return false;
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = s[i++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= h - '0';
            else if (h >= 'a' && h <= 'f') cp |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F') cp |= h - 'A' + 10;
            else return false;
          }
          if (cp < 0x80) out += static_cast<char>(cp);
          else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {  // surrogates are kept as-is (3 bytes each): payload text is not validated
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: out += e; break;
      }
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  }
  bool number(JsonField& f) {
    size_t b = i;
    if (i < s.size() && s[i] == '-') ++i;
    bool integral = true;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                            s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
      if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') integral = false;
      ++i;
    }
    if (i == b) return false;
    try {
      f.num = std::stod(s.substr(b, i - b));
    } catch (...) {
      return false;
    }
    f.kind = JsonField::Kind::Number;
    f.integral = integral && std::fabs(f.num) < 9e15;
    return true;
  }
  // Any value; fills `f` for scalars and lists of strings, skips the rest.
  bool value(JsonField& f, int depth) {
    if (depth > kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    ws();
    if (i >= s.size()) return false;
    char c = s[i];
    if (c == '"') {
      f.kind = JsonField::Kind::String;
      return string(f.text);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i;
      ws();
      bool strings_only = c == '[';
      std::vector<std::string> items;
      if (i < s.size() && s[i] == close) {
        ++i;
      } else {
        for (;;) {
          if (c == '{') {
            std::string k;
            ws();
            if (!string(k)) return false;
            ws();
            if (!lit(":")) return false;
          }
          JsonField inner;
          if (!value(inner, depth + 1)) return false;
          if (inner.kind == JsonField::Kind::String) items.push_back(inner.text);
          else strings_only = false;
          ws();
          if (lit(",")) continue;
          if (i < s.size() && s[i] == close) {
            ++i;
            break;
          }
          return false;
        }
      }
      if (strings_only) {
        f.kind = JsonField::Kind::StringList;
        f.list = std::move(items);
      }
      return true;
    }
    if (lit("true")) {
      f.kind = JsonField::Kind::Bool;
      f.b = true;
      return true;
    }
    if (lit("false")) {
      f.kind = JsonField::Kind::Bool;
      return true;
    }
    if (lit("null")) return true;
    return number(f);
  }
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

Occurrence order_occurrence(const Facts& f, size_t o, const std::string& type) {
  Occurrence oc;
  oc.row = f.order_row[o];
  oc.customer = f.customer_id[oc.row];
  oc.day = f.order_day[o];
  oc.type = type;
  oc.key = fmt::format("order:{}", f.order_id[o]);
  oc.is_order = true;
  oc.order_id = f.order_id[o];
  oc.order_total = f.order_total[o];
  for (uint32_t k = f.item_offsets[o]; k < f.item_offsets[o + 1]; ++k) oc.skus.emplace_back(f.strings->get(f.item_sku[k]));
  return oc;
}

bool first_paid(const Facts& f, size_t o) {
  size_t row = f.order_row[o];
  for (uint32_t k = f.order_offsets[row]; k < f.order_offsets[row + 1]; ++k)
    if (f.order_status[k] == OrderStatus::Paid) return k == o;
  return false;
}

}  // namespace

bool parse_json_object(const std::string& text, std::vector<std::pair<std::string, JsonField>>& out, bool* too_deep) {
  JsonReader r{text};
  struct Report {  // tells the caller, whichever return is taken
    JsonReader& r;
    bool* flag;
    ~Report() {
      if (flag) *flag = r.too_deep;
    }
  } report{r, too_deep};
  r.ws();
  if (!r.lit("{")) return false;
  r.ws();
  if (r.lit("}")) {
    r.ws();
    return r.i == text.size();
  }
  for (;;) {
    r.ws();
    std::string k;
    if (!r.string(k)) return false;
    r.ws();
    if (!r.lit(":")) return false;
    JsonField f;
    if (!r.value(f, 1)) return false;
    out.emplace_back(std::move(k), std::move(f));
    r.ws();
    if (r.lit(",")) continue;
    if (r.lit("}")) break;
    return false;
  }
  r.ws();
  return r.i == text.size();
}

std::vector<Occurrence> occurrences_on(const Facts& f, Days d) {
  std::vector<Occurrence> out;
  // Orders first (they are the most common), then sign-ups, then the events table.
  auto [ob, oe] = f.orders_on(d);
  for (size_t k = ob; k < oe; ++k) {
    uint32_t o = f.orders_by_day[k];
    if (f.order_status[o] != OrderStatus::Paid || !f.exists_on(f.order_row[o], d)) continue;
    out.push_back(order_occurrence(f, o, "purchase"));
    if (first_paid(f, o)) out.push_back(order_occurrence(f, o, "first_purchase"));
  }
  for (size_t r = 0; r < f.rows(); ++r) {
    if (f.created_at[r] != d) continue;
    Occurrence oc;
    oc.row = r;
    oc.customer = f.customer_id[r];
    oc.day = d;
    oc.type = "signup";
    oc.key = "signup";
    out.push_back(std::move(oc));
  }
  auto [eb, ee] = f.events_on(d);
  for (size_t e = eb; e < ee; ++e) {
    std::string_view type = f.event_type[e] >= 0 ? f.strings->get(f.event_type[e]) : std::string_view();
    if (type.empty() || type == "purchase" || type == "first_purchase" || type == "signup") continue;
    if (!f.exists_on(f.event_row[e], d)) continue;
    Occurrence oc;
    oc.row = f.event_row[e];
    oc.customer = f.customer_id[oc.row];
    oc.day = d;
    oc.type = std::string(type);
    oc.key = fmt::format("event:{}", f.event_id[e]);
    oc.payload = f.event_payload[e];
    out.push_back(std::move(oc));
  }
  return out;
}

bool realtime_occurrences(const Facts& f, int64_t customer, Days d, const std::string& type,
                          const std::string& payload, std::optional<int64_t> id, std::vector<Occurrence>& out,
                          std::string& error) {
  auto row = f.row_of(customer);
  if (!row) {
    error = fmt::format("customer {} is not in the store", customer);
    return false;
  }
  std::vector<std::pair<std::string, JsonField>> fields;
  std::string text = payload.empty() ? "{}" : payload;
  bool too_deep = false;
  if (!parse_json_object(text, fields, &too_deep)) {
    error = too_deep ? "the payload nests values more than " + std::to_string(kMaxJsonDepth) + " levels deep (the limit for a payload)"
                     : "the payload is not a JSON object, e.g. '{\"reason\": \"too_expensive\"}'";
    return false;
  }
  auto field = [&](const char* name) -> const JsonField* {
    for (const auto& [k, v] : fields)
      if (k == name) return &v;
    return nullptr;
  };
  Occurrence oc;
  oc.row = *row;
  oc.customer = customer;
  oc.day = d;
  oc.type = type;
  if (type == "purchase" || type == "first_purchase") {
    const JsonField* oid = field("order_id");
    if (!id && oid && oid->kind == JsonField::Kind::Number && oid->integral) id = static_cast<int64_t>(oid->num);
    if (!id) {
      error = "a purchase needs its order id: --id ID or \"order_id\" in the payload";
      return false;
    }
    oc.is_order = true;
    oc.order_id = *id;
    oc.key = fmt::format("order:{}", *id);
    const JsonField* t = field("total");
    oc.has_total = t && t->kind == JsonField::Kind::Number;
    if (oc.has_total) oc.order_total = t->num;
    if (const JsonField* s = field("skus"); s && s->kind == JsonField::Kind::StringList) oc.skus = s->list;
    // First purchase: no other paid order on or before d (the order itself may be stored).
    bool earlier = false;
    for (uint32_t k = f.order_offsets[*row]; k < f.order_offsets[*row + 1]; ++k)
      if (f.order_status[k] == OrderStatus::Paid && f.order_day[k] <= d && f.order_id[k] != *id) {
        // A stored paid order of the same day with a larger id came after this one.
        if (f.order_day[k] == d && f.order_id[k] > *id) continue;
        earlier = true;
      }
    oc.type = "purchase";
    out.push_back(oc);
    if (!earlier) {
      oc.type = "first_purchase";
      out.push_back(oc);
    }
    return true;
  }
  oc.payload = payload;
  if (type == "signup") oc.key = "signup";
  else if (id) oc.key = fmt::format("event:{}", *id);
  else oc.key = fmt::format("rt:{:016x}", fnv1a(type + "|" + format_date(d) + "|" + payload));
  out.push_back(std::move(oc));
  return true;
}

Frame build_event_frame(const Frame& day, const std::vector<const Occurrence*>& rows, const Program& program) {
  Frame fr;
  fr.rows = rows.size();
  fr.today = day.today;
  fr.strings = day.strings;
  fr.customer_id.reserve(rows.size());
  for (const Occurrence* o : rows) fr.customer_id.push_back(o->customer);

  // Customer attributes: gathered from the day's frame by Facts row.
  for (const auto& [name, col] : day.columns) {
    Column c;
    c.type = col.type;
    bool list = !col.list_offsets.empty();
    if (list) {
      c.list_offsets.push_back(0);
      for (const Occurrence* o : rows) {
        c.list_values.insert(c.list_values.end(), col.list_values.begin() + col.list_offsets[o->row],
                             col.list_values.begin() + col.list_offsets[o->row + 1]);
        c.list_offsets.push_back(static_cast<uint32_t>(c.list_values.size()));
      }
    }
    for (const Occurrence* o : rows) {
      if (!col.i64.empty()) c.i64.push_back(col.i64[o->row]);
      if (!col.f64.empty()) c.f64.push_back(col.f64[o->row]);
      if (!col.valid.empty()) c.valid.push_back(col.valid[o->row]);
    }
    fr.columns.emplace(name, std::move(c));
  }

  StringPool& pool = *fr.strings;
  size_t n = rows.size();
  auto scalar = [&](const char* name, lang::Type t) -> Column& {
    Column& c = fr.columns[name];
    c.type = t;
    c.i64.assign(n, 0);
    c.f64.assign(t.kind == lang::TypeKind::Decimal ? n : 0, 0.0);
    c.valid.assign(n, 0);
    return c;
  };
  Column& oid = scalar("order.id", lang::Type::integer());
  Column& ototal = scalar("order.total", lang::Type::decimal());
  Column& odate = scalar("order.date", lang::Type::date());
  Column& etype = scalar("event.type", lang::Type::string());
  Column& skus = fr.columns["order.skus"];
  skus.type = lang::Type::list(lang::TypeKind::String);
  skus.valid.assign(n, 0);
  skus.i64.assign(n, 0);
  skus.list_offsets.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    const Occurrence& o = *rows[i];
    etype.i64[i] = pool.intern(o.type);
    etype.valid[i] = 1;
    if (o.is_order) {
      oid.i64[i] = o.order_id;
      ototal.f64[i] = o.order_total;
      odate.i64[i] = o.day;
      oid.valid[i] = odate.valid[i] = skus.valid[i] = 1;
      ototal.valid[i] = o.has_total ? 1 : 0;
      std::vector<int64_t> ids;
      for (const auto& s : o.skus) ids.push_back(pool.intern(s));
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      skus.list_values.insert(skus.list_values.end(), ids.begin(), ids.end());
    }
    skus.list_offsets.push_back(static_cast<uint32_t>(skus.list_values.size()));
  }

  // Payload fields: the kinds the program reads each event.<field> column as.
  std::map<std::string, std::set<lang::TypeKind>> wanted;
  const auto& cols = program.required_columns();
  for (const Node& node : program.nodes())
    if (node.op == Op::LoadAny && node.column >= 0 && static_cast<size_t>(node.column) < cols.size())
      wanted[cols[node.column]].insert(node.kind);
  for (const auto& name : cols)
    if (name.size() > 6 && name.compare(0, 6, "event.") == 0 && name != "event.type") wanted[name];
  if (wanted.empty()) return fr;
  std::vector<std::vector<std::pair<std::string, JsonField>>> parsed(n);
  for (size_t i = 0; i < n; ++i)
    if (!rows[i]->payload.empty()) parse_json_object(rows[i]->payload, parsed[i]);  // a bad payload has no fields
  for (const auto& [name, kinds] : wanted) {
    std::string key = name.substr(6);
    auto get = [&](size_t i) -> const JsonField* {
      for (const auto& [k, v] : parsed[i])
        if (k == key && v.kind != JsonField::Kind::Null) return &v;
      return nullptr;
    };
    lang::TypeKind kind = kinds.size() == 1 ? *kinds.begin() : lang::TypeKind::Null;
    for (size_t i = 0; i < n && kind == lang::TypeKind::Null; ++i)
      if (const JsonField* v = get(i)) {
        switch (v->kind) {
          case JsonField::Kind::Bool: kind = lang::TypeKind::Bool; break;
          case JsonField::Kind::Number: kind = v->integral ? lang::TypeKind::Int : lang::TypeKind::Decimal; break;
          case JsonField::Kind::String: kind = lang::TypeKind::String; break;
          default: break;
        }
      }
    if (kind == lang::TypeKind::Null) kind = lang::TypeKind::String;
    Column& c = scalar(name.c_str(), lang::Type{kind, lang::TypeKind::Error});
    if (kind == lang::TypeKind::Decimal && c.f64.size() != n) c.f64.assign(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      const JsonField* v = get(i);
      if (!v) continue;
      using K = JsonField::Kind;
      switch (kind) {
        case lang::TypeKind::String:
          if (v->kind == K::String) c.i64[i] = pool.intern(v->text), c.valid[i] = 1;
          break;
        case lang::TypeKind::Int:
          if (v->kind == K::Number && v->integral) c.i64[i] = static_cast<int64_t>(v->num), c.valid[i] = 1;
          break;
        case lang::TypeKind::Decimal:
          if (v->kind == K::Number) c.f64[i] = v->num, c.valid[i] = 1;
          break;
        case lang::TypeKind::Bool:
          if (v->kind == K::Bool) c.i64[i] = v->b ? 1 : 0, c.valid[i] = 1;
          break;
        case lang::TypeKind::Date:
          if (v->kind == K::String)
            if (auto dd = parse_date(v->text)) c.i64[i] = *dd, c.valid[i] = 1;
          break;
        default: break;
      }
    }
  }
  return fr;
}

}  // namespace crm::engine
