// crm deliver --db STORE (--webhook URL | --config FILE) [--dry-run] [--status] [--retry-failed]:
// hands the outbox's undelivered rows to webhooks as JSON batches (engine/deliver/, docs/deliver.md).
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/core.h>

#include <charconv>
#include <chrono>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/deliver/deliver_config.hpp"
#include "engine/deliver/deliver_lock.hpp"
#include "engine/deliver/deliverer.hpp"
#include "engine/deliver/delivery_state.hpp"
#include "engine/store/sqlite_store.hpp"
#include "lang/terminal_safe.hpp"

namespace crm::cli {

namespace {

// How long a second crm deliver waits for the first before giving up.
constexpr std::chrono::seconds kDeliverLockWait{2};
// Failed rows listed by --status (the rest are counted).
constexpr size_t kStatusFailedRows = 20;

const char* kHelp =
    "Usage: crm deliver --db STORE (--webhook URL | --config FILE) [options]\n"
    "       crm deliver --db STORE --status\n"
    "       crm deliver --db STORE --retry-failed [--webhook URL | --config FILE]\n\n"
    "Posts the outbox rows not yet delivered to a webhook as JSON arrays (one object per row with\n"
    "date, customer, rule, action, target, channel, status, outbox_id, idem_key, payload and\n"
    "recipient), retrying 5xx, 408, 429, timeouts and connection errors with exponential backoff;\n"
    "other 4xx answers fail the row. A row is marked delivered only after a 2xx, so a crash\n"
    "loses nothing and a repeat carries the same idem_key. Non-transactional sends whose customer\n"
    "no longer has the channel's opt-in are not posted (blocked_consent).\n\n"
    "Options:\n"
    "  --db STORE          the crm store whose outbox is delivered\n"
    "  --webhook URL       one webhook for every row\n"
    "  --config FILE       deliver.toml: a webhook per channel, a catch-all, rate limits, token_env\n"
    "  --token-env NAME    with --webhook: send the token in $NAME as 'Authorization: Bearer'\n"
    "  --dry-run           print the rows that would be posted (JSON lines); post and write nothing\n"
    "  --status            count rows per delivery status and list the failed ones with their error\n"
    "  --retry-failed      requeue the failed rows (then deliver them, given a webhook or config)\n"
    "  --batch N           rows per POST (default 100; 1 also sends an Idempotency-Key header)\n"
    "  --timeout S         seconds per POST (default 10)\n"
    "  --max-attempts N    attempts per row before it is failed (default 5)\n"
    "  --backoff-base S    first retry wait in seconds, doubled each time (default 1)\n"
    "  --backoff-max S     longest wait in seconds (default 60)\n"
    "  --help              show this help\n\n"
    "Example:\n  crm deliver --db shop.db --webhook http://127.0.0.1:8080/crm\n\n"
    "Exit codes: 0 ok, 1 rows failed or left pending by errors (see --status), or a data error,\n"
    "2 usage error.\n";

bool number_option(const Args& args, const std::string& name, double lo, double hi, std::optional<double>& out,
                   std::string& error) {
  auto v = args.option(name);
  if (!v) return true;
  double d = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), d);
  if (ec != std::errc() || p != v->data() + v->size() || !(d >= lo && d <= hi)) {
    error = fmt::format("{} must be a number from {} to {}, not '{}'", name, lo, hi, *v);
    return false;
  }
  out = d;
  return true;
}

bool int_option(const Args& args, const std::string& name, int lo, int hi, std::optional<int>& out, std::string& error) {
  auto v = args.option(name);
  if (!v) return true;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
    error = fmt::format("{} must be a whole number from {} to {}, not '{}'", name, lo, hi, *v);
    return false;
  }
  out = n;
  return true;
}

int print_status(deliver::DeliveryState& state, const std::string& db) {
  fmt::print("deliveries of {}:\n", db);
  for (const auto& c : state.counts()) fmt::print("  {:<16} {:>9}\n", c.status, c.rows);
  auto failed = state.failed_rows(kStatusFailedRows + 1);
  if (!failed.empty()) {
    fmt::print("\nfailed rows (outbox id, channel, attempts, idem_key, last error):\n");
    for (size_t i = 0; i < failed.size() && i < kStatusFailedRows; ++i) {
      const auto& f = failed[i];
      // The error may quote the webhook's response body: another system's text (issue 12.7).
      fmt::print("  {:>8}  {:<5}  {:>2}  {}  {}\n", f.outbox_id, lang::terminal_safe(f.channel), f.attempts,
                 lang::terminal_safe(f.idem_key), lang::terminal_safe(f.last_error));
    }
    if (failed.size() > kStatusFailedRows) fmt::print("  ... and more (see the deliveries table)\n");
    fmt::print("\nrequeue them with: crm deliver --db {} --retry-failed\n", db);
  }
  return kExitOk;
}

}  // namespace

int cmd_deliver(const std::vector<std::string>& argv) {
  std::string error;
  auto args = parse_args(argv,
                         {{"--dry-run", "--status", "--retry-failed"},
                          {"--db", "--webhook", "--config", "--token-env", "--batch", "--timeout", "--max-attempts",
                           "--backoff-base", "--backoff-max"}},
                         error);
  if (!args) return usage_error("deliver", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (!args->positional.empty()) return usage_error("deliver", "unexpected argument '" + args->positional[0] + "'");
  auto db = args->option("--db");
  if (!db) return usage_error("deliver", "missing --db STORE");
  auto webhook = args->option("--webhook");
  auto config_path = args->option("--config");
  bool status = args->flag("--status"), dry = args->flag("--dry-run"), retry = args->flag("--retry-failed");
  if (webhook && config_path) return usage_error("deliver", "use either --webhook URL or --config FILE");
  if (status && (dry || retry || webhook || config_path))
    return usage_error("deliver", "--status only reads the store: give it --db alone");
  if (dry && retry) return usage_error("deliver", "--dry-run writes nothing, so it cannot --retry-failed");
  bool deliver = webhook || config_path;
  if (!status && !deliver && !retry) return usage_error("deliver", "missing --webhook URL or --config FILE");
  if (args->option("--token-env") && !webhook) return usage_error("deliver", "--token-env goes with --webhook (in a config it is token_env)");

  std::optional<int> batch, max_attempts;
  std::optional<double> timeout, backoff_base, backoff_max;
  if (!int_option(*args, "--batch", 1, deliver::kMaxBatch, batch, error) ||
      !int_option(*args, "--max-attempts", 1, deliver::kMaxAttemptsLimit, max_attempts, error) ||
      !number_option(*args, "--timeout", 0.01, deliver::kMaxTimeoutSeconds, timeout, error) ||
      !number_option(*args, "--backoff-base", 0, 3600, backoff_base, error) ||
      !number_option(*args, "--backoff-max", 0, 86400, backoff_max, error))
    return usage_error("deliver", error);

  std::optional<deliver::Config> config;
  if (webhook) {
    config = deliver::webhook_config(*webhook, error);
    if (!config) return usage_error("deliver", error);
    if (auto t = args->option("--token-env")) config->catch_all->token_env = *t;
  } else if (config_path) {
    config = deliver::load_config(*config_path, error);
    if (!config) {
      fmt::print(stderr, "crm deliver: error: {}\n", error);
      return kExitError;
    }
  }
  if (config) {
    if (batch) config->batch = *batch;
    if (max_attempts) config->max_attempts = *max_attempts;
    if (timeout) config->timeout = *timeout;
    if (backoff_base) config->backoff_base = *backoff_base;
    if (backoff_max) config->backoff_max = *backoff_max;
  }

  auto store = engine::open_store(*db);
  if (status) {
    deliver::DeliveryState state(store->sql(), /*read_only=*/true, {});
    return print_status(state, shown_location(*db));
  }
  deliver::DeliverLock lock;
  if (!dry) lock = deliver::DeliverLock::acquire(*store, kDeliverLockWait);
  if (retry) {
    deliver::DeliveryState state(store->sql(), false, {});
    int64_t n = state.requeue_failed();
    fmt::print(stderr, "crm deliver: requeued {} failed row(s)\n", n);
    if (!deliver) return kExitOk;
  }

  bool progress = stderr_is_tty() && stdout_is_tty();  // never when output is piped (SPEC §7)
  deliver::DeliverOptions options;
  options.dry_run = dry;
  options.on_dry_row = [](const std::string& line) { fmt::print("{}\n", line); };
  auto last_progress = std::chrono::steady_clock::time_point{};
  if (progress)
    options.on_progress = [&last_progress](const deliver::DeliverReport& r) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_progress < std::chrono::milliseconds(200)) return;  // a few updates a second
      last_progress = now;
      fmt::print(stderr, "\r  delivered {} row(s), {} failed, {} blocked by consent", r.delivered, r.failed, r.blocked);
    };
  deliver::Deliverer deliverer(store->sql(), *config, options);
  deliver::DeliverReport r = deliverer.run();
  if (progress) fmt::print(stderr, "\r  delivered {} row(s), {} failed, {} blocked by consent\n", r.delivered, r.failed, r.blocked);
  for (const auto& ch : r.unrouted_channels)
    fmt::print(stderr, "crm deliver: warning: rows of channel {} have no webhook and stay pending (add [channels.{}] or "
                       "a [webhook] catch-all to the config)\n", ch, ch == "(no channel)" ? "NAME" : ch);
  if (dry) {
    fmt::print(stderr, "crm deliver: dry run: {} row(s) would be posted, {} blocked by consent, {} without a webhook; "
                       "nothing was posted or written\n", r.would_post, r.blocked, r.unrouted);
    return kExitOk;
  }
  int64_t pending = 0;
  {
    deliver::DeliveryState state(store->sql(), false, {});
    for (const auto& c : state.counts())
      if (c.status == "pending") pending = c.rows;
  }
  fmt::print("delivered {} row(s) in {} post(s) ({} retries) in {:.1f} s; {} blocked by consent; {} failed; {} pending\n",
             r.delivered, r.posts, r.retries, r.seconds, r.blocked, r.failed, pending);
  if (r.ok()) return kExitOk;
  for (const auto& e : r.errors) fmt::print(stderr, "crm deliver: error: {}\n", lang::terminal_safe(e));
  if (r.errors.empty()) fmt::print(stderr, "crm deliver: error: {} row(s) failed (the webhook refused them)\n", r.failed);
  fmt::print(stderr, "help: 'crm deliver --db {} --status' lists failed rows with their error; --retry-failed requeues them\n",
             shown_location(*db));
  return kExitError;
}

}  // namespace crm::cli
