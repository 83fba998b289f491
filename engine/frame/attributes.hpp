// Attributes as of a date: fills a Frame (one column per builtin customer attribute of
// lang/builtins.def, plus the store's extra customer columns) from the in-memory Facts.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/store/facts.hpp"
#include "engine/frame/frame.hpp"
#include "engine/frame/tag_overlay.hpp"

namespace crm::engine {

// Computes the named attributes of every customer as of day `d`, using only facts dated on or
// before `d` (SPEC §5). `needed_names` are attribute names ("purchase_count",
// "subscription.months", an extra column such as "plan"); empty means every one. Names that are
// not customer attributes (order.*, event.*, definitions) are ignored.
//
// Rows: frame row r is Facts row r for every customer, including those whose created_at is
// after `d` (see Facts::exists_on). frame.strings is the facts' pool, so string ids agree.
// Null conventions: a purchase attribute is null without a paid order on or before `d`
// (purchase_count and total_spent are 0, the lists empty); subscription.active is false without
// a subscription, the other subscription.* are null. Lists are sorted by string id.
//
// Thread-safety: reads `facts` only (never interns), so several frames (days) may be computed
// at once from one Facts; uses up to kAttributeThreads threads itself for large stores.
Frame compute_frame(const Facts& facts, Days d, const std::vector<std::string>& needed_names = {});

struct FramePlan;  // frame_internal.hpp: which columns, and where they are in the cursor's frame

// The attributes of every customer as of a day that moves forward, kept up to date
// incrementally: a simulation (or a run over a range of days) is one sweep over the facts in
// date order instead of a compute_frame per day.
//
// advance(d) with d after the current day recomputes only the rows with a fact dated in
// (current day, d] (a paid or other order, a subscription start or cancellation, a survey, a
// referral made, a stored tag's set_at) plus the rows in `overlay_rows`, each from its own
// facts with the same row functions compute_frame uses; then it updates the columns that move
// with the date alone for every row (days_since*, days_since_signup, age, days_until_birthday,
// subscription.months), which are cheap arithmetic on kept per-row state. Any other d (the
// first call, or a day not after the current one) computes the frame from scratch. Either way
// the frame equals compute_frame(facts, d, needed) with the tags of every overlay row replaced
// by its stored tags as of d followed by its overlay changes (tests/unit/test_attributes.cpp
// checks it day by day).
//
// The caller may modify the frame's columns during a day but must restore them before the next
// advance (the runner restores `tags` after applying a day's provisional tag changes).
//
// A computation from scratch refills the frame's existing columns (keeping their allocations),
// so restart() + advance() on facts whose contents changed (the embedding API's one-customer
// slice) costs the rows' attributes, not a new frame.
class FrameCursor {
 public:
  FrameCursor(const Facts& facts, std::vector<std::string> needed_names);
  ~FrameCursor();

  // Forgets the current day (the next advance computes from scratch) and every index of the
  // facts, whose contents may have changed since; keeps the frame's allocations.
  void restart();
  // Changes whenever the frame's set of columns changed (a column inserted or erased, so Column
  // addresses differ); the same value means every Column of the frame is the same object.
  uint64_t layout() const { return layout_; }

  // The frame as of `d`. `overlay` holds every tag change so far; `overlay_rows` the rows whose
  // overlay changed since the previous advance (any order, repeats allowed).
  Frame& advance(Days d, const TagOverlay& overlay, const std::vector<uint32_t>& overlay_rows);

  bool has_day() const { return has_day_; }
  Days day() const { return day_; }
  // Rows recomputed by the last advance (all rows after a full computation).
  size_t last_touched_rows() const { return last_touched_; }
  // Facts dated in the days the last advance moved over (orders of any status, subscription
  // starts and cancellations, surveys, referrals, tags, sign-ups); 0 after a full computation.
  size_t last_facts() const { return last_facts_; }
  // Whether the last advance was incremental.
  bool last_incremental() const { return last_incremental_; }

 private:
  void full(Days d, const TagOverlay& overlay);
  void step(Days d, const TagOverlay& overlay, const std::vector<uint32_t>& overlay_rows);
  // purchases_in / spent_in: the rows `rows` (touched by step) and those an order left the window of.
  void step_windows(Days d, const std::vector<std::pair<uint32_t, uint8_t>>& rows);
  Column* col(const char* name);
  // The days of subscription starts and cancellations, surveys, referrals, tags and sign-ups, by
  // customer row, sorted (orders come from orders_by_day); built at the first step.
  void index_side_facts();

  const Facts& f_;
  std::vector<std::string> needed_;
  Frame frame_;
  bool has_day_ = false;
  Days day_ = 0;
  size_t last_touched_ = 0;
  size_t last_facts_ = 0;
  bool last_incremental_ = false;
  // Per row: first and last paid purchase day (kNoDay: none), latest subscription (-1: none).
  std::vector<Days> first_purchase_, last_purchase_;
  std::vector<int64_t> subscription_;
  // Per row: the next birthday on or after the current day (kNoDay: no birthday); age changes
  // and days_until_birthday is recomputed only when the date reaches it.
  std::vector<Days> next_birthday_;
  std::vector<Ymd> sub_start_ymd_;  // per row: the latest subscription's start, as a civil date
  std::vector<uint8_t> sub_day_;    // ... its day of the month (0: none yet), scanned every day
  // Sets both from subscription_[r] (a row without a subscription keeps them: the months pass
  // skips it).
  void set_sub_start(size_t r);
  std::vector<uint32_t> purchase_rows_;  // the rows with a paid or refunded order in the last step
  // (day, row << 8 | what it changes), sorted; what: the kTouch* bits of frame_cursor.cpp.
  std::vector<std::pair<Days, uint64_t>> side_facts_;
  bool side_indexed_ = false;
  std::unique_ptr<FramePlan> plan_;
  uint64_t layout_ = 0;
};

// Replaces the lists of `rows` (sorted, distinct) of a list column by vals[off[i], off[i + 1]):
// in place when no length changes, else one pass copying the unchanged runs (no per-row lookup).
void replace_lists(Column& c, const std::vector<uint32_t>& rows, const std::vector<uint32_t>& off,
                   const std::vector<int64_t>& vals);

// Threads used by compute_frame on stores of at least kParallelRows customers.
constexpr unsigned kAttributeThreads = 2;
constexpr size_t kParallelRows = 50'000;

// Whole years from `birthday` to `d` (29 February birthdays have their birthday on 28 February
// in other years); negative when `d` is before the birthday.
int age_on(Days birthday, Days d);
// Days from `d` to the next birthday on or after `d`, 0..365.
int days_until_birthday(Days birthday, Days d);
// Whole calendar months from `start` to `end` (0 when end < start). A month is complete on the
// same day of the month, or on the last day of a shorter month (31 Jan -> 28 Feb is 1 month).
int whole_months(Days start, Days end);

}  // namespace crm::engine
