// Events (SPEC §3, docs/events.md): the occurrences of a day (paid orders, sign-ups, rows of the
// events table, or one real-time call) and the "event frame" that evaluates event rules and
// journey steps with the same Evaluator as daily rules (journey instances: journeys.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/facts.hpp"
#include "engine/frame/frame.hpp"
#include "engine/eval/program.hpp"
#include "lang/checker.hpp"

namespace crm::engine {

// One occurrence of an event for one customer: what `on EVENT` rules and journeys react to.
struct Occurrence {
  size_t row = 0;        // the customer's Facts row
  int64_t customer = 0;
  Days day = 0;
  std::string type;      // "purchase", "first_purchase", "signup", or an events.type
  // The dedupe value of event rules and the instance key of journeys: "order:17" (both the
  // purchase and the first_purchase of order 17), "event:5", "signup".
  std::string key;
  bool is_order = false;  // order.* columns are set
  int64_t order_id = 0;
  double order_total = 0;
  bool has_total = true;  // false: a real-time purchase without a numeric "total" (order.total is null)
  std::vector<std::string> skus;
  std::string payload;    // the event's JSON object ("" when none)
};

// The day's occurrences from the store, in time order: each paid order as `purchase` (and also
// `first_purchase` when it is the customer's first paid order), each customer created that day
// as `signup`, each row of the events table (rows typed purchase, first_purchase or signup are
// skipped: those come from orders and customers). Customers not existing on `d` are skipped.
std::vector<Occurrence> occurrences_on(const Facts& facts, Days d);

// A real-time occurrence (crm event). `purchase` reads the payload's "order_id" (or `id`),
// "total" and "skus", and also yields `first_purchase` when the customer has no other paid order
// on or before `d`. Other types keep the payload for event.<field>; their key is "event:<id>".
// Without an id the key is a hash of the type and payload. Returns false with `error` set on
// an unknown customer or a payload that is not a JSON object.
bool realtime_occurrences(const Facts& facts, int64_t customer, Days d, const std::string& type,
                          const std::string& payload, std::optional<int64_t> id, std::vector<Occurrence>& out,
                          std::string& error);

// One value of a flat JSON object (nested objects and arrays of non-strings are ignored).
struct JsonField {
  enum class Kind : uint8_t { Null, Bool, Number, String, StringList } kind = Kind::Null;
  bool b = false;
  double num = 0;
  bool integral = false;
  std::string text;
  std::vector<std::string> list;
};
// Parses a JSON object's top-level fields; false when `text` is not a JSON object, or nests
// values past the reader's depth limit (then *too_deep, when given, is set).
bool parse_json_object(const std::string& text, std::vector<std::pair<std::string, JsonField>>& out,
                       bool* too_deep = nullptr);

// Builds the event frame: row i is the customer of `rows[i]` (its attribute columns gathered
// from `day`, whose rows are Facts rows) with the occurrence's order.id, order.total,
// order.skus, order.date, event.type and event.<field> columns. A payload field's column type
// is the one its uses want (the compiled program's LoadAny nodes) when they agree, else the
// first non-null value's JSON type; values of another type read as null.
Frame build_event_frame(const Frame& day, const std::vector<const Occurrence*>& rows, const Program& program);

}  // namespace crm::engine
