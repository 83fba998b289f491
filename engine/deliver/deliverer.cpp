// The delivery loop (deliverer.hpp). Lanes are the channels of the pending rows; the lane whose
// rate limit frees first goes next. A batch is fetched right before its POST, so the consent
// read with it is current; its outcome is committed before the next batch.
#include "engine/deliver/deliverer.hpp"

#include "engine/store/sql_session.hpp"
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "engine/deliver/backoff.hpp"
#include "engine/deliver/delivery_json.hpp"
#include "engine/deliver/delivery_state.hpp"
#include "engine/deliver/http_post.hpp"

namespace crm::deliver {

namespace {

using Clock = std::chrono::steady_clock;
using Rows = std::vector<const OutboxItem*>;

struct Lane {
  std::string channel;  // "" = actions without a channel
  Route route;
  std::string redacted;  // the route's URL as printed and stored
  std::string token;     // from route.token_env
  RateLimit rate;
  int64_t after_id = 0;
  bool done = false;
};

void sleep_seconds(double s) {
  if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

}  // namespace

struct Deliverer::Impl {
  engine::SqlSession& db;
  Config config;
  DeliverOptions options;
  DeliveryState state;
  HttpClient http;
  Backoff backoff;
  DeliverReport report;
  std::vector<Lane> lanes;
  std::set<std::string> dead_urls;  // webhooks given up on in this run

  Impl(engine::SqlSession& d, Config c, DeliverOptions o)
      : db(d),
        config(std::move(c)),
        options(std::move(o)),
        state(db, options.dry_run, config.customer_fields),
        http(config.timeout),
        backoff(config.backoff_base, config.backoff_max, options.seed.value_or(std::random_device{}())) {}

  // The token in environment variable `name`; throws when it is unset or empty.
  static std::string token(const std::string& name, const std::string& channel) {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v)
      throw std::runtime_error(fmt::format("the environment variable {} (token_env of the webhook for {}) is not set",
                                           name, channel.empty() ? "every channel" : channel));
    return v;
  }

  // Every route's token is checked before anything is posted, even when nothing is pending, so
  // a broken set-up shows on the first run.
  void check_tokens() const {
    if (options.dry_run) return;
    if (config.catch_all && config.catch_all->token_env) token(*config.catch_all->token_env, "");
    for (const auto& [ch, r] : config.channels)
      if (auto route = config.route_for(ch); route && route->token_env) token(*route->token_env, ch);
  }

  void make_lanes() {
    check_tokens();
    for (const std::string& ch : state.pending_channels()) {
      auto route = config.route_for(ch);
      if (!route) {
        report.unrouted += state.count_pending(ch);
        report.unrouted_channels.push_back(ch.empty() ? "(no channel)" : ch);
        continue;
      }
      Lane lane{ch, *route, redact_url(route->url), "", RateLimit(route->rate)};
      if (route->token_env && !options.dry_run) lane.token = token(*route->token_env, ch);
      lanes.push_back(std::move(lane));
    }
  }

  Lane* next_lane() {
    Lane* best = nullptr;
    for (Lane& l : lanes) {
      if (l.done) continue;
      if (dead_urls.count(l.route.url)) {
        l.done = true;
        continue;
      }
      if (!best || l.rate.ready_at() < best->rate.ready_at()) best = &l;
    }
    return best;
  }

  // Posts `rows` until a 2xx, a permanent failure, or the attempts run out. Returns false when
  // the lane's webhook is given up on for this run.
  bool post(Lane& lane, const Rows& rows) {
    std::string body = batch_json(rows);
    std::string idem = rows.size() == 1 ? rows[0]->idem_key : "";
    int attempts = 0;
    for (const OutboxItem* r : rows) attempts = std::max(attempts, r->attempts);
    for (bool first = true;; first = false) {
      std::this_thread::sleep_until(lane.rate.ready_at());
      lane.rate.book(rows.size());
      HttpResult res = http.post(lane.route.url, body, lane.token, idem);
      ++attempts;
      ++report.posts;
      if (!first) ++report.retries;
      switch (res.outcome()) {
        case Outcome::Delivered:
          state.mark_delivered(rows, attempts, lane.redacted, utc_iso_now());
          report.delivered += static_cast<int64_t>(rows.size());
          return true;
        case Outcome::Failed:
          if (rows.size() > 1) {  // one bad row must not fail its batch: post each alone
            for (const OutboxItem* r : rows)
              if (!post(lane, Rows{r})) return false;
            return true;
          }
          state.mark_failed(rows, attempts, res.describe(lane.redacted, lane.token), lane.redacted);
          report.failed += static_cast<int64_t>(rows.size());
          return true;
        case Outcome::Retry: break;
      }
      std::string error = res.describe(lane.redacted, lane.token);
      if (attempts >= config.max_attempts) {
        std::string why = fmt::format("{} (attempt {} of {})", error, attempts, config.max_attempts);
        state.mark_failed(rows, attempts, why, lane.redacted);
        report.failed += static_cast<int64_t>(rows.size());
        report.errors.push_back(fmt::format("gave up on {} for this run: {}", lane.redacted, why));
        dead_urls.insert(lane.route.url);
        return false;
      }
      double wait = backoff.wait(attempts, res.retry_after);
      if (wait > config.backoff_max) {  // only a Retry-After can ask for that: leave it to a later run
        state.mark_retry(rows, attempts, error, utc_iso_now(wait), lane.redacted);
        report.deferred += static_cast<int64_t>(rows.size());
        report.errors.push_back(
            fmt::format("{} asked to retry after {:.0f} s (more than backoff_max {:.3g} s): its rows wait for a later crm deliver",
                        lane.redacted, wait, config.backoff_max));
        dead_urls.insert(lane.route.url);
        return false;
      }
      state.mark_retry(rows, attempts, error, utc_iso_now(wait), lane.redacted);
      sleep_seconds(wait);
    }
  }

  void run() {
    auto t0 = Clock::now();
    make_lanes();
    while (Lane* lane = next_lane()) {
      if (!options.dry_run) std::this_thread::sleep_until(lane->rate.ready_at());
      std::vector<OutboxItem> items = state.fetch_due(lane->channel, lane->after_id, static_cast<size_t>(config.batch), utc_iso_now());
      if (items.empty()) {
        lane->done = true;
        continue;
      }
      lane->after_id = items.back().id;
      Rows send, blocked;
      for (const OutboxItem& it : items) (consent_allows(it) ? send : blocked).push_back(&it);
      report.blocked += static_cast<int64_t>(blocked.size());
      if (options.dry_run) {
        report.would_post += static_cast<int64_t>(send.size());
        if (options.on_dry_row)
          for (const OutboxItem* r : send) options.on_dry_row(row_json(*r));
        continue;
      }
      state.mark_blocked_consent(blocked, "no opt-in for the channel at delivery time");
      if (!send.empty()) post(*lane, send);
      if (options.on_progress) options.on_progress(report);
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
};

Deliverer::Deliverer(engine::SqlSession& db, Config config, DeliverOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(config), std::move(options))) {}

Deliverer::~Deliverer() = default;

DeliverReport Deliverer::run() {
  impl_->run();
  return impl_->report;
}

}  // namespace crm::deliver
