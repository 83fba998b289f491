// Date arithmetic of the attributes (age, days until a birthday, whole months). The frame
// itself: frame_builder.cpp (from scratch) and frame_cursor.cpp (incremental).
#include "engine/frame/attributes.hpp"

#include <algorithm>

namespace crm::engine {

int age_on(Days birthday, Days d) {
  Ymd b = civil_from_days(birthday), t = civil_from_days(d);
  unsigned bm = b.m, bd = b.d;
  if (bm == 2 && bd == 29 && !is_leap(t.y)) bd = 28;
  int age = t.y - b.y;
  if (t.m < bm || (t.m == bm && t.d < bd)) --age;
  return age;
}

namespace {

Days birthday_in_year(Ymd b, int y) {
  unsigned d = b.d;
  if (b.m == 2 && d == 29 && !is_leap(y)) d = 28;
  return days_from_civil(y, b.m, d);
}

}  // namespace

int days_until_birthday(Days birthday, Days d) {
  Ymd b = civil_from_days(birthday);
  int y = civil_from_days(d).y;
  Days next = birthday_in_year(b, y);
  if (next < d) next = birthday_in_year(b, y + 1);
  return next - d;
}

int whole_months(Days start, Days end) {
  if (end < start) return 0;
  Ymd s = civil_from_days(start), e = civil_from_days(end);
  int months = (e.y - s.y) * 12 + static_cast<int>(e.m) - static_cast<int>(s.m);
  if (e.d < s.d && e.d != days_in_month(e.y, e.m)) --months;
  return std::max(months, 0);
}

}  // namespace crm::engine
