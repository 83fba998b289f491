// Internals shared by the day loop (run.cpp) and the event/journey path (journeys.cpp): the
// candidate action before caps, and small helpers. Not part of the engine's interface.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "engine/eval/program.hpp"
#include "engine/run/run.hpp"
#include "lang/subject.hpp"

namespace crm::engine {

// The dedupe value of `once per EXPR` as text: strings unquoted, dates YYYY-MM-DD, null "null".
inline std::string key_text(const Value& v) {
  if (v.kind == Value::Kind::String) return v.text;
  return v.to_string();
}

// A number for people: thousands separated by ",", decimals rounded to `digits` places (the
// currency's minor unit; 2 by default), so 2790.8599999999997 renders as "2,790.86".
// Halves round away from zero (1080.5 yen renders "1,081"), not to even.
inline std::string grouped_number(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  if (std::abs(v) * scale < 1e15) v = std::round(v * scale) / scale;
  std::string s = fmt::format("{:.{}f}", v, digits);
  if (s == "-0" || s.rfind("-0.", 0) == 0) {
    bool zero = s.find_first_not_of("-0.") == std::string::npos;
    if (zero) s.erase(0, 1);  // no "-0.00"
  }
  size_t start = s[0] == '-' ? 1 : 0, dot = s.find('.');
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  for (size_t k = int_end; k > start + 3; k -= 3) s.insert(k - 3, ",");
  return s;
}

// Renders the placeholders of a subject (lang/subject.hpp): an attribute from the frame's
// columns, a let/segment definition through `definition` (its value for the row, nullopt when
// the name is not one); unknown names stay as written (the checker rejects them). A null value
// renders the fallback of `{name|"text"}`, else nothing. Integers are grouped ("12,345"),
// decimals grouped with `money_digits` decimals, the store's currency's minor unit
// (engine/store/currency.hpp: "2,790.86", or "2,791" in yen). A format `{x:N}` gives N decimals
// (ints too), `{x:plain}` drops the separators ("2790.86", an id "12345").
template <typename DefinitionValue>
std::string render_subject(const std::string& subject, const Frame& frame, size_t row, int money_digits,
                           DefinitionValue&& definition) {
  std::string out;
  size_t at = 0;
  for (const auto& p : lang::subject_placeholders(subject)) {
    out.append(subject, at, p.begin - at);
    at = p.end;
    std::optional<Value> v;
    if (const Column* c = frame.column(p.name)) v = column_value(frame, *c, row);
    else v = definition(p.name);
    if (!v) {
      out.append(subject, p.begin, p.end - p.begin);
      continue;
    }
    const int asked = lang::format_digits(p.format);
    std::string text;
    if (v->is_null()) text = p.fallback;
    else if (v->kind == Value::Kind::List)  // {recommended}: "A, B, C"
      for (size_t k = 0; k < v->list.size(); ++k) text += (k ? ", " : "") + key_text(v->list[k]);
    else if (v->kind == Value::Kind::Decimal) text = grouped_number(v->d, asked >= 0 ? asked : money_digits);
    else if (v->kind == Value::Kind::Int) text = grouped_number(static_cast<double>(v->i), asked >= 0 ? asked : 0);
    else text = key_text(*v);
    if (p.format == "plain" && !v->is_null() && (v->kind == Value::Kind::Decimal || v->kind == Value::Kind::Int))
      std::erase(text, ',');
    out += text;
  }
  out.append(subject, at, std::string::npos);
  return out;
}

inline std::string render_subject(const std::string& subject, const Frame& frame, size_t row, int money_digits = 2) {
  return render_subject(subject, frame, row, money_digits, [](const std::string&) { return std::optional<Value>(); });
}

// Before a growing vector copies itself: reserves for what the rows [0, done) added to it
// (`added`), extrapolated to all `rows` (customers are spread evenly over the rows), so it rarely
// grows by copying and its pages are written once. A large reservation is a mapping of its own
// (from 1 MiB with a FreshPageAllocator, else above glibc's largest mmap threshold, 32 MiB),
// whose pages never written are never mapped: it gets a wide margin; a smaller one, which comes
// from the heap, a narrow one.
template <class T, class A>
void reserve_ahead(std::vector<T, A>& v, size_t added, size_t done, size_t rows) {
  if (done >= rows || done == 0) return;
  const size_t base = v.size() - added;
  const size_t expect = base + added / done * rows + added % done * rows / done;
  if (v.capacity() >= expect + expect / 8 + kBatchRows) return;
  const size_t map_bytes = std::is_same_v<A, FreshPageAllocator<T>> ? kFreshPageBytes : size_t{64} << 20;
  const bool mapped = expect * sizeof(T) >= map_bytes;
  v.reserve(std::max(expect + (mapped ? expect : expect / 4) + kBatchRows, v.capacity() + v.capacity() / 2));
}

// An action before caps, kept small (32 bytes) and trivially copyable (a day has ~100k-1M of them
// on a large store, copied into the day's pool and out again): the ActionOut, with its strings, is
// made only for the output (Runner::make_action); a passed send's subject and SKUs wait in the
// Runner's payloads_, the rules it waits for in needs_pool_.
struct Runner::Candidate {
  uint32_t rule = 0;
  uint32_t key = 0;                    // the dedupe value, interned in the History
  uint32_t action_index = 0;           // position among the rule's actions
  // A send: payloads_ index + 1 (0: no subject, no SKUs); `grant points`: points_pool_ index + 1
  // (the amount). The priority and a send's cost are the rule's and its message's.
  uint32_t payload = 0;
  uint32_t needs_at = 0;               // needs_pool_[needs_at, needs_at + needs_count): rules this
  uint32_t needs_count = 0;            // one waits for that fired only today
  lang::ActionKind kind = lang::ActionKind::Send;
  Status pre_status = Status::Sent;    // before caps
  Status status = Status::Sent;        // final
  bool transactional = false;          // a transactional send: never capped, never counted
  std::optional<lang::Channel> channel;
};

// What a passed send carries into its outbox payload, rendered while its row is at hand.
struct Runner::Payload : ActionPayload {};

struct Runner::PooledCandidate {
  Candidate c;
  uint32_t next = 0;  // the row's candidate before this one in the pool + 1 (0: its first)
};

// Runs work(k) for k in [0, n): k = 0 on this thread, each other on a thread of its own. Returns
// the first exception any of them threw, once all are done, for the caller to rethrow after it
// has tidied up.
template <class Work>
std::exception_ptr run_on_threads(size_t n, Work&& work) {
  std::vector<std::exception_ptr> errors(n);
  auto guarded = [&](size_t k) {
    try {
      work(k);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(n > 0 ? n - 1 : 0);
  for (size_t k = 1; k < n; ++k) threads.emplace_back(guarded, k);
  if (n > 0) guarded(0);
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) return e;
  return nullptr;
}

// A stage's tag changes, (row, tag, set?), by row, keeping their order within a row. A split
// day's threads sort their own (their ranges follow each other), which leaves nothing to sort.
inline void sort_tag_changes(std::vector<std::tuple<uint32_t, int64_t, bool>>& changes) {
  auto by_row = [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); };
  if (!std::is_sorted(changes.begin(), changes.end(), by_row)) std::stable_sort(changes.begin(), changes.end(), by_row);
}

// One thread's share of a day's evaluation: its evaluator, its candidate pools and scratch lists
// (capacities kept across days). A serial day uses the first; a day split over threads one per
// range of rows (day_rows.cpp). A Candidate's payload and needs_at index its Scratch's pools.
struct Runner::Scratch {
  std::unique_ptr<Evaluator> ev;  // bound to the cursor's frame, reused across days
  uint64_t ev_layout = 0;         // the cursor's layout() it was bound to
  // The day's candidates in one pool, chained per customer row (Runner::row_head_), newest
  // first: no allocation per candidate or per row.
  std::vector<PooledCandidate, FreshPageAllocator<PooledCandidate>> day_cands;
  std::vector<uint32_t> cand_rows;      // rows with candidates today
  std::vector<Candidate> rule_scratch;  // one rule's candidates for one row
  std::vector<Candidate> row_scratch;   // one row's candidates while they are settled
  std::vector<Payload> payloads;        // the evaluation's passed sends' subjects and SKUs
  std::vector<uint32_t> needs_pool;     // the evaluation's candidates' waited-for rules
  std::vector<int64_t> points_pool;     // the evaluation's point grants' amounts
  std::vector<Candidate*> sends;        // allocate's lists
  std::vector<const Candidate*> allocated;
  std::vector<std::tuple<uint32_t, int64_t, bool>> stage_tags;  // a stage's (row, tag, set?) in order
  // A split day: the rows settled (caps applied, history logged, in output order) whose tags and
  // output actions wait for record_settled, in row order; their candidates in `settled`, in
  // list order, row k's ending at settled_end[k].
  std::vector<uint32_t, FreshPageAllocator<uint32_t>> settled_rows, settled_end;
  std::vector<Candidate, FreshPageAllocator<Candidate>> settled;
  // `once per` keys in front of the Runner's maps (once_per_keys_, once_per_null_; on a split day
  // taken under once_mu_): per rule, the latest values seen in a small direct-mapped table; on a
  // split day also every value this thread has seen; the null value's key (UINT32_MAX: not yet).
  struct OnceSlot {
    uint64_t bits = 0;
    uint32_t key = 0;  // key + 1 (0: empty)
  };
  static constexpr unsigned kOnceSlotBits = 8;
  static constexpr size_t kOnceSlots = size_t{1} << kOnceSlotBits;
  std::vector<OnceSlot> once_recent;  // [rule * kOnceSlots + hash of the value's bits]
  std::vector<std::unordered_map<uint64_t, uint32_t>> once_keys;
  std::vector<uint32_t> once_null;
  bool concurrent = false;  // other threads evaluate rows at the same time
  // The passed fires and sends of the rows this thread settled, in row order, until the
  // History takes them (Runner::apply_day_logs).
  DayLog log;
  std::vector<std::pair<uint32_t, uint32_t>> fired;  // record_history's (rule, key) list
};

// What evaluate_rows needs of the day it evaluates.
struct Runner::DayPass {
  explicit DayPass(Frame& f) : frame(f) {}
  Frame& frame;
  Days d = 0;
  uint32_t day_key = 0;  // the dedupe value of `every`: the day
  const Column* optin[lang::kChannelCount] = {};
  bool settle_by_batch = false;
  size_t actions_per_row = 0;  // the actions of the day's rules: the most candidates a row can get
  std::optional<size_t> trace_row;
  std::map<size_t, RuleTrace>* trace_by_rule = nullptr;
  // A serial day's last stage: settles a row into the output; then, after each batch, flushes.
  std::function<void(uint32_t row)> settle_row;
  std::function<void(size_t end_row)> after_batch;
};


}  // namespace crm::engine
