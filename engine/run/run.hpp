// Runs (SPEC §6): evaluates a compiled script for every customer as of each day, applies
// once/every/after, holdout, consent and caps, and produces actions; a real run writes them to
// the store's outbox day by day, a dry run keeps history and tags in memory.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/store/store.hpp"
#include "engine/run/action.hpp"
#include "engine/frame/attributes.hpp"
#include "engine/run/events.hpp"
#include "engine/store/facts.hpp"
#include "engine/run/history.hpp"
#include "engine/run/journeys.hpp"
#include "engine/run/outbox.hpp"
#include "engine/eval/compiled_script.hpp"
#include "engine/eval/program.hpp"
#include "engine/graph/rule_graph.hpp"
#include "lang/checker.hpp"

namespace crm::engine {

class Store;
class StagePlan;

// Why a rule did or did not fire for one customer on one day (for `crm explain`).
struct RuleTrace {
  size_t rule = 0;
  Truth condition = Truth::False;
  bool evaluated = false;  // the condition was computed (the rule was live and daily)
  std::vector<Explanation> explanation;  // the value of every sub-condition
  // Empty when it fired; else why not: "not live: until 2026-10-31", "once: already fired on
  // 2026-11-02", "after welcome: welcome has not fired", "every 30 days: fired on ...", ...
  std::string blocked;
  std::vector<ActionOut> actions;  // with their final statuses
  bool fired = false;
  bool skipped = false;  // an event rule or journey step: no daily condition; `actions` come from the day's events
  // A journey step: one line per live instance of its journey for this customer, e.g. "instance
  // purchase on 2026-03-01 (order:41): day 14 due 2026-03-15, condition true, unless true, exit
  // when false: skipped by unless" (journeys.cpp).
  std::vector<std::string> instances;
};

// Evaluates days one after the other, keeping the history and tag changes between them.
// Not thread-safe. `program`, `graph`, `compiled` and `facts` must outlive it.
class Runner {
 public:
  Runner(const lang::CheckedProgram& program, const RuleGraph& graph, const Program& compiled, const Facts& facts);
  Runner(const CompiledScript& script, const Facts& facts)
      : Runner(script.program, script.graph, script.compiled, facts) {}
  ~Runner();

  // Whether sends get their rendered subject (ActionOut::subject, for the outbox payload). On by
  // default; a simulation, whose outputs never show subjects, turns it off.
  void set_render_subjects(bool on) { render_subjects_ = on; }
  // Whether evaluate_day measures its wall and CPU times (last_*_ms). On by default; the
  // embedding API's one-customer calls turn it off (reading the process CPU clock is a system
  // call, a noticeable part of a call of a few microseconds).
  void set_timing(bool on) { timing_ = on; }
  // Threads that evaluate a day's rows, each a range of rows (day_rows.cpp): at most `threads`,
  // and no more than one per `min_rows` rows (at least kBatchRows). By default CRM_RUN_THREADS
  // or the machine's cores (at most 8), one per 32,768 rows. The actions, their order and the
  // history are the same as with one thread. A day runs on one thread when it traces a customer,
  // has event rules or journeys, uses lower()/upper() (which intern strings), or a tag action
  // names a tag the store has never seen (its first day interns it).
  void set_threads(size_t threads, size_t min_rows = kMinRowsPerThread);
  static constexpr size_t kMinRowsPerThread = 32'768;
  // The threads the last day's rows were split over (1: it ran on one thread).
  size_t last_threads() const { return last_threads_; }
  // Each thread's share of the rows on the next split day (as many shares as it has threads,
  // each positive; scaled to sum to 1, cut at whole batches; other values are ignored). After
  // every split day they move toward what each thread got through per second; this sets where
  // they start (the actions never depend on it).
  void set_split_shares(std::vector<double> shares);

  // Loads the history of earlier runs from the facts' outbox (real runs; outbox.cpp).
  void load_history_from_outbox();
  // Forgets the history, the tag changes and the journey instances: the state of a new Runner on
  // the same facts, whose contents may have changed (the embedding API reuses one Runner across
  // one-customer evaluations, refilling its one-row facts). Keeps the allocations: costs what
  // the last evaluation touched. The views of earlier ActionOuts may dangle after it.
  void reset();

  // Evaluates day `d` and returns every action (all statuses), ordered by customer id, then
  // rule evaluation order, then action order. Records passed actions into the history and the
  // tag overlay, so the next day sees them. With `trace_customer`, fills `traces` for it.
  std::vector<ActionOut> evaluate_day(Days d, std::optional<int64_t> trace_customer = std::nullopt,
                                      std::vector<RuleTrace>* traces = nullptr);
  // The same day for a caller that reads each action once, in order (a dry run's summary and
  // jsonl): hands them to `sink` a few thousand at a time from one buffer the Runner reuses,
  // instead of building the day's vector (~100 bytes an action: ~85 MB of fresh pages on a large
  // store's first day). The time spent in `sink` is not counted in last_eval_*.
  using ActionSink = std::function<void(std::span<const ActionOut>)>;
  // evaluate_day into `out` (its contents replaced), reusing its capacity: a caller that
  // evaluates many days (a simulation) writes each day's records into memory already mapped.
  void evaluate_day_into(Days d, std::vector<ActionOut>& out);
  void stream_day(Days d, const ActionSink& sink);

  // The real-time path (crm event, journeys.cpp): evaluates the event rules and the day-0
  // journey steps for `occurrences` (of one customer) as of day `d`, with `frame` the customers'
  // attributes as of `d` (compute_frame(facts, d, columns())). Same gates and keys as the batch
  // replay of the same events, so the outbox keeps one of the two. Records passed actions.
  std::vector<ActionOut> evaluate_occurrences(Days d, const Frame& frame, const std::vector<Occurrence>& occurrences);
  // The attribute columns the runner computes (for callers that build frames themselves).
  const std::vector<std::string>& columns() const { return columns_; }
  // Journey instances alive after the last evaluated day (tests, explain).
  const std::vector<JourneyInstance>& journey_instances() const { return journeys_; }

  // The history so far (the last day's records written into it first).
  const History& history() {
    apply_day_logs();
    return history_;
  }
  // Evaluation statistics of the last day.
  size_t last_rows() const { return last_rows_; }
  // Point grants skipped because their amount was negative (docs/hardening.md): callers warn.
  size_t negative_points_skipped() const { return negative_points_skipped_.load(); }
  // Customer rows whose attributes were recomputed for the last day (all rows when the frame
  // was computed from scratch; else those with facts dated since the previous day).
  size_t last_touched_rows() const { return last_touched_rows_; }
  double last_frame_ms() const { return last_frame_ms_; }
  double last_eval_ms() const { return last_eval_ms_; }
  // The same as CPU time of the process (what a quiet machine's wall time would be).
  double last_frame_cpu_ms() const { return last_frame_cpu_ms_; }
  double last_eval_cpu_ms() const { return last_eval_cpu_ms_; }
  // Facts dated in the days the last frame advanced over (0 after a computation from scratch).
  size_t last_day_facts() const { return cursor_->last_facts(); }

 private:
  struct Candidate;
  struct Payload;
  struct PooledCandidate;
  struct Scratch;
  struct DayPass;
  // Caps by priority: the final statuses of one customer's candidates (`w`: the pools they index).
  void allocate(std::vector<Candidate>& cands, int64_t customer, Days d, Scratch& w);
  // Appends the candidates of rule r's actions for frame row `row` (batch index i of `ev`):
  // holdout, consent, points; returns whether any passed before caps. Shared by daily rules and
  // the event/journey path.
  bool add_rule_candidates(uint32_t r, const Frame& frame, size_t row, Evaluator& ev, size_t i, Days d,
                           uint32_t key, bool hold, const Column* const* optin,
                           const std::vector<uint32_t>& needs_today, std::vector<Candidate>& list, Scratch& w);
  // Caps (allocate), then record_and_order.
  void settle(uint32_t row, int64_t customer, Days d, std::vector<Candidate>& list, Scratch& w);
  // The passed actions of a settled list into w's day log and the tag overlay (in list order),
  // then the list sorted into output order.
  void record_and_order(uint32_t row, int64_t customer, Days d, std::span<Candidate> list, Scratch& w);
  // The history part of record_and_order: fires (once per rule and key) and sends, into w.log.
  void record_history(int64_t customer, Days d, std::span<const Candidate> list, Scratch& w);
  // The threads' day logs into the history, in thread (row) order, and cleared: before anything
  // reads the history. Logs of a split day are applied on as many threads, where the History
  // can take it (History::begin_concurrent).
  void apply_day_logs();
  // The rest of it: the tag changes into the overlay; the list sorted into output order.
  void record_tags(uint32_t row, std::span<const Candidate> list);
  void output_order(std::span<Candidate> list) const;
  // The interned dedupe key of rule r's `once per` value at batch index i (`v`: its values).
  uint32_t once_per_key(uint32_t r, NodeId node, const Evaluator::Values& v, Evaluator& ev, size_t i, Scratch& w);
  // The output action of a settled candidate, made in `o` (a new ActionOut, in place in the
  // output: no copy of a hundred bytes per action); moves its payload out of w's pools.
  void make_action(ActionOut& o, const Candidate& c, Days d, int64_t customer, Scratch& w);
  // Forgets the last evaluation's payloads and waited-for rules (before an evaluation).
  void clear_candidate_pools(Scratch& w);
  // Appends a candidate to today's list of a customer row (registers the row on first use).
  void add_candidate(uint32_t row, Candidate&& c, Scratch& w);
  // Takes a row's candidates out of w's pool, in insertion order, into w.row_scratch.
  std::vector<Candidate>& take_row(uint32_t row, Scratch& w);
  // Event rules and journey steps of day `d` (journeys.cpp): adds their candidates by customer
  // row. `batch`: the store's replay (journey instances are kept and advanced); else real time.
  void add_event_candidates(Days d, const Frame& frame, const std::vector<Occurrence>& occurrences, bool batch,
                            std::map<uint32_t, std::vector<Candidate>>& cands);
  // day_rows.cpp: one stage's rules over rows [lo, hi): conditions, gates, candidates; in the
  // last stage of a day without event rules, each batch's rows settled (pass.settle_row, or, on
  // a split day, caps only, kept in w.settled for record_settled).
  void evaluate_rows(DayPass& pass, const std::vector<size_t>& stage, bool last_stage, size_t lo, size_t hi, Scratch& w);
  // The threads for this day's rows (1: serial); see set_threads.
  size_t split_threads(const Frame& frame, bool settle_by_batch, bool tracing,
                       const std::vector<std::vector<size_t>>& stages) const;
  // One stage over `n` ranges of rows, each on its own thread (the first on this one). The
  // ranges are whole batches, the same for every stage of a day (a row's candidates stay in its
  // thread's pool until the last stage settles them), cut at the day's first stage from
  // split_share_.
  void evaluate_split(DayPass& pass, const std::vector<size_t>& stage, bool first_stage, bool last_stage, size_t n);
  // A split day's settled rows of `w`, in row order (their history and order made on its
  // thread): their tags recorded, their actions appended to `out`, `row_done` called after each row.
  void record_settled(Scratch& w, const Frame& frame, Days d, std::vector<ActionOut>& out,
                      const std::function<void()>& row_done);
  // The scratch of thread k (made on first use).
  Scratch& scratch(size_t k);

  const lang::CheckedProgram& program_;
  const RuleGraph& graph_;
  const Program& compiled_;
  const Facts& facts_;
  History history_;
  std::unordered_map<std::string, uint32_t> rule_index_;
  std::vector<uint32_t> campaign_of_rule_;  // campaign id + 1 (0 = none)
  std::unordered_map<std::string, uint32_t> campaign_ids_;
  std::vector<size_t> graph_pos_;            // rule index -> position in graph.rule_order
  // In-memory tag changes since the facts were loaded: customer row -> (tag id, set?) in order.
  TagOverlay tag_overlay_;
  std::vector<uint32_t> overlay_dirty_;  // rows whose overlay changed since the last frame
  std::unique_ptr<FrameCursor> cursor_;  // the day's attributes, advanced incrementally
  std::vector<std::string> columns_;
  std::vector<JourneyInstance> journeys_;  // live instances (batch path)
  bool journeys_loaded_ = false;           // instances entered before the first day were rebuilt
  std::unique_ptr<Evaluator> event_ev_;    // reused across event frames (real-time latency)
  // While evaluate_day traces a customer: its row and the day's traces (journey steps' instances).
  std::optional<size_t> trace_row_;
  std::map<size_t, RuleTrace>* trace_rules_ = nullptr;
  std::unique_ptr<StagePlan> stage_plan_;  // the daily rules in stages (evaluate_day)
  // Per rule: its `after` clauses as (rule index, days; UINT32_MAX: a rule not in the script).
  std::vector<std::vector<std::pair<uint32_t, int64_t>>> after_;
  std::vector<uint8_t> after_target_;  // per rule: some `after` waits for it
  std::vector<std::vector<const lang::Message*>> action_message_;  // per rule, per action: its message
  std::vector<uint32_t> limit_campaign_;  // per limit: campaign id + 1; 0 every send; UINT32_MAX unknown
  std::vector<std::unordered_map<uint64_t, uint32_t>> once_per_keys_;  // per rule: value bits -> key
  std::vector<uint32_t> once_per_null_;  // per rule: the key of a null value (UINT32_MAX: not yet)
  // reset() keeps the interned dedupe keys (and once_per_keys_) up to this many.
  static constexpr size_t kMaxKeptKeys = 4096;
  // The decimal text of points amounts (ActionOut::target views it; nodes do not move).
  std::unordered_map<int64_t, std::string> points_texts_;
  uint32_t once_key_ = 0;
  bool any_event_rule_ = false;
  bool render_subjects_ = true;
  // The recommended(N) column whose SKUs go into send payloads ("" when the script has none).
  std::string recommended_column_;
  bool timing_ = true;
  // Per thread: its evaluator, candidate pools and scratch lists (the first serves a serial day).
  std::vector<std::unique_ptr<Scratch>> scratch_;
  // Per row: its newest candidate in its Scratch's day_cands + 1 (0: none); each links to the
  // one before (a chain newest first: no tail to keep per row).
  std::vector<uint32_t, FreshPageAllocator<uint32_t>> row_head_;
  size_t threads_ = 1, min_rows_per_thread_ = kMinRowsPerThread, last_threads_ = 1;
  // A split day: each thread's share of the rows (n entries summing to 1), moved after every
  // day toward what each thread got through per second (rows of old customers carry more history
  // to gate); the day's ranges (n + 1 row bounds) and each thread's seconds so far. Only the
  // times change with the shares, never the actions.
  std::vector<double> split_share_, split_seconds_;
  std::vector<size_t> split_begin_;
  std::mutex once_mu_;  // a split day: once_per_keys_, once_per_null_ and the History's key interning
  // Per rule some `after` waits for: a bit per row, set when it passed an action in this
  // evaluation (provisional, for `after` within the day).
  std::vector<std::vector<uint64_t>> fired_today_;
  std::vector<std::vector<int64_t>> tag_ids_;  // [rule][action]: a tag action's string id (-1: not yet)
  Column spare_tags_;  // a day's changed tags column, kept for its buffers (evaluate_day)
  // The facts' smallest and largest customer id, for History::begin_concurrent, with the
  // (address, size) of the ids they were found in.
  std::optional<std::pair<int64_t, int64_t>> customer_ids_;
  std::pair<const int64_t*, size_t> customer_ids_of_{nullptr, 0};
  const ActionSink* sink_ = nullptr;      // set while stream_day runs
  std::vector<ActionOut>* into_ = nullptr;  // set while evaluate_day_into runs
  std::vector<ActionOut> stream_out_;    // stream_day's buffer (capacity kept)
  size_t last_touched_rows_ = 0;
  size_t last_rows_ = 0;
  mutable std::atomic<size_t> negative_points_skipped_{0};
  double last_frame_ms_ = 0, last_eval_ms_ = 0, last_frame_cpu_ms_ = 0, last_eval_cpu_ms_ = 0;
};

struct RunOptions {
  Days from = 0, to = 0;
  bool dry_run = true;
  // A sharded run (crm run --shard K/N): each day is recorded in run_shards with its writes.
  std::optional<Shard> shard;
  std::function<void(const ActionOut&)> on_action;          // every action, every status
  std::function<void(Days day, size_t written)> on_day_done;  // after each day (written: new outbox rows)
  // When set, a real run adds the time of building and writing its outbox rows and tag
  // changes (wall, and CPU of the whole process) and the rows offered to the store (crm run --stats).
  struct WriteTimes {
    double wall_ms = 0, cpu_ms = 0;
    size_t rows = 0;
  };
  WriteTimes* write_times = nullptr;
};

// Runs the days [from, to] with `runner`; a real run (dry_run false) writes each day's passed
// actions, tag changes and completion to `store` in one transaction per day.
void run_days(Runner& runner, Store* store, const RunOptions& options);

// CPU time of the whole process so far, in ms (user + system, every thread).
double process_cpu_ms();

// The hash that selects held-out customers: fnv1a64("<key>:<customer id>") mod 10000 < pct*100.
bool held_out(const std::string& key, int64_t customer, double pct);

}  // namespace crm::engine
