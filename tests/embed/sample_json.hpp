// Synthetic customers as the embedding API's JSON (crm::Store::from_json), shared by the API
// tests and the embedding benchmark: a deterministic mix of new, repeat, VIP, dormant and
// subscribed customers with orders, subscriptions, surveys, referrals and tags, in Asia/Tokyo.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace crm::testing {

inline std::string sample_customers_json(int customers, uint64_t seed = 1) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  auto next = [&](uint64_t n) {  // xorshift, uniform enough in [0, n)
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s % n;
  };
  auto day = [](int offset) {  // 2026-11-24 minus offset days, as YYYY-MM-DD
    int64_t z = 20781 - offset + 719468;  // 20781 = 2026-11-24 in days since 1970-01-01
    int64_t era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
    return std::string(buf);
  };
  const char* bools[] = {"true", "false", "null"};
  const char* skus[] = {"TRIAL-MOIST", "SERUM-30", "CREAM-50", "SOAP-3", "MASK-10"};
  std::string c = "{\"timezone\":\"Asia/Tokyo\",\"customers\":[", o = "\"orders\":[", it = "\"order_items\":[";
  std::string sub = "\"subscriptions\":[", sv = "\"surveys\":[", rf = "\"referrals\":[", tg = "\"tags\":[";
  std::string products = "\"products\":[";
  for (int k = 0; k < 5; ++k)
    products += std::string(k ? "," : "") + "{\"id\":" + std::to_string(k + 1) + ",\"sku\":\"" + skus[k] + "\",\"price\":" +
                std::to_string(1000 + 1000 * k) + "}";
  int64_t order_id = 1, sub_id = 1;
  auto sep = [](std::string& a) { if (a.back() != '[') a += ','; };
  for (int i = 1; i <= customers; ++i) {
    int age_days = static_cast<int>(30 + next(900));
    sep(c);
    c += "{\"id\":" + std::to_string(i) + ",\"name\":\"Customer " + std::to_string(i) + "\",\"email\":\"c" +
         std::to_string(i) + "@example.com\",\"birthday\":\"" + day(static_cast<int>(7000 + next(15000))) +
         "\",\"created_at\":\"" + day(age_days) + "\"";
    const char* optins[] = {"email_opt_in", "line_opt_in", "sms_opt_in", "push_opt_in", "dm_opt_in"};
    for (const char* opt : optins) c += std::string(",\"") + opt + "\":" + bools[next(4) == 0 ? 1 + next(2) : 0];
    c += "}";
    int orders = static_cast<int>(next(4) == 0 ? 0 : 1 + next(next(5) == 0 ? 14 : 4));
    for (int k = 0; k < orders; ++k) {
      int at = static_cast<int>(next(static_cast<uint64_t>(age_days)));
      const char* status = next(12) == 0 ? "cancelled" : "paid";
      sep(o);
      o += "{\"id\":" + std::to_string(order_id) + ",\"customer_id\":" + std::to_string(i) + ",\"ordered_at\":\"" +
           day(at) + "T1" + std::to_string(next(10)) + ":00:00\",\"total\":" + std::to_string(1500 + next(30000)) +
           ",\"status\":\"" + status + "\"}";
      int items = static_cast<int>(1 + next(2));
      for (int m = 0; m < items; ++m) {
        sep(it);
        it += "{\"order_id\":" + std::to_string(order_id) + ",\"product_id\":" + std::to_string(1 + (m + next(5)) % 5) +
              ",\"quantity\":1,\"price\":2000}";
      }
      ++order_id;
    }
    if (orders > 0 && next(3) == 0) {
      bool cancelled = next(4) == 0;
      sep(sub);
      sub += "{\"id\":" + std::to_string(sub_id++) + ",\"customer_id\":" + std::to_string(i) +
             ",\"product_id\":2,\"started_at\":\"" + day(static_cast<int>(next(static_cast<uint64_t>(age_days)))) +
             "\",\"status\":\"" + (cancelled ? "cancelled" : "active") + "\",\"cycles\":" + std::to_string(next(15)) +
             (cancelled ? ",\"cancelled_at\":\"" + day(static_cast<int>(next(20))) + "\",\"cancel_reason\":\"too_expensive\"" : "") +
             "}";
    }
    if (next(3) == 0) {
      sep(sv);
      sv += "{\"customer_id\":" + std::to_string(i) + ",\"answered_at\":\"" + day(static_cast<int>(next(100))) +
            "\",\"satisfaction\":" + std::to_string(1 + next(5)) + "}";
    }
    if (i > 1 && next(6) == 0) {
      sep(rf);
      rf += "{\"referrer_id\":" + std::to_string(i) + ",\"referee_id\":" + std::to_string(next(static_cast<uint64_t>(i - 1)) + 1) +
            ",\"created_at\":\"" + day(static_cast<int>(next(60))) + "\"}";
    }
    if (next(8) == 0) {
      sep(tg);
      tg += "{\"customer_id\":" + std::to_string(i) + ",\"tag\":\"vip\",\"set_at\":\"" + day(static_cast<int>(10 + next(100))) + "\"}";
    }
  }
  return c + "]," + products + "]," + o + "]," + it + "]," + sub + "]," + sv + "]," + rf + "]," + tg + "]}";
}

}  // namespace crm::testing
