// Attributes as of a date: fills a Frame (one column per builtin customer attribute of
// stdlib/builtins.def, plus the store's extra customer columns) from the in-memory Facts.
#pragma once
#include <string>
#include <vector>

#include "engine/facts.hpp"
#include "engine/frame.hpp"

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
