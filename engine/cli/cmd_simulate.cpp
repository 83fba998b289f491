// crm simulate FILE --db STORE --from D --to D [--report out.html] [--format text|jsonl|csv]:
// a dry run over a range of days (a backtest over past dates) with the shop's KPIs and a report.
#include <fmt/core.h>

#include <sys/resource.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <unordered_map>

#include "cli/args.hpp"
#include "cli/atomic_file.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "cli/simulate_forecast.hpp"
#include "engine/report/kpis.hpp"
#include "engine/report/outcomes.hpp"
#include "engine/report/report.hpp"
#include "engine/report/report_html.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"

namespace crm::cli {
namespace {

// A simulation longer than this is almost surely a typo in a year (2026 -> 2062); ten years of
// days is still allowed.
constexpr int kMaxSimulatedDays = 3660;
constexpr int kProgressWidth = 30;  // characters of the bar

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// "\r  simulating [#########.........]  45%  2026-05-12  165/365 days" on stderr.
void print_progress(Days d, Days from, Days to) {
  int64_t done = d - from + 1, total = to - from + 1;
  int filled = static_cast<int>(kProgressWidth * done / total);
  fmt::print(stderr, "\r  simulating [{}{}] {:3}%  {}  {}/{} days", std::string(static_cast<size_t>(filled), '#'),
             std::string(static_cast<size_t>(kProgressWidth - filled), '.'), 100 * done / total, format_date(d), done, total);
  std::fflush(stderr);
}

}  // namespace

int cmd_simulate(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm simulate FILE --db STORE --from D --to D [--report out.html] [--format text|jsonl|csv]\n"
      "                    [--stats] [--day-stats FILE] [--forecast [--runs N] [--seed S]]\n\n"
      "Evaluates every rule of FILE for every customer of STORE on each day of the range, exactly\n"
      "as 'crm run --dry-run' does, and writes nothing to the store: fired history and tags are\n"
      "kept in memory across the days. Over past dates it is a backtest: each day sees only the\n"
      "facts dated on or before it (outbox rows of real runs count only before --from).\n\n"
      "The text output lists, per rule and per channel, the actions sent, held out and blocked by\n"
      "consent or by a cap, the distinct customers reached, the message cost (from `message ...\n"
      "cost N`), the busiest days, sample customers to inspect with 'crm explain', the daily\n"
      "volume, then the shop's KPIs from the store as of --to: second-purchase rate (F2) of each\n"
      "monthly cohort of first-time buyers, 12-month repeat rate and revenue per customer, cohort\n"
      "retention, the subscription retention curve and cancellation reasons.\n\n"
      "Options:\n"
      "  --db STORE        the SQLite store (read only)\n"
      "  --from D --to D   the days to simulate, YYYY-MM-DD, inclusive\n"
      "  --format F        text (tables, default), jsonl (one action per line, SPEC §7, the same\n"
      "                    lines as 'crm run --dry-run --format jsonl'), or csv (one row per date,\n"
      "                    rule, action, target and channel with counts by status)\n"
      "  --report FILE     also write the campaign report as one self-contained HTML file\n"
      "  --stats           print timings (wall and CPU) and peak memory to stderr\n"
      "  --day-stats FILE  write one tab-separated line per day: date, facts dated that day,\n"
      "                    customers whose attributes were recomputed, actions, CPU ms of the\n"
      "                    attributes and of the rules (to see a day's cost follow its facts)\n"
      "  --forecast        over days after the store's last fact, draw each customer's future\n"
      "                    purchases from the fitted BG/NBD (and Gamma-Gamma) models and print,\n"
      "                    over N runs, the mean and 5%-95% spread of the drawn purchases and\n"
      "                    revenue, passed actions, customers reached, message cost and each\n"
      "                    rule's passed actions (text, or jsonl: one line per total)\n"
      "  --runs N          forecast runs (default 20, at most 1000)\n"
      "  --seed S          forecast seed (default 1): the same seed, store and script give the\n"
      "                    same forecast\n"
      "  --help            show this help\n\n"
      "Example:\n  crm simulate examples/campaigns/playbook.crm --db shop.db --from 2026-10-01 --to 2026-11-24 "
      "--report report.html\n\n"
      "Exit codes: 0 ok, 1 script or data error, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--stats", "--forecast"}, {"--db", "--from", "--to", "--format", "--report", "--day-stats", "--runs", "--seed"}}, error);
  if (!args) return usage_error("simulate", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.size() != 1) return usage_error("simulate", "expected exactly one script FILE");
  auto db = args->option("--db");
  if (!db) return usage_error("simulate", "missing --db STORE");
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl" && format != "csv")
    return usage_error("simulate", "--format must be text, jsonl or csv");
  if (!args->option("--from") || !args->option("--to")) return usage_error("simulate", "--from D and --to D are required");
  std::optional<Days> from, to;
  if (!date_option(*args, "--from", from, error) || !date_option(*args, "--to", to, error))
    return usage_error("simulate", error);
  if (*from > *to) return usage_error("simulate", "--from is after --to");
  if (*to - *from + 1 > kMaxSimulatedDays)
    return usage_error("simulate", fmt::format("the range has {} days; at most {} are simulated at once", *to - *from + 1,
                                               kMaxSimulatedDays));
  auto report_path = args->option("--report");
  if (report_path && report_path->empty()) return usage_error("simulate", "--report needs a file name");
  auto day_stats_path = args->option("--day-stats");
  if (day_stats_path && day_stats_path->empty()) return usage_error("simulate", "--day-stats needs a file name");

  const bool forecast = args->flag("--forecast");
  ForecastOptions fo;
  if (!forecast && (args->option("--runs") || args->option("--seed")))
    return usage_error("simulate", "--runs and --seed go with --forecast");
  if (forecast) {
    if (format == "csv") return usage_error("simulate", "--forecast prints text or jsonl");
    if (report_path || day_stats_path) return usage_error("simulate", "--forecast has no --report or --day-stats");
    for (const char* name : {"--runs", "--seed"}) {
      auto v = args->option(name);
      if (!v) continue;
      char* end = nullptr;
      errno = 0;
      unsigned long long n = std::strtoull(v->c_str(), &end, 10);
      if (v->empty() || *end || errno || (*v)[0] == '-' || (name[2] == 'r' && (n < 1 || n > 1000)))
        return usage_error("simulate", fmt::format("{} must be {}", name, name[2] == 'r' ? "a count from 1 to 1000" : "a whole number"));
      if (name[2] == 'r') fo.runs = static_cast<int>(n);
      else fo.seed = n;
    }
    fo.from = *from;
    fo.to = *to;
    fo.format = format;
  }

  int code = kExitOk;
  auto setup = prepare_run("simulate", args->positional[0], *db, code, /*read_only=*/true);
  if (!setup) return code;
  if (report_path && !can_write_beside(*report_path, error)) {  // fail before a long simulation, not after
    fmt::print(stderr, "crm simulate: error: cannot write the report '{}': {}\n", *report_path, error);
    return kExitError;
  }
  std::ofstream day_stats;
  if (day_stats_path) {
    day_stats.open(*day_stats_path, std::ios::binary | std::ios::trunc);
    if (!day_stats) {
      fmt::print(stderr, "crm simulate: error: cannot write the day statistics '{}'\n", *day_stats_path);
      return kExitError;
    }
    day_stats << "date\tfacts\trecomputed_customers\tactions\tattributes_cpu_ms\trules_cpu_ms\n";
  }
  const double cpu_start = engine::process_cpu_ms();
  load_facts(*setup);
  const double load_cpu_ms = engine::process_cpu_ms() - cpu_start;
  if (forecast) return simulate_forecast(*setup, fo);

  // A backtest must not see the future: outbox rows of real runs count only before --from.
  auto& outbox = setup->facts->outbox;
  // The report's outcomes section: treated vs held out over the simulated days (a backtest).
  std::optional<engine::OutcomesAccumulator> outcomes;
  if (report_path) {
    outcomes.emplace(setup->script.program, *setup->facts, *from, *to);
    for (const auto& e : outbox) outcomes->add_outbox(e);
  }
  std::erase_if(outbox, [&](const engine::Facts::OutboxEntry& e) { return e.run_date >= *from; });
  // Nor a lifetime model fitted on the simulated day's (or later) facts: day D uses as_of < D.
  setup->facts->models_strictly_before = true;
  engine::Runner runner(setup->script, *setup->facts);
  runner.load_history_from_outbox();
  runner.set_render_subjects(false);  // subjects only go into the outbox payload, which a simulation never writes

  const bool progress = stderr_is_tty() && stdout_is_tty() && *to > *from;  // never when output is piped (SPEC §7)
  size_t split_days = 0, split_threads = 1;
  double frame_ms = 0, eval_ms = 0, output_ms = 0, frame_cpu_ms = 0, eval_cpu_ms = 0;
  engine::SimulateOptions options;
  options.from = *from;
  options.to = *to;
  if (format == "csv") fmt::print("{}", engine::csv_header());
  std::string buffer;
  // The Runner's statistics of the day on the evaluating thread; the output one day behind, on a
  // second thread, while the next day is evaluated.
  options.overlap = true;
  options.on_evaluated = [&](Days d, const std::vector<engine::ActionOut>& actions) {
    frame_ms += runner.last_frame_ms();
    eval_ms += runner.last_eval_ms();
    frame_cpu_ms += runner.last_frame_cpu_ms();
    eval_cpu_ms += runner.last_eval_cpu_ms();
    if (runner.last_threads() > 1) ++split_days, split_threads = std::max(split_threads, runner.last_threads());
    if (day_stats.is_open())
      day_stats << fmt::format("{}\t{}\t{}\t{}\t{:.1f}\t{:.1f}\n", format_date(d), runner.last_day_facts(),
                               runner.last_touched_rows(), actions.size(), runner.last_frame_cpu_ms(),
                               runner.last_eval_cpu_ms());
  };
  options.on_day = [&](Days d, const std::vector<engine::ActionOut>& actions) {
    if (outcomes)
      for (const auto& a : actions) outcomes->add(a);
    auto t0 = std::chrono::steady_clock::now();
    buffer.clear();
    if (format == "jsonl") {
      for (const auto& a : actions) {
        buffer += engine::to_json_line(a);
        buffer += '\n';
      }
    } else if (format == "csv") {
      buffer = engine::csv_rows(actions);
    }
    if (!buffer.empty()) std::fwrite(buffer.data(), 1, buffer.size(), stdout);
    output_ms += ms_since(t0);
    if (progress) print_progress(d, *from, *to);
  };
  auto t_run = std::chrono::steady_clock::now();
  const double cpu_run = engine::process_cpu_ms();
  engine::SimulationResult sim = engine::simulate(runner, setup->script.program, *setup->facts, options);
  double run_ms = ms_since(t_run);
  const double run_cpu_ms = engine::process_cpu_ms() - cpu_run;
  if (day_stats.is_open()) {
    day_stats.close();
    if (!day_stats) {
      fmt::print(stderr, "crm simulate: error: cannot write the day statistics '{}'\n", *day_stats_path);
      return kExitError;
    }
  }
  if (progress) fmt::print(stderr, "\r{}\r", std::string(kProgressWidth + 50, ' '));

  auto t_kpi = std::chrono::steady_clock::now();
  std::optional<engine::Kpis> kpis;
  if (format == "text" || report_path) kpis = engine::compute_kpis(*setup->facts, *from, *to);
  double kpi_ms = ms_since(t_kpi);

  std::optional<engine::OutcomesResult> outcome_result;
  if (outcomes) {
    std::unordered_map<int64_t, std::string> coupons;
    for (auto& [id, c] : setup->store->order_coupons()) coupons.emplace(id, std::move(c));
    outcome_result = outcomes->finish(engine::kDefaultOutcomeWindow, engine::kDefaultMinCustomers, &coupons);
  }
  engine::ReportInput in{args->positional[0], shown_location(*db), &sim, kpis ? &*kpis : nullptr,
                         outcome_result ? &*outcome_result : nullptr};
  // Past the last fact, a backtest has nothing to go on: say so rather than imply a forecast.
  std::string past_note;
  if (Days last = last_fact_day(*setup->facts); last == engine::kNoDay || *to > last)
    past_note = last == engine::kNoDay ? "note: the store has no orders or events: nobody buys in this simulation\n"
                               : fmt::format("note: the store's facts end on {}; the days after it assume nobody buys or "
                                             "does anything again (--forecast draws their purchases from the fitted models)\n",
                                             format_date(last));
  // The report first: a reader that stops early (`| head`) must not cost the report.
  double report_ms = 0;
  if (report_path) {
    auto t0 = std::chrono::steady_clock::now();
    std::string html = engine::report_html(in);
    if (!write_file_atomically(*report_path, html, error)) {
      fmt::print(stderr, "crm simulate: error: cannot write the report '{}': {}\n", *report_path, error);
      return kExitError;
    }
    report_ms = ms_since(t0);
    if (stderr_is_tty()) fmt::print(stderr, "crm simulate: wrote the report to {}\n", *report_path);
  }
  if (format == "text") fmt::print("{}{}\n{}", past_note, engine::simulation_text(in), engine::kpis_text(*kpis));
  else if (!past_note.empty()) fmt::print(stderr, "{}", past_note);
  std::fflush(stdout);
  if (args->flag("--stats")) {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    fmt::print(stderr,
               "stats: store load {:.0f} ms; {} day(s) in {:.0f} ms: attributes {:.0f} ms, rules {:.0f} ms, output {:.0f} ms, "
               "counting {:.0f} ms; KPIs {:.0f} ms; report {:.0f} ms; peak memory {:.0f} MiB\n",
               setup->load_ms, *to - *from + 1, run_ms, frame_ms, eval_ms, output_ms,
               run_ms - frame_ms - eval_ms - output_ms, kpi_ms, report_ms, ru.ru_maxrss / 1024.0);
    fmt::print(stderr,
               "stats: cpu: store load {:.0f} ms; days {:.0f} ms: attributes {:.0f} ms, rules {:.0f} ms, the rest {:.0f} ms; "
               "process total {:.0f} ms; rules on {} thread(s) on {} of {} day(s)\n",
               load_cpu_ms, run_cpu_ms, frame_cpu_ms, eval_cpu_ms, run_cpu_ms - frame_cpu_ms - eval_cpu_ms,
               engine::process_cpu_ms(), split_threads, split_days, *to - *from + 1);
  }
  // Everything is written: skip freeing the facts, history and frames of a large store one
  // allocation at a time (seconds for 1M customers); the operating system takes the memory back.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(kExitOk);
}

}  // namespace crm::cli
