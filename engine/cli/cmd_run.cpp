// crm run FILE --db STORE [--date D | --from D --to D] [--dry-run] [--format text|jsonl]:
// evaluates the script for every customer and writes the outbox (or, dry, only reports).
#include <fmt/core.h>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "engine/run/run.hpp"
#include "lang/terminal_safe.hpp"
#include "engine/report/summary.hpp"

namespace crm::cli {

// Catch-up refuses gaps longer than this: a forgotten store should not silently send a year
// of step mails; the user picks the range with --from.
constexpr int kMaxCatchUpDays = 366;

namespace {

// "process 123 on host h, started T, is gone" for a 'running' row found while holding the lock.
std::string describe_unfinished(const engine::Store::UnfinishedRun& u, bool dry) {
  std::string out = "interrupted";
  auto at = u.process.find('@');
  if (at != std::string::npos) {
    std::string pid = u.process.substr(0, at), host = u.process.substr(at + 1);
    char me[256] = {};
    ::gethostname(me, sizeof me - 1);
    out += ": process " + pid + " on " + host;
    if (!u.started_at.empty()) out += ", started " + u.started_at;
    bool alive = host == me && ::kill(static_cast<pid_t>(std::atoll(pid.c_str())), 0) == 0;
    out += alive && dry ? ", may still be running" : ", is gone";
  } else if (!u.started_at.empty()) {
    out += ", started " + u.started_at;
  }
  return out;
}

}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm run FILE --db STORE [--date D | --from D --to D] [--shard K/N] [--dry-run] [--format text|jsonl]\n\n"
      "Evaluates every rule of FILE for every customer of STORE as of each day, and writes the\n"
      "actions that pass (consent, caps, holdout, once/every) to the store's outbox with an\n"
      "idempotency key: running a day twice writes nothing new.\n\n"
      "Without a date it catches up: every day after the last completed run up to today (in the\n"
      "script's or store's time zone), so a missed day never skips a step. A run that was killed\n"
      "before its day completed is resumed from that day (it says so on stderr).\n\n"
      "Options:\n"
      "  --db STORE        the store: a SQLite file, or postgresql://user@host:port/db (create one with\n"
      "                    'crm init' or 'crm sample'; see docs/store.md)\n"
      "  --date D          run one day (YYYY-MM-DD)\n"
      "  --from D --to D   run every day of a range, in order\n"
      "  --shard K/N       evaluate only the customers of shard K of N (a stable hash of the id); the day\n"
      "                    is complete when all N shards are (docs/scale-out.md). Without --shard, a day\n"
      "                    with missing shards is evaluated whole and completed\n"
      "  --dry-run         write nothing: history and tags are kept in memory across the days\n"
      "  --format F        text (a summary per rule and channel, default) or jsonl (one action per line)\n"
      "  --stats           print timings, evaluations per second and peak memory to stderr\n"
      "  --help            show this help\n\n"
      "Example:\n  crm run examples/campaigns/playbook.crm --db shop.db --date 2026-11-24 --dry-run\n\n"
      "Exit codes: 0 ok, 1 script or data error, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--dry-run", "--stats"}, {"--db", "--date", "--from", "--to", "--format", "--shard"}}, error);
  if (!args) return usage_error("run", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.size() != 1) return usage_error("run", "expected exactly one script FILE");
  auto db = args->option("--db");
  if (!db) return usage_error("run", "missing --db STORE");
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl") return usage_error("run", "--format must be text or jsonl");
  std::optional<Days> date, from, to;
  if (!date_option(*args, "--date", date, error) || !date_option(*args, "--from", from, error) ||
      !date_option(*args, "--to", to, error))
    return usage_error("run", error);
  if (date && (from || to)) return usage_error("run", "use either --date or --from/--to");
  if (from.has_value() != to.has_value()) return usage_error("run", "--from and --to go together");
  if (from && *from > *to) return usage_error("run", "--from is after --to");
  if (date) from = to = date;
  bool dry = args->flag("--dry-run");
  std::optional<engine::Shard> shard;
  if (auto s = args->option("--shard")) {
    int k = 0, n = 0;
    char slash = 0, extra = 0;
    if (std::sscanf(s->c_str(), "%d%c%d%c", &k, &slash, &n, &extra) != 3 || slash != '/' || n < 1 || n > 4096 || k < 1 || k > n)
      return usage_error("run", "--shard expects K/N with 1 <= K <= N <= 4096 (e.g. 2/4), not '" + *s + "'");
    shard = engine::Shard{k, n};
  }

  int code = kExitOk;
  auto setup = prepare_run("run", args->positional[0], *db, code, /*read_only=*/dry);
  if (!setup) return code;
  engine::RunLock lock;
  if (!dry) lock = setup->store->lock_runs(engine::kDefaultRunLockWait, shard);
  if (!from) {  // catch-up
    Days today = engine::today_in(setup->tz);
    auto last = setup->store->last_completed_run(shard);
    std::optional<engine::Store::UnfinishedRun> unfinished;
    if (!shard) unfinished = setup->store->earliest_unfinished_run();  // shards complete days together
    from = last ? *last + 1 : today;
    if (unfinished && unfinished->day < *from && unfinished->day <= today) {
      // A run killed before it completed its day: start again there (SPEC §7: no missed day).
      from = unfinished->day;
      fmt::print(stderr, "crm run: resuming at {}: the run of that day did not complete ({})\n", format_date(*from),
                 describe_unfinished(*unfinished, dry));
    }
    to = today;
    if (*from > *to) {
      fmt::print(stderr, "crm run: nothing to do: the store has completed runs through {}\n", format_date(*last));
      return kExitOk;
    }
    if (*to - *from + 1 > kMaxCatchUpDays) {
      fmt::print(stderr,
                 "crm run: error: catching up from {} ({} days ago) is more than {} days and is refused\n"
                 "help: choose the range with --from D --to D (or --date D)\n",
                 format_date(*from), *to - *from, kMaxCatchUpDays);
      return kExitError;
    }
  } else if (!dry && !shard) {
    // An explicit range after an interrupted day: the days run out of order (caps see a later
    // day before the missing one), so say so and how to finish it.
    auto unfinished = setup->store->earliest_unfinished_run();
    if (unfinished && unfinished->day < *from)
      fmt::print(stderr,
                 "crm run: warning: the run of {} did not complete ({}); the days from it to {} are still to run: "
                 "a plain `crm run` (catch-up) resumes there\n",
                 format_date(unfinished->day), describe_unfinished(*unfinished, dry), format_date(*from - 1));
  }
  if (!dry && !shard) {
    // Days that sharded runs left incomplete are evaluated whole here (the outbox's idempotency
    // keys keep what the finished shards wrote) and then marked complete.
    for (Days d = *from; d <= *to; ++d)
      for (const engine::ShardState& st : setup->store->shard_states(d))
        if (static_cast<int>(st.completed.size()) < st.count)
          fmt::print(stderr, "crm run: day {}: {} of {} shards completed; this run evaluates the whole day and completes it\n",
                     format_date(d), st.completed.size(), st.count);
  }
  // The first day is marked 'running' before anything is loaded, so a run killed at any point
  // (even before its first day commits) is resumed by the next plain `crm run`.
  if (!dry && !shard) setup->store->begin_run(*from);
  setup->store->load_shard = shard;
  load_facts(*setup);

  engine::Runner runner(setup->script, *setup->facts);
  runner.set_render_subjects(!dry);  // subjects only go into outbox payloads, which a dry run never writes
  runner.load_history_from_outbox();
  engine::Summary summary;
  summary.money_digits = setup->facts->money_digits;
  size_t written = 0;
  bool progress = stderr_is_tty() && stdout_is_tty() && *to > *from;  // never when output is piped (SPEC §7)
  engine::RunOptions options;
  options.from = *from;
  options.to = *to;
  options.dry_run = dry;
  options.shard = shard;
  engine::RunOptions::WriteTimes write_times;
  options.write_times = &write_times;
  options.on_action = [&](const engine::ActionOut& a) {
    if (format == "jsonl") fmt::print("{}\n", engine::to_json_line(a));
    summary.add(a);
  };
  size_t split_days = 0, split_threads = 1;
  double frame_ms = 0, eval_ms = 0, frame_cpu_ms = 0, eval_cpu_ms = 0;
  size_t evaluations = 0;
  options.on_day_done = [&](Days d, size_t n) {
    frame_ms += runner.last_frame_ms();
    eval_ms += runner.last_eval_ms();
    frame_cpu_ms += runner.last_frame_cpu_ms();
    eval_cpu_ms += runner.last_eval_cpu_ms();
    if (runner.last_threads() > 1) ++split_days, split_threads = std::max(split_threads, runner.last_threads());
    evaluations += runner.last_rows() * setup->script.program.rules.size();
    written += n;
    summary.days++;
    if (progress) fmt::print(stderr, "\r  day {} ({}/{})", format_date(d), d - *from + 1, *to - *from + 1);
  };
  auto t0 = std::chrono::steady_clock::now();
  engine::run_days(runner, dry ? nullptr : setup->store.get(), options);
  double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (progress) fmt::print(stderr, "\n");
  if (format == "text") {
    std::string range = *from == *to ? format_date(*from) : format_date(*from) + " to " + format_date(*to);
    fmt::print("{} of {} on {}, {} ({} customers, {} rules)\n\n", dry ? "Dry run" : "Run", args->positional[0], shown_location(*db),
               range, runner.last_rows(), setup->script.program.rules.size());
    fmt::print("{}", lang::terminal_safe(summary.to_text()));
    if (dry) fmt::print("\ndry run: nothing was written to the store\n");
    else fmt::print("\n{} new outbox row(s) written\n", written);
  }
  if (shard && !dry) {
    // Which shards of the last day are still missing (the day completes with the last of them).
    for (const engine::ShardState& st : setup->store->shard_states(*to)) {
      if (st.count != shard->count) continue;
      std::string missing;
      for (int k = 1; k <= st.count; ++k)
        if (!std::binary_search(st.completed.begin(), st.completed.end(), k))
          missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(st.count);
      if (missing.empty()) fmt::print(stderr, "crm run: shard {} done; all {} shards of {} are complete\n", shard->name(), st.count, format_date(*to));
      else fmt::print(stderr, "crm run: shard {} done; {} still missing shard(s) {}\n", shard->name(), format_date(*to), missing);
    }
  }
  if (size_t n = runner.negative_points_skipped())
    fmt::print(stderr, "crm run: warning: {} point grant(s) with a negative amount were skipped (a grant never takes "
               "points away)\n", n);
  if (args->flag("--stats")) {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    fmt::print(stderr,
               "stats: store load {:.0f} ms; {} day(s): attributes {:.0f} ms, rules {:.0f} ms ({:.1f} M customer-rule "
               "evaluations/s); total run {:.0f} ms; peak memory {:.0f} MiB{}\n",
               setup->load_ms, *to - *from + 1, frame_ms, eval_ms, eval_ms > 0 ? evaluations / eval_ms / 1000.0 : 0.0,
               run_ms, ru.ru_maxrss / 1024.0,
               dry ? std::string()
                   : fmt::format("; outbox write {:.0f} ms, CPU {:.0f} ms for {} row(s) ({:.2f} us a row)", write_times.wall_ms,
                                 write_times.cpu_ms, write_times.rows,
                                 write_times.rows ? write_times.cpu_ms * 1000.0 / write_times.rows : 0.0));
    fmt::print(stderr, "stats: cpu: attributes {:.0f} ms, rules {:.0f} ms; process total {:.0f} ms; rules on {} thread(s) on {} of {} day(s)\n", frame_cpu_ms,
               eval_cpu_ms, engine::process_cpu_ms(), split_threads, split_days, *to - *from + 1);
  } else if (stderr_is_tty())  // timings vary from run to run: only for people, never for pipes and tests
    fmt::print(stderr, "crm run: loaded the store in {:.0f} ms, evaluated {} day(s) in {:.0f} ms\n", setup->load_ms,
             *to - *from + 1, run_ms);
  return kExitOk;
}

}  // namespace crm::cli
