// The rows of a day: one stage's rules over a range of rows (conditions per batch, then per row
// the gates of SPEC §6: dedupe, after, holdout, consent), and a day's rows split over threads,
// each a range of rows with its own evaluator and pools, whose actions and history come out the
// same as on one thread (docs/evaluator.md, "A day on several threads").
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>

#include "engine/run/run.hpp"
#include "engine/run/run_internal.hpp"

namespace crm::engine {

namespace {
// The most address space each of a thread's day pools reserves ahead (beyond it they grow as
// vectors do; 1M customers on two threads used ~10 MB of the largest).
constexpr size_t kPoolReserveBytes = size_t{64} << 20;
}  // namespace

void Runner::evaluate_rows(DayPass& pass, const std::vector<size_t>& stage, bool last_stage, size_t lo, size_t hi,
                           Scratch& w) {
  Frame& frame = pass.frame;
  const Days d = pass.d;
  // The traced customer's row (SIZE_MAX: none; a split day traces nobody).
  const size_t trace_at = !w.concurrent && pass.trace_row ? *pass.trace_row : SIZE_MAX;
  std::map<size_t, RuleTrace>& trace_by_rule = *pass.trace_by_rule;
  Evaluator& ev = *w.ev;
  std::vector<std::tuple<uint32_t, int64_t, bool>>& stage_tags = w.stage_tags;
  stage_tags.clear();
  std::vector<uint32_t> needs_today;
  const size_t pool_base = w.day_cands.size();  // earlier stages' candidates stay below it
  if (pass.settle_by_batch && pool_base == 0) {
    // The day's pool, reserved once for as many candidates as its rows can get (a batch's rows
    // when this is the only stage; up to kPoolReserveBytes): address space only, mapped as it
    // is written, never copied to grow (a first day at 1M customers copied 10 MB of it, into
    // fresh pages, where an estimate fell short).
    const size_t rows = last_stage ? std::min(hi - lo, kBatchRows) : hi - lo;
    // (reserve does nothing where the capacity is already there, as on later days.)
    w.day_cands.reserve(std::min(rows * pass.actions_per_row, kPoolReserveBytes / sizeof(PooledCandidate)));
    // The same for the day's log: a fire per rule and a send per send action at most, per row.
    const size_t records = std::min((hi - lo) * pass.actions_per_row, kPoolReserveBytes / sizeof(DayLog::Fire));
    w.log.fires.reserve(records);
    w.log.sends.reserve(records);
  }
  if (w.concurrent && last_stage && w.settled_rows.empty()) {  // the same for a split day's settled rows
    w.settled.reserve(std::min((hi - lo) * pass.actions_per_row, kPoolReserveBytes / sizeof(Candidate)));
    w.settled_rows.reserve(hi - lo);
    w.settled_end.reserve(hi - lo);
  }
  auto fired_today = [&](uint32_t rule, size_t row) { return (fired_today_[rule][row >> 6] >> (row & 63) & 1) != 0; };
  // A tag's id: interned on one thread; on a split day every tag action's name is interned
  // already (split_threads), so a lookup finds it without writing the pool.
  auto tag_id = [&](const std::string& name) { return w.concurrent ? frame.strings->find(name) : frame.strings->intern(name); };
  for (size_t b = lo; b < hi; b += kBatchRows) {
    ev.set_batch(b, std::min(hi, b + kBatchRows));
    for (size_t r : stage) {
      const auto ru = static_cast<uint32_t>(r);
      const lang::FlatRule& fr = program_.rules[r];
      const CompiledRule& cr = compiled_.rules()[r];
      const Truth* truth = ev.condition(r);
      Evaluator::Values key_values;
      bool have_key_values = false;
      const size_t nb = ev.batch_size();
      if (trace_at >= b && trace_at < b + nb) {
        trace_by_rule[r].condition = truth[trace_at - b];
        trace_by_rule[r].evaluated = true;
      }
      // Only the rows whose condition is TRUE: memchr skips the others many bytes at a time.
      static_assert(static_cast<uint8_t>(Truth::True) == 1);
      const auto* t8 = reinterpret_cast<const uint8_t*>(truth);
      // The history entries of these rows are scattered over a large array: ask for them all
      // first, so the gate below does not wait for memory one row at a time.
      for (const void* hit = std::memchr(t8, 1, nb); hit;) {
        size_t i = static_cast<size_t>(static_cast<const uint8_t*>(hit) - t8);
        history_.prefetch(ru, frame.customer_id[b + i]);
        hit = i + 1 < nb ? std::memchr(t8 + i + 1, 1, nb - i - 1) : nullptr;
      }
      for (size_t i = 0;; ++i) {
        const void* hit = i < nb ? std::memchr(t8 + i, 1, nb - i) : nullptr;
        if (!hit) break;
        i = static_cast<size_t>(static_cast<const uint8_t*>(hit) - t8);
        size_t row = b + i;
        bool tracing = trace_at == row;
        if (!facts_.exists_on(row, d)) continue;
        int64_t customer = frame.customer_id[row];
        bool blocked = false;
        std::string why;  // built only for the traced customer
        uint32_t key = 0;
        switch (fr.dedupe) {
          case lang::FlatRule::Dedupe::Once:
            key = once_key_;
            if (history_.fired_ever(ru, customer)) {
              blocked = true;
              if (tracing) why = "once: already fired on " + format_date(*history_.last_fired(ru, customer, d));
            }
            break;
          case lang::FlatRule::Dedupe::OncePer:
            if (!have_key_values) {  // the key's values for the batch, as the condition left them
              key_values = ev.current_values(cr.once_per);
              have_key_values = true;
            }
            key = once_per_key(ru, cr.once_per, key_values, ev, i, w);
            if (history_.fired_with_key(ru, customer, key)) {
              blocked = true;
              if (tracing) why = "once per: already fired for the value " + history_.key_text(key);
            }
            break;
          case lang::FlatRule::Dedupe::Every: {
            key = pass.day_key;
            auto last = history_.last_fired(ru, customer, d);
            if (last && d - *last < fr.every_days) {
              blocked = true;
              if (tracing) why = fmt::format("every {} days: last fired on {}", fr.every_days, format_date(*last));
            }
            break;
          }
        }
        needs_today.clear();
        for (size_t k = 0; k < after_[r].size() && !blocked; ++k) {
          const auto [target, days] = after_[r][k];
          if (target == UINT32_MAX) continue;
          const std::string& name = fr.after[k].rule;
          auto last = history_.last_fired(target, customer, d);
          bool today = fired_today(target, row);
          if (days < 0) {
            if (last) continue;
            if (today) {
              needs_today.push_back(target);
              continue;
            }
            blocked = true;
            if (tracing) why = "after " + name + ": it has not fired for this customer";
          } else {
            if (!last && today) last = d;
            if (!last || d - *last < days) {
              blocked = true;
              if (tracing)
                why = !last ? "after " + name + ": it has not fired for this customer"
                            : fmt::format("after {} {} days: it fired on {}", name, days, format_date(*last));
            } else if (*last == d) {
              needs_today.push_back(target);
            }
          }
        }
        if (blocked) {
          if (tracing) trace_by_rule[r].blocked = why;
          continue;
        }
        bool hold = fr.holdout_pct > 0 && held_out(fr.holdout_key, customer, fr.holdout_pct);
        std::vector<Candidate>& list = w.rule_scratch;
        list.clear();
        bool any_passed = add_rule_candidates(ru, frame, row, ev, i, d, key, hold, pass.optin, needs_today, list, w);
        if (!fr.writes_tags.empty())
          for (const Candidate& c : list)
            if (c.status == Status::Sent && (c.kind == lang::ActionKind::Tag || c.kind == lang::ActionKind::Untag))
              stage_tags.emplace_back(static_cast<uint32_t>(row), tag_id((*fr.actions)[c.action_index].name),
                                      c.kind == lang::ActionKind::Tag);
        for (Candidate& c : list) add_candidate(static_cast<uint32_t>(row), std::move(c), w);
        if (any_passed && after_target_[r]) fired_today_[r][row >> 6] |= uint64_t{1} << (row & 63);
      }
    }
    const size_t end = std::min(hi, b + kBatchRows);
    if (pass.settle_by_batch && last_stage) {
      for (size_t row = b; row < end; ++row) {
        if (row_head_[row] == 0) continue;
        if (!w.concurrent) {
          pass.settle_row(static_cast<uint32_t>(row));
          continue;
        }
        // A split day: caps, the history (into this thread's log) and the order now (they read
        // and write only this customer's); the tags and the output later, in row order
        // (record_settled).
        std::vector<Candidate>& list = take_row(static_cast<uint32_t>(row), w);
        allocate(list, frame.customer_id[row], d, w);
        record_history(frame.customer_id[row], d, list, w);
        output_order(list);
        w.settled_rows.push_back(static_cast<uint32_t>(row));
        w.settled.insert(w.settled.end(), list.begin(), list.end());
        w.settled_end.push_back(static_cast<uint32_t>(w.settled.size()));
      }
      w.day_cands.resize(pool_base);  // later rows' chains end below pool_base (see above)
      if (!w.concurrent) pass.after_batch(end);
    } else if (pass.settle_by_batch) {
      reserve_ahead(w.day_cands, w.day_cands.size() - pool_base, end - lo, hi - lo);
    }
  }
  if (w.concurrent && !last_stage) sort_tag_changes(stage_tags);  // here, on each thread, not after them
}

size_t Runner::split_threads(const Frame& frame, bool settle_by_batch, bool tracing,
                             const std::vector<std::vector<size_t>>& stages) const {
  if (threads_ <= 1 || !settle_by_batch || tracing || stages.empty() || compiled_.interns_strings()) return 1;
  const size_t n = std::min(threads_, frame.rows / min_rows_per_thread_);
  if (n <= 1) return 1;
  for (const auto& stage : stages)
    for (size_t r : stage) {
      const lang::FlatRule& fr = program_.rules[r];
      if (fr.writes_tags.empty() || !fr.actions) continue;
      for (const auto& act : *fr.actions)
        if ((act.kind == lang::ActionKind::Tag || act.kind == lang::ActionKind::Untag) && frame.strings->find(act.name) < 0)
          return 1;  // its first day interns it (ids in the order tags are first set)
    }
  return n;
}

void Runner::evaluate_split(DayPass& pass, const std::vector<size_t>& stage, bool first_stage, bool last_stage, size_t n) {
  const size_t rows = pass.frame.rows;
  if (first_stage || split_begin_.size() != n + 1) {
    // Ranges of whole batches (so no two threads write one word of the `after` bits), cut where
    // the shares say.
    const size_t batches = (rows + kBatchRows - 1) / kBatchRows;
    if (split_share_.size() != n) split_share_.assign(n, 1.0 / static_cast<double>(n));
    split_begin_.assign(n + 1, rows);
    double cut = 0;
    for (size_t k = 0; k < n; ++k) {
      split_begin_[k] = std::min(rows, static_cast<size_t>(cut * static_cast<double>(batches) + 0.5) * kBatchRows);
      cut += split_share_[k];
    }
    split_seconds_.assign(n, 0);
  }
  const std::vector<size_t>& begin = split_begin_;
  if (std::exception_ptr error = run_on_threads(n, [&, last_stage](size_t k) {
        const auto t0 = std::chrono::steady_clock::now();
        evaluate_rows(pass, stage, last_stage, begin[k], begin[k + 1], *scratch_[k]);
        split_seconds_[k] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }))
    std::rethrow_exception(error);
  if (!last_stage) return;
  // For the next day, each thread's share in proportion to its rows per second over this day's
  // stages, moved half way (one slow day does not swing the cut), never below a quarter of an
  // even share.
  std::vector<double> rate(n);
  double total = 0;
  for (size_t k = 0; k < n; ++k) {
    const double got = static_cast<double>(begin[k + 1] - begin[k]);
    rate[k] = got > 0 && split_seconds_[k] > 1e-6 ? got / split_seconds_[k] : 0;
    total += rate[k];
  }
  if (std::count(rate.begin(), rate.end(), 0.0) != 0) return;  // an empty range or no time: keep the shares
  const double floor = 0.25 / static_cast<double>(n);
  double sum = 0;
  for (size_t k = 0; k < n; ++k) sum += split_share_[k] = std::max(floor, 0.5 * split_share_[k] + 0.5 * rate[k] / total);
  for (double& s : split_share_) s /= sum;
}

void Runner::set_split_shares(std::vector<double> shares) {
  double sum = 0;
  for (double s : shares) {
    if (!(s > 0) || !std::isfinite(s)) return;
    sum += s;
  }
  if (shares.empty() || !std::isfinite(sum)) return;
  for (double& s : shares) s /= sum;
  split_share_ = std::move(shares);
}

void Runner::record_settled(Scratch& w, const Frame& frame, Days d, std::vector<ActionOut>& out,
                            const std::function<void()>& row_done) {
  uint32_t at = 0;
  for (size_t k = 0; k < w.settled_rows.size(); ++k) {
    const uint32_t row = w.settled_rows[k];
    const int64_t customer = frame.customer_id[row];
    std::span<const Candidate> list(w.settled.data() + at, w.settled_end[k] - at);
    at = w.settled_end[k];
    record_tags(row, list);
    for (const Candidate& c : list) make_action(out.emplace_back(), c, d, customer, w);
    row_done();
  }
}

}  // namespace crm::engine
