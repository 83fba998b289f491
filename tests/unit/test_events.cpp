// Unit tests of events and journeys (engine/run/events.hpp): the payload JSON reader, the day's
// occurrences from a store, real-time occurrences, and the event frame's order.*/event.* columns.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/frame/attributes.hpp"
#include "engine/run/events.hpp"
#include "engine/store/sqlite_store.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

const char* kShop = R"sql(
  INSERT INTO customers (id, name, created_at, email_opt_in) VALUES
    (1, 'Aiko', '2026-01-01', 1), (2, 'Ben', '2026-03-01', 1);
  INSERT INTO products (id, sku) VALUES (1, 'SOAP'), (2, 'CREAM');
  INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
    (10, 1, '2026-03-01T10:00:00', 1000, 'paid'),
    (11, 1, '2026-03-01T12:00:00', 500, 'cancelled'),
    (12, 1, '2026-03-05T10:00:00', 700, 'paid');
  INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (10, 1, 1, 500), (10, 2, 1, 500), (12, 2, 1, 700);
  INSERT INTO events (id, customer_id, type, at, payload) VALUES
    (5, 2, 'cancel_request', '2026-03-01T11:00:00', '{"reason": "too_expensive", "score": 2, "rate": 2.5}'),
    (6, 2, 'purchase', '2026-03-01T11:00:00', '{}');
)sql";

struct Shop {
  std::string dir, path;
  Facts facts;
  Shop() {
    char tmpl[] = "/tmp/crm_events_test_XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/shop.db";
    SqliteStore s = SqliteStore::open(path, true);
    s.db().exec(kShop);
    facts = s.load_facts("UTC").facts;
  }
  ~Shop() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("events: the payload JSON reader takes flat objects and rejects the rest") {
  std::vector<std::pair<std::string, JsonField>> f;
  REQUIRE(parse_json_object(R"({"reason": "too_\"exp\"", "n": 3, "x": 2.5, "ok": true, "skus": ["A", "B"],
                                "nested": {"a": [1, 2]}, "none": null, "u": "\u00e9"})",
                            f));
  REQUIRE(f.size() == 8);
  CHECK(f[0].second.text == "too_\"exp\"");
  CHECK((f[1].second.kind == JsonField::Kind::Number && f[1].second.integral && f[1].second.num == 3));
  CHECK((f[2].second.kind == JsonField::Kind::Number && !f[2].second.integral));
  CHECK(f[3].second.b);
  CHECK(f[4].second.list == std::vector<std::string>{"A", "B"});
  CHECK(f[5].second.kind == JsonField::Kind::Null);  // nested objects are skipped
  CHECK(f[6].second.kind == JsonField::Kind::Null);
  CHECK(f[7].second.text == "\xc3\xa9");
  for (const char* bad : {"", "[1]", "{", "{\"a\" 1}", "{\"a\": 1,}", "{\"a\": \"x}", "{} x", "{\"a\": tru}"}) {
    f.clear();
    CHECK_MESSAGE(!parse_json_object(bad, f), bad);
  }
  std::string deep(100000, '[');
  bool too_deep = false;
  CHECK(!parse_json_object("{\"a\": " + deep + "}", f, &too_deep));  // bounded depth, no crash
  CHECK(too_deep);  // and told apart from a malformed payload (crm event's message)
  CHECK(!parse_json_object("{\"a\": [1}", f, &too_deep));
  CHECK_FALSE(too_deep);
}

TEST_CASE("events: a day's occurrences are paid orders, first purchases, sign-ups and events rows") {
  Shop s;
  auto occ = occurrences_on(s.facts, day("2026-03-01"));
  REQUIRE(occ.size() == 4);
  CHECK((occ[0].type == "purchase" && occ[0].key == "order:10" && occ[0].customer == 1));
  CHECK(occ[0].skus.size() == 2);
  CHECK((occ[1].type == "first_purchase" && occ[1].key == "order:10"));
  CHECK((occ[2].type == "signup" && occ[2].customer == 2));
  CHECK((occ[3].type == "cancel_request" && occ[3].key == "event:5"));  // the 'purchase' event row is skipped
  auto later = occurrences_on(s.facts, day("2026-03-05"));
  REQUIRE(later.size() == 1);  // the second paid order is no first purchase
  CHECK(later[0].type == "purchase");
}

TEST_CASE("events: real-time purchases know first purchases; other events need a JSON object") {
  Shop s;
  std::vector<Occurrence> out;
  std::string err;
  REQUIRE(realtime_occurrences(s.facts, 2, day("2026-03-02"), "purchase", R"({"order_id": 99, "total": 1200, "skus": ["SOAP"]})",
                               std::nullopt, out, err));
  REQUIRE(out.size() == 2);
  CHECK((out[1].type == "first_purchase" && out[1].key == "order:99" && out[1].order_total == 1200));
  out.clear();
  REQUIRE(realtime_occurrences(s.facts, 1, day("2026-03-05"), "purchase", R"({"total": "x"})", 12, out, err));
  CHECK(out.size() == 1);  // order 10 was earlier
  CHECK(!out[0].has_total);  // a total that is not a number is null
  out.clear();
  CHECK(!realtime_occurrences(s.facts, 7, day("2026-03-05"), "survey", "{}", 1, out, err));
  CHECK(err.find("customer 7") != std::string::npos);
  CHECK(!realtime_occurrences(s.facts, 1, day("2026-03-05"), "survey", "[1]", 1, out, err));
  CHECK(!realtime_occurrences(s.facts, 1, day("2026-03-05"), "purchase", "{}", std::nullopt, out, err));
}

TEST_CASE("events: the event frame holds order.* and typed event.* columns per occurrence") {
  Shop s;
  Days d = day("2026-03-01");
  Frame dayf = compute_frame(s.facts, d, {"purchase_count"});
  auto occ = occurrences_on(s.facts, d);
  std::vector<const Occurrence*> rows;
  for (const auto& o : occ) rows.push_back(&o);
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  Program p = b.finish();
  Frame ef = build_event_frame(dayf, rows, p);
  REQUIRE(ef.rows == 4);
  CHECK(ef.column("purchase_count")->i64[0] == 1);
  CHECK(ef.column("order.id")->i64[1] == 10);
  CHECK(ef.column("order.id")->valid[3] == 0);
  CHECK(ef.column("order.total")->f64[0] == 1000);
  CHECK(ef.column("order.date")->i64[0] == d);
  CHECK(ef.strings->get(ef.column("event.type")->i64[3]) == "cancel_request");
  const Column& skus = *ef.column("order.skus");
  CHECK(skus.list_offsets[1] - skus.list_offsets[0] == 2);
  CHECK(skus.list_offsets[4] - skus.list_offsets[3] == 0);
}
