// The customer store's facts in memory: every table loaded once (Store::load_facts), columnar and
// sorted so that attributes as of any date are plain loops (engine/frame/). Owned by the caller.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/lifetime/lifetime_models.hpp"
#include "engine/store/string_pool.hpp"
#include "engine/store/timezone.hpp"
#include "lang/checker.hpp"
#include "lang/types.hpp"

namespace crm::engine {

enum class OrderStatus : uint8_t { Paid, Cancelled, Refunded, Unknown };

// The five marketing opt-ins of the customers table, in SPEC order.
enum class OptIn : uint8_t { Email, Line, Sms, Push, Dm };
constexpr size_t kOptInCount = 5;
constexpr const char* kOptInColumns[kOptInCount] = {"email_opt_in", "line_opt_in", "sms_opt_in", "push_opt_in", "dm_opt_in"};

// Row ranges in the CSR layouts below: items of row r are [offsets[r], offsets[r + 1]).
using Offsets = std::vector<uint32_t>;

// An extra column of the customers table (not in SPEC §5), exposed as an attribute.
// Values as in engine::Column: int/bool/date/string id in i64, decimal in f64.
struct ExtraColumn {
  std::string name;
  lang::Type type;
  std::string declared_type;  // as declared in SQL, e.g. "VARCHAR(20)"
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<uint8_t> valid;
};

struct Facts {
  // Shared with every Frame computed from these facts. The loader interns "active" and
  // "cancelled" (subscription statuses) so compute_frame never has to.
  std::shared_ptr<StringPool> strings = std::make_shared<StringPool>();
  std::string timezone = "UTC";  // the zone the days below were taken in
  std::string currency;          // meta `currency` ("" when unset), and its minor unit (currency.hpp)
  int money_digits = 2;

  // --- customers: one row each, sorted by id. String ids are into `strings`, -1 = null.
  std::vector<int64_t> customer_id;
  std::vector<int64_t> name, email;
  std::vector<Days> birthday, created_at;  // kNoDay = null
  std::vector<int8_t> opt_in[kOptInCount];  // -1 null, 0, 1
  std::vector<int64_t> referred_by;         // valid when referred_by_valid
  std::vector<uint8_t> referred_by_valid;
  std::vector<ExtraColumn> extra;

  // --- orders of each customer, sorted by (day, id); only orders with a valid day.
  Offsets order_offsets;  // rows + 1
  std::vector<int64_t> order_id;
  std::vector<Days> order_day;
  std::vector<int64_t> order_local_seconds;  // local wall clock, for ordering within a day
  std::vector<double> order_total;           // may be negative (kept as stored)
  std::vector<OrderStatus> order_status;
  std::vector<uint32_t> order_row;           // the customer row of each order
  Offsets item_offsets;                      // orders + 1
  std::vector<int64_t> item_sku;             // SKU string ids, distinct within an order
  std::vector<int64_t> item_category;        // per item: products.category string id, -1 null
  std::vector<uint32_t> orders_by_day;       // order indexes sorted by (day, local time, id)

  // --- subscriptions of each customer, sorted by (start day, id).
  Offsets sub_offsets;
  std::vector<int64_t> sub_id;
  std::vector<Days> sub_start;
  std::vector<int64_t> sub_status;   // string id ("active", "paused", "cancelled", ...), -1 null
  std::vector<int64_t> sub_cycles;   // valid when sub_cycles_valid
  std::vector<uint8_t> sub_cycles_valid;
  std::vector<Days> sub_cancelled;   // kNoDay = not cancelled (or unknown)
  std::vector<int64_t> sub_cancel_reason;  // string id, -1 null

  // --- survey answers of each customer, sorted by day (load order within a day).
  Offsets survey_offsets;
  std::vector<Days> survey_day;
  std::vector<int64_t> survey_satisfaction;

  // --- referrals made by each customer (as referrer), their days sorted.
  Offsets referral_offsets;
  std::vector<Days> referral_day;

  // --- events, all customers, sorted by (day, local time, id).
  std::vector<int64_t> event_id;
  std::vector<uint32_t> event_row;
  std::vector<int64_t> event_type;  // string id
  std::vector<Days> event_day;
  std::vector<int64_t> event_local_seconds;
  std::vector<std::string> event_payload;  // JSON text ("" when null)

  // --- tags of each customer, deduplicated, sorted by tag string id.
  Offsets tag_offsets;
  std::vector<int64_t> tag;
  std::vector<Days> tag_set_at;  // kNoDay = unknown (treated as always set)

  // --- outbox history (for once / once per / every / after), sorted by (run_date, id).
  struct OutboxEntry {
    int64_t id = 0;
    Days run_date = 0;
    int64_t customer_id = 0;
    int64_t row = -1;  // the customer row, -1 when the customer is no longer in the store
    std::string rule, action, target, idem_key;
    std::string channel;  // of a send ("" otherwise)
  };
  std::vector<OutboxEntry> outbox;

  // --- the fitted lifetime models (table `models`, written by `crm fit`), in table order. A day
  // uses those with as_of on or before it, or strictly before it when `models_strictly_before`
  // (crm simulate sets it: a model fitted on day D has seen all of D). engine/frame/model_attributes.cpp.
  std::vector<model::ModelRow> models;
  bool models_strictly_before = false;

  size_t rows() const { return customer_id.size(); }

  // The row of a customer id (binary search), nullopt when unknown.
  std::optional<size_t> row_of(int64_t id) const;
  // A customer exists as of `d` when created_at is unknown or on or before `d`. Frames hold
  // every row; the run engine skips rows that do not exist yet (backtests).
  bool exists_on(size_t row, Days d) const { return created_at[row] == kNoDay || created_at[row] <= d; }
  // Order indexes with day == d, as a range into orders_by_day.
  std::pair<size_t, size_t> orders_on(Days d) const;
  // Event indexes with event_day == d: [first, second).
  std::pair<size_t, size_t> events_on(Days d) const;

  // The extra customer columns as the checker wants them (crm check --db, crm run).
  std::vector<lang::CheckOptions::Extra> extra_attributes() const;
};

// The Facts' vectors, grouped by the layout that indexes them: one list per layout, so code
// that walks every fact (Facts::slice) is written over the lists and a new fact is added to its
// list here, next to its declaration, once. (opt_in, extra, the CSR offsets, order_row,
// item_* and orders_by_day are laid out by hand in slice.)
inline constexpr auto kCustomerVectors =  // one value per customer row
    std::make_tuple(&Facts::customer_id, &Facts::name, &Facts::email, &Facts::birthday, &Facts::created_at,
                    &Facts::referred_by, &Facts::referred_by_valid);
inline constexpr auto kOrderVectors =  // order_offsets
    std::make_tuple(&Facts::order_id, &Facts::order_day, &Facts::order_local_seconds, &Facts::order_total,
                    &Facts::order_status);
inline constexpr auto kSubscriptionVectors =  // sub_offsets
    std::make_tuple(&Facts::sub_id, &Facts::sub_start, &Facts::sub_status, &Facts::sub_cycles,
                    &Facts::sub_cycles_valid, &Facts::sub_cancelled, &Facts::sub_cancel_reason);
inline constexpr auto kSurveyVectors = std::make_tuple(&Facts::survey_day, &Facts::survey_satisfaction);
inline constexpr auto kReferralVectors = std::make_tuple(&Facts::referral_day);
inline constexpr auto kTagVectors = std::make_tuple(&Facts::tag, &Facts::tag_set_at);
inline constexpr auto kEventVectors =  // all customers, in time order (event_row: the row)
    std::make_tuple(&Facts::event_id, &Facts::event_type, &Facts::event_day, &Facts::event_local_seconds,
                    &Facts::event_payload);

// Per customer row, the indexes of its events and outbox entries (which are in time order, not
// by row), for one-customer slices.
struct FactsRowIndex {
  Offsets event_offsets, event_index, outbox_offsets, outbox_index;
  void build(const Facts& facts);
};

// `out` = the facts of row `r` of `facts` alone (as row 0), sharing the string pool. `out`'s
// vectors keep their capacity (the embedding API reuses one slice per store).
void slice_facts(const Facts& facts, const FactsRowIndex& index, size_t r, Facts& out);

// What the loader found odd in the data: one line each, naming the table, row id and value.
struct LoadResult {
  Facts facts;
  std::vector<std::string> warnings;
};

}  // namespace crm::engine
