// Unit tests of crm deliver's parts (engine/deliver/): deliver.toml, URL redaction, the backoff
// and rate limit, the row JSON and consent at delivery, and the deliveries table. The HTTP side
// runs against a real receiver in tests/scripts/deliver_*.sh.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/deliver/backoff.hpp"
#include "engine/deliver/deliver_config.hpp"
#include "engine/deliver/delivery_json.hpp"
#include "engine/deliver/delivery_state.hpp"
#include "engine/deliver/http_post.hpp"
#include "engine/store/sqlite_store.hpp"

using namespace crm::deliver;

namespace {

std::optional<Config> config_from(const std::string& text, std::string& error) {
  std::string path = "/tmp/crm_deliver_test_" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << text;
  auto c = load_config(path, error);
  std::filesystem::remove(path);
  return c;
}

}  // namespace

TEST_CASE("deliver: deliver.toml gives routes per channel, a catch-all and the limits") {
  std::string error;
  auto c = config_from(R"(
batch = 50
timeout = 2.5
max_attempts = 3
token_env = "CRM_WEBHOOK_TOKEN"
customer_fields = ["name", "email", "phone"]

[webhook]
url = "https://hooks.example.com/crm"
rate = 100

[channels.email]
url = "https://mail.example.com/in"
rate = 20
token_env = "MAIL_TOKEN"

[channels.dm]
rate = 1
)", error);
  REQUIRE_MESSAGE(c, error);
  CHECK(c->batch == 50);
  CHECK(c->timeout == 2.5);
  CHECK(c->max_attempts == 3);
  CHECK(c->customer_fields == std::vector<std::string>{"name", "email", "phone"});
  auto email = c->route_for("email");
  REQUIRE(email);
  CHECK(email->url == "https://mail.example.com/in");
  CHECK(*email->rate == 20);
  CHECK(*email->token_env == "MAIL_TOKEN");
  auto dm = c->route_for("dm");  // its own rate, the catch-all's url and token
  REQUIRE(dm);
  CHECK(dm->url == "https://hooks.example.com/crm");
  CHECK(*dm->rate == 1);
  CHECK(*dm->token_env == "CRM_WEBHOOK_TOKEN");
  auto none = c->route_for("");  // coupons, points, tags: the catch-all
  REQUIRE(none);
  CHECK(*none->rate == 100);
  CHECK(c->route_for("line")->url == "https://hooks.example.com/crm");
}

TEST_CASE("deliver: deliver.toml errors name the line and the key") {
  std::string error;
  CHECK_FALSE(config_from("[webhook]\nurl = \"ftp://x\"\n", error));
  CHECK(error.find(":2:") != std::string::npos);
  CHECK(error.find("http:// or https://") != std::string::npos);
  CHECK_FALSE(config_from("[webhook]\nurl = \"http://x\"\n[channels.fax]\nurl = \"http://y\"\n", error));
  CHECK(error.find("unknown channel 'fax'") != std::string::npos);
  CHECK_FALSE(config_from("batchsize = 3\n[webhook]\nurl = \"http://x\"\n", error));
  CHECK(error.find("unknown key 'batchsize'") != std::string::npos);
  CHECK_FALSE(config_from("batch = 0\n[webhook]\nurl = \"http://x\"\n", error));
  CHECK(error.find("'batch' must be between 1 and") != std::string::npos);
  CHECK_FALSE(config_from("token_env = \"Bearer abc.def\"\n[webhook]\nurl = \"http://x\"\n", error));
  CHECK(error.find("environment variable") != std::string::npos);
  CHECK_FALSE(config_from("[channels.email]\nrate = 3\n", error));
  CHECK(error.find("no url") != std::string::npos);
  CHECK_FALSE(config_from("[webhook\n", error));
  CHECK(error.find(":1:") != std::string::npos);
}

TEST_CASE("deliver: URLs are printed without user:password and query string") {
  CHECK(redact_url("https://hooks.example.com/crm") == "https://hooks.example.com/crm");
  CHECK(redact_url("https://user:pw@hooks.example.com/crm") == "https://***@hooks.example.com/crm");
  CHECK(redact_url("http://h:8080/x?token=abc&b=1") == "http://h:8080/x?***");
  CHECK(redact_url("http://u:p@h/x?k=1") == "http://***@h/x?***");
  CHECK(redact_url("http://h/a@b") == "http://h/a@b");  // an @ in the path is no user
  CHECK(check_url("http://127.0.0.1:8080/x").empty());
  CHECK_FALSE(check_url("127.0.0.1:8080").empty());
  CHECK_FALSE(check_url("http:///x").empty());
}

TEST_CASE("deliver: the backoff doubles from the base, jittered into [step/2, step], capped") {
  Backoff b(0.5, 10, 42);
  for (int n = 1; n <= 8; ++n) {
    double step = std::min(10.0, 0.5 * (1 << (n - 1)));
    for (int k = 0; k < 50; ++k) {
      double d = b.delay(n);
      CHECK(d >= step / 2);
      CHECK(d <= step);
    }
  }
  CHECK(b.wait(1, 7.0) == 7.0);   // a longer Retry-After wins
  CHECK(b.wait(1, 0.01) <= 0.5);  // a shorter one does not shorten the backoff
}

TEST_CASE("deliver: the rate limit books rows / rate seconds per post") {
  using namespace std::chrono;
  RateLimit r(10.0);  // 10 rows/s
  auto t0 = RateLimit::Clock::now();
  r.book(5, t0);  // 0.5 s
  CHECK(duration<double>(r.ready_at() - t0).count() == doctest::Approx(0.5));
  r.book(10, t0);  // queued after the first: 1.5 s from t0
  CHECK(duration<double>(r.ready_at() - t0).count() == doctest::Approx(1.5));
  RateLimit unlimited;
  unlimited.book(1000, t0);
  CHECK(unlimited.ready_at() <= t0);
}

TEST_CASE("deliver: HTTP answers are delivered, retried or failed") {
  HttpResult r;
  for (long s : {200L, 201L, 204L}) { r.status = s; CHECK(r.outcome() == Outcome::Delivered); }
  for (long s : {500L, 502L, 503L, 408L, 429L, 0L}) { r.status = s; CHECK(r.outcome() == Outcome::Retry); }
  for (long s : {400L, 401L, 404L, 422L, 301L}) { r.status = s; CHECK(r.outcome() == Outcome::Failed); }
  r.status = 401;
  r.body = "bad token tok123\n";
  CHECK(r.describe("http://h/x", "tok123") == "HTTP 401 from http://h/x: bad token ***");
}

TEST_CASE("deliver: consent at delivery: marketing sends need the opt-in, transactional ones and other actions do not") {
  OutboxItem send;
  send.action = "send";
  send.channel = "email";
  send.payload = R"({"dedupe":"once","subject":"Hi"})";
  send.customer_found = true;
  send.opt_in = true;
  CHECK(consent_allows(send));
  send.opt_in = false;
  CHECK_FALSE(consent_allows(send));
  send.opt_in = std::nullopt;  // null: no consent
  CHECK_FALSE(consent_allows(send));
  send.payload = R"({"dedupe":"once","transactional":true})";
  CHECK(is_transactional(send));
  CHECK(consent_allows(send));
  OutboxItem coupon;
  coupon.action = "coupon";
  CHECK(consent_allows(coupon));
}

TEST_CASE("deliver: a row's JSON has the action keys, idem_key, payload and recipient") {
  OutboxItem r;
  r.id = 17;
  r.run_date = "2026-11-24";
  r.customer_id = 42;
  r.rule = "check_in";
  r.action = "send";
  r.target = "any_concerns";
  r.channel = "line";
  r.payload = R"({"dedupe":"once"})";
  r.idem_key = "check_in|42|once|0";
  r.recipient = {{"id", 42}, {"name", "佐藤 花子"}};
  CHECK(row_json(r) ==
        R"({"date":"2026-11-24","customer":42,"rule":"check_in","action":"send","target":"any_concerns","channel":"line",)"
        R"("status":"sent","outbox_id":17,"idem_key":"check_in|42|once|0","payload":{"dedupe":"once"},)"
        R"("recipient":{"id":42,"name":"佐藤 花子"}})");
  r.channel.reset();
  r.payload = "not json";
  std::string j = row_json(r);
  CHECK(j.find(R"("channel":null)") != std::string::npos);
  CHECK(j.find(R"("payload":"not json")") != std::string::npos);
  CHECK(batch_json({&r, &r}).front() == '[');
}

TEST_CASE("deliver: the deliveries table: due rows, status changes, counts and requeue") {
  auto store = crm::engine::SqliteStore::open(":memory:", true);
  auto& db = store.sql();
  db.exec(R"(
    INSERT INTO customers (id, name, email, email_opt_in, line_opt_in) VALUES (1, 'A', 'a@x', 1, 'no'), (2, 'B', 'b@x', 0, 1);
    INSERT INTO outbox (id, run_date, customer_id, rule, action, target, channel, payload, idem_key) VALUES
      (1, '2026-11-24', 1, 'r', 'send', 'm', 'email', '{}', 'r|1|once|0'),
      (2, '2026-11-24', 2, 'r', 'send', 'm', 'email', '{}', 'r|2|once|0'),
      (3, '2026-11-24', 1, 'q', 'send', 't', 'line', '{}', 'q|1|once|0'),
      (4, '2026-11-24', 9, 'c', 'coupon', 'c10', NULL, '{}', 'c|9|once|0');
  )");
  DeliveryState s(db, false, {"name", "email"});
  CHECK(s.pending_channels() == std::vector<std::string>{"", "email", "line"});
  auto email = s.fetch_due("email", 0, 10, utc_iso_now());
  REQUIRE(email.size() == 2);
  CHECK(email[0].opt_in == true);
  CHECK(email[1].opt_in == false);
  CHECK(email[0].recipient.dump() == R"({"id":1,"name":"A","email":"a@x"})");
  auto line = s.fetch_due("line", 0, 10, utc_iso_now());
  REQUIRE(line.size() == 1);
  CHECK(line[0].opt_in == false);  // 'no'
  auto none = s.fetch_due("", 0, 10, utc_iso_now());
  REQUIRE(none.size() == 1);
  CHECK_FALSE(none[0].customer_found);
  CHECK(none[0].recipient.dump() == R"({"id":9,"name":null,"email":null})");

  s.mark_delivered({&email[0]}, 1, "http://h/x", utc_iso_now());
  s.mark_blocked_consent({&email[1]}, "no opt-in");
  s.mark_retry({&line[0]}, 2, "HTTP 503", utc_iso_now(3600), "http://h/x");
  s.mark_failed({&none[0]}, 5, "HTTP 400", "http://h/x");
  CHECK(s.fetch_due("email", 0, 10, utc_iso_now()).empty());
  CHECK(s.fetch_due("line", 0, 10, utc_iso_now()).empty());             // not due for an hour
  CHECK(s.fetch_due("line", 0, 10, utc_iso_now(7200)).size() == 1);      // due later, attempts kept
  CHECK(s.fetch_due("line", 0, 10, utc_iso_now(7200))[0].attempts == 2);
  auto counts = s.counts();
  CHECK(counts[0].rows == 1);  // pending
  CHECK(counts[1].rows == 1);  // delivered
  CHECK(counts[2].rows == 1);  // failed
  CHECK(counts[3].rows == 1);  // blocked_consent
  auto failed = s.failed_rows(10);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].last_error == "HTTP 400");
  CHECK(failed[0].attempts == 5);
  CHECK(s.requeue_failed() == 1);
  CHECK(s.fetch_due("", 0, 10, utc_iso_now()).size() == 1);
  CHECK_THROWS_WITH_AS(DeliveryState(db, false, {"phone"}), doctest::Contains("phone"), std::runtime_error);
}
