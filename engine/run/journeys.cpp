// The event half of a run (docs/events.md): `on EVENT` rules once per occurrence and journey
// steps once per instance, evaluated over an event frame and sent through the same gates as
// daily rules (dedupe, after, holdout, consent; caps happen in Runner::allocate).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "engine/run/journeys.hpp"
#include "engine/run/run_internal.hpp"

namespace crm::engine {
namespace {

const char* kOptIn[lang::kChannelCount] = {"email_opt_in", "line_opt_in", "sms_opt_in", "push_opt_in", "dm_opt_in"};

const char* truth_word(Truth t) { return t == Truth::True ? "true" : t == Truth::False ? "false" : "unknown"; }

// "instance purchase on 2026-03-01 (order:41): day 14 due 2026-03-15"
std::string instance_text(const JourneyInstance& in, const lang::FlatRule& fr) {
  return fmt::format("instance {} on {} ({}): day {} due {}", in.entry.type, format_date(in.entry.day), in.entry.key,
                     fr.journey_day, format_date(in.entry.day + static_cast<Days>(fr.journey_day)));
}

int64_t last_step_day(const lang::Journey& j) {
  int64_t m = 0;
  for (const auto& s : j.steps) m = std::max(m, s.day);
  return m;
}

}  // namespace

void Runner::add_event_candidates(Days d, const Frame& frame, const std::vector<Occurrence>& occurrences, bool batch,
                                  std::map<uint32_t, std::vector<Candidate>>& cands) {
  // Journeys of the script and their first step (whose compiled exit_when every step shares).
  std::vector<const lang::Journey*> journeys;
  std::unordered_map<const lang::Journey*, size_t> first_step;
  int64_t max_day = 0;
  bool any_event_rule = false;
  for (size_t r = 0; r < program_.rules.size(); ++r) {
    const auto& fr = program_.rules[r];
    if (fr.journey && first_step.emplace(fr.journey, r).second) {
      journeys.push_back(fr.journey);
      max_day = std::max(max_day, last_step_day(*fr.journey));
    }
    if (!fr.event.empty()) any_event_rule = true;
  }
  if (!any_event_rule) return;

  auto enter = [&](const Occurrence& o, std::vector<JourneyInstance>& into) {
    for (const auto* j : journeys)
      if (j->event == o.type) into.push_back({j, o, o.day + static_cast<Days>(last_step_day(*j)), false});
  };
  std::vector<JourneyInstance> realtime;
  std::vector<JourneyInstance>& instances = batch ? journeys_ : realtime;
  if (batch) {
    if (!journeys_loaded_ && !journeys.empty()) {
      // Instances entered before the first day: rebuilt from the store's facts (steps they already
      // sent are in the history under their entry key; exit_when is evaluated from today on).
      for (Days e = d - static_cast<Days>(max_day); e < d; ++e)
        for (const auto& o : occurrences_on(facts_, e)) enter(o, journeys_);
    }
    journeys_loaded_ = true;
    std::erase_if(journeys_, [&](const JourneyInstance& in) { return in.exited || in.last_day < d; });
  }
  for (const auto& o : occurrences) enter(o, instances);

  // Rows: the occurrences (event rules), then the live instances (journey steps and exits).
  std::vector<const Occurrence*> rows;
  for (const auto& o : occurrences) rows.push_back(&o);
  size_t first_instance = rows.size();
  // Only instances with something to do today: a step due, or an exit to evaluate.
  std::vector<size_t> instance_of;  // event frame row - first_instance -> index into instances
  for (size_t k = 0; k < instances.size(); ++k) {
    const JourneyInstance& in = instances[k];
    if (in.exited || in.entry.day > d) continue;
    bool due = compiled_.rules()[first_step[in.journey]].exit_when != kNoNode && d > in.entry.day;
    for (const auto& st : in.journey->steps) due = due || in.entry.day + st.day == d;
    if (!due) continue;
    instance_of.push_back(k);
    rows.push_back(&in.entry);
  }
  // Tracing (crm explain): each live instance of the traced customer, per step of its journey;
  // the steps due today get their values below. exit_truth: per instance_of entry.
  const bool tracing = trace_rules_ && trace_row_;
  std::vector<Truth> exit_truth(instance_of.size(), Truth::False);
  std::vector<uint8_t> exit_evaluated(instance_of.size(), 0);
  // The steps not due today of the traced customer's instances (after the exits were evaluated).
  auto trace_not_due = [&] {
    for (size_t k = 0; k < instances.size(); ++k) {
      const JourneyInstance& in = instances[k];
      if (in.entry.row != *trace_row_ || in.entry.day > d) continue;
      auto pos = std::find(instance_of.begin(), instance_of.end(), k);
      bool exit_known = pos != instance_of.end() && exit_evaluated[static_cast<size_t>(pos - instance_of.begin())];
      for (size_t r = 0; r < program_.rules.size(); ++r) {
        const lang::FlatRule& fr = program_.rules[r];
        if (fr.journey != in.journey || in.entry.day + static_cast<Days>(fr.journey_day) == d) continue;
        bool past = in.entry.day + static_cast<Days>(fr.journey_day) < d;
        std::string t = instance_text(in, fr);
        if (exit_known) t += std::string(", exit when ") + truth_word(exit_truth[static_cast<size_t>(pos - instance_of.begin())]);
        t += in.exited ? ": the instance exited" : past ? ": already past" : ": not today";
        (*trace_rules_)[r].instances.push_back(std::move(t));
      }
    }
  };
  if (rows.empty()) {
    if (tracing) trace_not_due();
    return;
  }
  Frame ef = build_event_frame(frame, rows, compiled_);
  const Column* optin[lang::kChannelCount];
  for (int c = 0; c < lang::kChannelCount; ++c) optin[c] = ef.column(kOptIn[c]);

  if (event_ev_) event_ev_->bind(ef);
  else event_ev_ = std::make_unique<Evaluator>(compiled_, ef);
  Evaluator& ev = *event_ev_;
  for (size_t b = 0; b < ef.rows; b += kBatchRows) {
    ev.set_batch(b, std::min(ef.rows, b + kBatchRows));
    // Exits first: an instance whose exit_when is TRUE on a day after its entry sends nothing more.
    for (size_t i = 0; i < ev.batch_size(); ++i) {
      size_t row = b + i;
      if (row < first_instance) continue;
      JourneyInstance& in = instances[instance_of[row - first_instance]];
      if (in.exited || d <= in.entry.day) continue;
      NodeId x = compiled_.rules()[first_step[in.journey]].exit_when;
      if (x != kNoNode && tracing) {
        exit_truth[row - first_instance] = ev.truth(x)[i];
        exit_evaluated[row - first_instance] = 1;
      }
      if (x != kNoNode && ev.truth(x)[i] == Truth::True) in.exited = true;
    }
    for (size_t r : graph_.rule_order) {
      const lang::FlatRule& fr = program_.rules[r];
      if (fr.event.empty()) continue;
      if ((fr.from && d < *fr.from) || (fr.until && d > *fr.until)) continue;
      const CompiledRule& cr = compiled_.rules()[r];
      std::vector<Truth> unless;  // copied: the next evaluation may reuse its registers
      if (fr.journey && cr.unless != kNoNode) {
        const Truth* u = ev.truth(cr.unless);
        unless.assign(u, u + ev.batch_size());
      }
      const Truth* truth = ev.condition(r);
      for (size_t i = 0; i < ev.batch_size(); ++i) {
        size_t row = b + i;
        const Occurrence& o = *rows[row];
        if (tracing && fr.journey && row >= first_instance && o.row == *trace_row_) {
          const size_t k = row - first_instance;
          const JourneyInstance& in = instances[instance_of[k]];
          if (in.journey == fr.journey && d == o.day + static_cast<Days>(fr.journey_day)) {
            std::string t = instance_text(in, fr) + ", condition " + truth_word(truth[i]);
            if (!unless.empty()) t += std::string(", unless ") + truth_word(unless[i]);
            if (exit_evaluated[k]) t += std::string(", exit when ") + truth_word(exit_truth[k]);
            if (in.exited) t += ": the instance exited";
            else if (truth[i] != Truth::True) t += ": the condition is not true";
            else if (!unless.empty() && unless[i] == Truth::True) t += ": skipped by unless";
            else if (history_.fired_with_key(static_cast<uint32_t>(r), o.customer, o.key)) t += ": already done for this instance";
            else t += ": due";
            (*trace_rules_)[r].instances.push_back(std::move(t));
          }
        }
        if (truth[i] != Truth::True) continue;
        std::string dedupe, blocked;
        uint32_t ru = static_cast<uint32_t>(r);
        if (fr.journey) {
          if (row < first_instance) continue;
          const JourneyInstance& in = instances[instance_of[row - first_instance]];
          if (in.journey != fr.journey || in.exited || d != o.day + fr.journey_day) continue;
          if (!unless.empty() && unless[i] == Truth::True) continue;
          dedupe = o.key;  // each instance's steps are distinct
          if (history_.fired_with_key(ru, o.customer, dedupe)) continue;
        } else {
          if (row >= first_instance || o.type != fr.event) continue;
          switch (fr.dedupe) {
            case lang::FlatRule::Dedupe::Once:  // per occurrence: the order or event id
              dedupe = o.key;
              if (history_.fired_with_key(ru, o.customer, dedupe)) blocked = "once";
              break;
            case lang::FlatRule::Dedupe::OncePer:
              dedupe = key_text(ev.value_at(cr.once_per, i));
              if (history_.fired_with_key(ru, o.customer, dedupe)) blocked = "once per";
              break;
            case lang::FlatRule::Dedupe::Every: {
              dedupe = format_date(d);
              auto last = history_.last_fired(ru, o.customer, d);
              if (last && d - *last < fr.every_days) blocked = "every";
              break;
            }
          }
          if (!blocked.empty()) continue;
        }
        // `after RULE [N days]`: against the history of earlier days and calls.
        bool waits = false;
        for (const auto& a : fr.after) {
          auto it = rule_index_.find(a.rule);
          if (it == rule_index_.end()) continue;
          auto last = history_.last_fired(it->second, o.customer, d);
          if (!last || (a.days >= 0 && d - *last < a.days)) waits = true;
        }
        if (waits) continue;
        bool hold = fr.holdout_pct > 0 && held_out(fr.holdout_key, o.customer, fr.holdout_pct);
        add_rule_candidates(ru, ef, row, ev, i, d, history_.intern_key(dedupe), hold, optin, {},
                            cands[static_cast<uint32_t>(o.row)], scratch(0));
      }
    }
  }
  if (tracing) trace_not_due();
}

std::vector<ActionOut> Runner::evaluate_occurrences(Days d, const Frame& frame, const std::vector<Occurrence>& occurrences) {
  apply_day_logs();  // the gates below read the history
  Scratch& w = scratch(0);
  clear_candidate_pools(w);
  std::map<uint32_t, std::vector<Candidate>> cands;
  add_event_candidates(d, frame, occurrences, false, cands);
  std::vector<ActionOut> out;
  for (auto& [row, list] : cands) {
    settle(row, facts_.customer_id[row], d, list, w);
    for (auto& c : list) make_action(out.emplace_back(), c, d, facts_.customer_id[row], w);
  }
  return out;
}

}  // namespace crm::engine
