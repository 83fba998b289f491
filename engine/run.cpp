// The day loop of a run: compiled conditions per batch of customers in rule-graph order, then
// per customer the gates of SPEC §6 (dedupe, after, holdout, consent, caps by priority), then
// the outbox (real run) or memory (dry run).
#include "engine/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "engine/attributes.hpp"
#include "engine/run_internal.hpp"
#include "engine/store.hpp"

namespace crm::engine {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

const char* kOptInColumn[lang::kChannelCount] = {"email_opt_in", "line_opt_in", "sms_opt_in", "push_opt_in",
                                                 "dm_opt_in"};

using TagChanges = std::unordered_map<uint32_t, std::vector<std::pair<int64_t, bool>>>;

// Rewrites the tags list column with `changes` applied (set: add when absent; unset: remove).
void apply_tag_changes(Column& tags, const TagChanges& changes) {
  if (changes.empty() || tags.list_offsets.empty()) return;
  size_t rows = tags.list_offsets.size() - 1;
  std::vector<uint32_t> offsets(rows + 1, 0);
  std::vector<int64_t> values;
  values.reserve(tags.list_values.size() + changes.size());
  std::vector<int64_t> scratch;
  for (size_t r = 0; r < rows; ++r) {
    offsets[r] = static_cast<uint32_t>(values.size());
    auto it = changes.find(static_cast<uint32_t>(r));
    const int64_t* b = tags.list_values.data() + tags.list_offsets[r];
    const int64_t* e = tags.list_values.data() + tags.list_offsets[r + 1];
    if (it == changes.end()) {
      values.insert(values.end(), b, e);
      continue;
    }
    scratch.assign(b, e);
    for (auto [tag, set] : it->second) {
      auto pos = std::find(scratch.begin(), scratch.end(), tag);
      if (set && pos == scratch.end()) scratch.push_back(tag);
      if (!set && pos != scratch.end()) scratch.erase(pos);
    }
    std::sort(scratch.begin(), scratch.end());
    values.insert(values.end(), scratch.begin(), scratch.end());
    if (!tags.valid.empty()) tags.valid[r] = 1;
  }
  offsets[rows] = static_cast<uint32_t>(values.size());
  tags.list_offsets = std::move(offsets);
  tags.list_values = std::move(values);
}

bool truthy(Truth t) { return t == Truth::True; }

}  // namespace

bool held_out(const std::string& key, int64_t customer, double pct) {
  if (pct <= 0) return false;
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(key);
  mix(":");
  mix(std::to_string(customer));
  return static_cast<double>(h % 10000) < pct * 100.0;
}

Runner::Runner(const lang::CheckedProgram& program, const RuleGraph& graph, const Program& compiled, const Facts& facts)
    : program_(program), graph_(graph), compiled_(compiled), facts_(facts) {
  campaign_of_rule_.assign(program.rules.size(), 0);
  graph_pos_.assign(program.rules.size(), SIZE_MAX);
  for (size_t i = 0; i < program.rules.size(); ++i) {
    rule_index_.emplace(program.rules[i].name, static_cast<uint32_t>(i));
    if (!program.rules[i].campaigns.empty()) {
      const std::string& c = program.rules[i].campaigns.back();
      auto [it, _] = campaign_ids_.emplace(c, static_cast<uint32_t>(campaign_ids_.size()));
      campaign_of_rule_[i] = it->second + 1;
    }
  }
  for (size_t k = 0; k < graph.rule_order.size(); ++k) graph_pos_[graph.rule_order[k]] = k;
  std::set<std::string> cols(compiled.required_columns().begin(), compiled.required_columns().end());
  for (const char* c : kOptInColumn) cols.insert(c);
  cols.insert("tags");
  for (const auto* m : program.messages) {
    if (!m->subject) continue;
    const std::string& s = *m->subject;
    for (size_t i = s.find('{'); i != std::string::npos; i = s.find('{', i + 1)) {
      size_t close = s.find('}', i);
      if (close == std::string::npos) break;
      cols.insert(s.substr(i + 1, close - i - 1));
    }
  }
  columns_.assign(cols.begin(), cols.end());
  cursor_ = std::make_unique<FrameCursor>(facts_, columns_);
}

void Runner::load_history_from_outbox() {
  // idem_key = rule|customer|dedupe|action index; the dedupe value sits between the second and
  // the last '|'.
  for (const auto& e : facts_.outbox) {
    auto it = rule_index_.find(e.rule);
    if (it == rule_index_.end()) continue;  // a rule no longer in the script
    std::string dedupe;
    size_t p1 = e.idem_key.find('|');
    size_t p2 = p1 == std::string::npos ? p1 : e.idem_key.find('|', p1 + 1);
    size_t p3 = e.idem_key.rfind('|');
    if (p2 != std::string::npos && p3 > p2) dedupe = e.idem_key.substr(p2 + 1, p3 - p2 - 1);
    history_.record_fire(it->second, e.customer_id, e.run_date, dedupe);
    const lang::Message* msg = e.action == "send" ? program_.find_message(e.target) : nullptr;
    if (e.action == "send" && !(msg && msg->transactional))
      if (auto ch = lang::channel_from_name(e.channel))  // the channel the send went out on
        history_.record_send(e.customer_id, e.run_date, *ch, campaign_of_rule_[it->second]);
  }
}

void Runner::allocate(std::vector<Candidate>& cands, int64_t customer, Days d) const {
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& c : cands) c.out.status = c.pre_status;
    // Sends compete for caps: higher priority first, then declaration order, then action order.
    std::vector<Candidate*> sends;
    for (auto& c : cands)
      if (c.out.kind == lang::ActionKind::Send && c.pre_status == Status::Sent && !c.transactional) sends.push_back(&c);
    std::stable_sort(sends.begin(), sends.end(), [](const Candidate* a, const Candidate* b) {
      if (a->out.priority != b->out.priority) return a->out.priority > b->out.priority;
      if (a->rule != b->rule) return a->rule < b->rule;
      return a->out.action_index < b->out.action_index;
    });
    std::vector<const Candidate*> allocated;
    for (Candidate* s : sends) {
      for (const auto& fl : program_.limits) {
        const lang::Limit& l = *fl.limit;
        std::optional<uint32_t> campaign;
        if (!fl.campaign.empty()) {
          auto it = campaign_ids_.find(fl.campaign);
          if (it == campaign_ids_.end() || campaign_of_rule_[s->rule] != it->second + 1) continue;
          campaign = it->second + 1;
        }
        if (l.channel && s->out.channel != l.channel) continue;
        int used = history_.sends_in_window(customer, d, l.days, l.channel, campaign);
        for (const Candidate* a : allocated)
          if ((!l.channel || a->out.channel == l.channel) && (!campaign || campaign_of_rule_[a->rule] == *campaign)) ++used;
        if (used >= l.count) {
          s->out.status = Status::BlockedCap;
          break;
        }
      }
      if (s->out.status == Status::Sent) allocated.push_back(s);
    }
    // A rule waiting (after) for a rule that fired only today does not fire when caps left that
    // rule with no passed action; drop it and allocate again.
    std::set<uint32_t> fired;
    for (const auto& c : cands)
      if (c.out.status == Status::Sent) fired.insert(c.rule);
    for (auto it = cands.begin(); it != cands.end();) {
      bool ok = std::all_of(it->needs_today.begin(), it->needs_today.end(), [&](uint32_t r) { return fired.count(r) > 0; });
      if (!ok) {
        it = cands.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
  }
}

bool Runner::add_rule_candidates(uint32_t r, const Frame& frame, size_t row, Evaluator& ev, size_t i, Days d,
                                 const std::string& dedupe, bool hold, const Column* const* optin,
                                 const std::vector<uint32_t>& needs_today, std::vector<Candidate>& list) const {
  const lang::FlatRule& fr = program_.rules[r];
  const CompiledRule& cr = compiled_.rules()[r];
  bool any_passed = false;
  for (size_t k = 0; k < fr.actions->size(); ++k) {
    const lang::Action& act = (*fr.actions)[k];
    Candidate c;
    c.rule = r;
    c.needs_today = needs_today;
    ActionOut& o = c.out;
    o.date = d;
    o.customer = frame.customer_id[row];
    o.rule = r;
    o.rule_name = fr.name;
    o.kind = act.kind;
    o.dedupe = dedupe;
    o.action_index = static_cast<uint32_t>(k);
    o.priority = fr.priority;
    Status st = hold ? Status::HeldOut : Status::Sent;
    switch (act.kind) {
      case lang::ActionKind::Send: {
        const lang::Message* m = program_.find_message(act.name);
        o.target = act.name;
        o.channel = act.channel ? act.channel : (m ? m->channel : std::nullopt);
        if (m) {
          c.transactional = m->transactional;
          o.cost = m->cost.value_or(0);
          if (m->subject) o.subject = render_subject(*m->subject, frame, row);
        }
        if (!hold && !(m && m->transactional)) {
          const Column* oc = o.channel ? optin[static_cast<int>(*o.channel)] : nullptr;
          bool consent = oc && oc->valid[row] && oc->i64[row] == 1;
          if (!consent) st = Status::BlockedConsent;
        }
        break;
      }
      case lang::ActionKind::Points: {
        Value v = ev.value_at(cr.points[k], i);
        if (v.is_null()) continue;  // a null amount grants nothing
        int64_t n = v.kind == Value::Kind::Decimal ? std::llround(v.d) : v.i;
        o.target = std::to_string(n);
        break;
      }
      default:
        o.target = act.name;
        break;
    }
    o.status = st;
    c.pre_status = st;
    if (st == Status::Sent) any_passed = true;
    list.push_back(std::move(c));
  }
  return any_passed;
}

void Runner::settle(uint32_t row, int64_t customer, Days d, std::vector<Candidate>& list) {
  allocate(list, customer, d);
  std::set<std::pair<uint32_t, std::string>> fired_rules;  // (rule, dedupe): event rules fire per occurrence
  for (const auto& c : list) {
    if (c.out.status != Status::Sent) continue;
    if (fired_rules.insert({c.rule, c.out.dedupe}).second) history_.record_fire(c.rule, customer, d, c.out.dedupe);
    if (c.out.kind == lang::ActionKind::Send && c.out.channel && !c.transactional)
      history_.record_send(customer, d, *c.out.channel, campaign_of_rule_[c.rule]);
    if (c.out.kind == lang::ActionKind::Tag || c.out.kind == lang::ActionKind::Untag) {
      tag_overlay_[row].push_back({facts_.strings->intern(c.out.target), c.out.kind == lang::ActionKind::Tag});
      overlay_dirty_.push_back(row);
    }
  }
  std::stable_sort(list.begin(), list.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.rule != b.rule) return graph_pos_[a.rule] < graph_pos_[b.rule];
    return a.out.action_index < b.out.action_index;
  });
}

std::vector<ActionOut> Runner::evaluate_day(Days d, std::optional<int64_t> trace_customer, std::vector<RuleTrace>* traces) {
  auto t0 = Clock::now();
  Frame& frame = cursor_->advance(d, tag_overlay_, overlay_dirty_);
  overlay_dirty_.clear();
  // The day's provisional tag changes (between stages) go into a copy of the tags column; the
  // cursor's own column gets the settled ones at the next advance.
  std::optional<Column> saved_tags;
  last_frame_ms_ = ms_since(t0);
  last_rows_ = frame.rows;
  auto t1 = Clock::now();

  std::optional<size_t> trace_row;
  if (trace_customer) trace_row = facts_.row_of(*trace_customer);
  std::map<size_t, RuleTrace> trace_by_rule;

  // The day's rules in graph order: daily rules that are live today.
  std::vector<size_t> order;
  for (size_t r : graph_.rule_order) {
    const auto& fr = program_.rules[r];
    bool daily = fr.event.empty() && !fr.journey;
    bool live = (!fr.from || d >= *fr.from) && (!fr.until || d <= *fr.until);
    if (trace_row) {
      RuleTrace& t = trace_by_rule[r];
      t.rule = r;
      t.skipped = !daily;
      if (daily && !live)
        t.blocked = fr.from && d < *fr.from ? "not live yet: from " + format_date(*fr.from)
                                            : "no longer live: until " + format_date(*fr.until);
    }
    if (daily && live) order.push_back(r);
  }
  // Stages: a rule that reads tags starts a new stage when an earlier rule of the current stage
  // writes tags; between stages the written tags are folded into the frame.
  auto reads_tags = [&](size_t r) {
    NodeId n = compiled_.rules()[r].condition;
    return n != kNoNode && compiled_.nodes()[n].tags_dependent;
  };
  std::vector<std::vector<size_t>> stages(1);
  bool stage_writes = false;
  for (size_t r : order) {
    if (stage_writes && reads_tags(r)) {
      stages.emplace_back();
      stage_writes = false;
    }
    stages.back().push_back(r);
    if (!program_.rules[r].writes_tags.empty()) stage_writes = true;
  }

  std::map<uint32_t, std::vector<Candidate>> cands;  // by customer row
  std::set<std::pair<uint32_t, uint32_t>> fired_today;  // (rule, row), provisional
  const Column* optin[lang::kChannelCount];
  for (int c = 0; c < lang::kChannelCount; ++c) optin[c] = frame.column(kOptInColumn[c]);

  Evaluator ev(compiled_, frame);
  for (const auto& stage : stages) {
    TagChanges stage_tags;
    for (size_t b = 0; b < frame.rows; b += kBatchRows) {
      ev.set_batch(b, std::min(frame.rows, b + kBatchRows));
      for (size_t r : stage) {
        const lang::FlatRule& fr = program_.rules[r];
        const CompiledRule& cr = compiled_.rules()[r];
        const Truth* truth = ev.condition(r);
        for (size_t i = 0; i < ev.batch_size(); ++i) {
          size_t row = b + i;
          bool tracing = trace_row && *trace_row == row;
          if (tracing) {
            trace_by_rule[r].condition = truth[i];
            trace_by_rule[r].evaluated = true;
          }
          if (!truthy(truth[i]) || !facts_.exists_on(row, d)) continue;
          int64_t customer = frame.customer_id[row];
          std::string blocked, dedupe;
          switch (fr.dedupe) {
            case lang::FlatRule::Dedupe::Once:
              dedupe = "once";
              if (history_.fired_ever(static_cast<uint32_t>(r), customer))
                blocked = "once: already fired on " + format_date(*history_.last_fired(static_cast<uint32_t>(r), customer, d));
              break;
            case lang::FlatRule::Dedupe::OncePer:
              dedupe = key_text(ev.value_at(cr.once_per, i));
              if (history_.fired_with_key(static_cast<uint32_t>(r), customer, dedupe))
                blocked = "once per: already fired for the value " + dedupe;
              break;
            case lang::FlatRule::Dedupe::Every: {
              dedupe = format_date(d);
              auto last = history_.last_fired(static_cast<uint32_t>(r), customer, d);
              if (last && d - *last < fr.every_days)
                blocked = fmt::format("every {} days: last fired on {}", fr.every_days, format_date(*last));
              break;
            }
          }
          std::vector<uint32_t> needs_today;
          for (const auto& a : fr.after) {
            if (!blocked.empty()) break;
            auto it = rule_index_.find(a.rule);
            if (it == rule_index_.end()) continue;
            auto last = history_.last_fired(it->second, customer, d);
            bool today = fired_today.count({it->second, static_cast<uint32_t>(row)}) > 0;
            if (a.days < 0) {
              if (last) continue;
              if (today) {
                needs_today.push_back(it->second);
                continue;
              }
              blocked = "after " + a.rule + ": it has not fired for this customer";
            } else {
              if (!last && today) last = d;
              if (!last) blocked = "after " + a.rule + ": it has not fired for this customer";
              else if (d - *last < a.days)
                blocked = fmt::format("after {} {} days: it fired on {}", a.rule, a.days, format_date(*last));
              else if (*last == d)
                needs_today.push_back(it->second);
            }
          }
          if (!blocked.empty()) {
            if (tracing) trace_by_rule[r].blocked = blocked;
            continue;
          }
          bool hold = fr.holdout_pct > 0 && held_out(fr.holdout_key, customer, fr.holdout_pct);
          auto& list = cands[static_cast<uint32_t>(row)];
          size_t first = list.size();
          bool any_passed =
              add_rule_candidates(static_cast<uint32_t>(r), frame, row, ev, i, d, dedupe, hold, optin, needs_today, list);
          for (size_t k = first; k < list.size(); ++k) {
            const ActionOut& o = list[k].out;
            if (o.status == Status::Sent && (o.kind == lang::ActionKind::Tag || o.kind == lang::ActionKind::Untag))
              stage_tags[static_cast<uint32_t>(row)].push_back(
                  {frame.strings->intern(o.target), o.kind == lang::ActionKind::Tag});
          }
          if (any_passed) fired_today.insert({static_cast<uint32_t>(r), static_cast<uint32_t>(row)});
        }
      }
    }
    if (!stage_tags.empty()) {
      auto it = frame.columns.find("tags");
      if (it != frame.columns.end()) {
        if (!saved_tags) saved_tags = it->second;
        apply_tag_changes(it->second, stage_tags);
      }
    }
  }

  add_event_candidates(d, frame, occurrences_on(facts_, d), true, cands);  // run_events.cpp

  // Per customer: caps, then the final statuses into the history and the output.
  std::vector<ActionOut> out;
  for (auto& [row, list] : cands) {
    settle(row, frame.customer_id[row], d, list);
    for (auto& c : list) {
      if (trace_row && *trace_row == row) {
        RuleTrace& t = trace_by_rule[c.rule];
        t.actions.push_back(c.out);
        if (c.out.status == Status::Sent) t.fired = true;
      }
      out.push_back(std::move(c.out));
    }
  }
  last_eval_ms_ = ms_since(t1);

  if (traces && trace_row) {
    Evaluator explain_ev(compiled_, frame);
    for (size_t r : graph_.rule_order) {
      RuleTrace& t = trace_by_rule[r];
      if (!t.skipped) t.explanation = explain_ev.explain_rule(r, *trace_row);
      traces->push_back(std::move(t));
    }
  }
  if (saved_tags) frame.columns["tags"] = std::move(*saved_tags);
  return out;
}

void run_days(Runner& runner, Store* store, const RunOptions& options) {
  for (Days d = options.from; d <= options.to; ++d) {
    std::vector<ActionOut> actions = runner.evaluate_day(d);
    size_t written = 0;
    if (!options.dry_run && store) {
      std::vector<OutboxRow> rows;
      std::vector<TagChange> tags;
      for (const auto& a : actions) {
        if (a.status != Status::Sent) continue;
        OutboxRow r;
        r.customer_id = a.customer;
        r.rule = a.rule_name;
        r.action = lang::action_name(a.kind);
        r.target = a.target;
        if (a.channel) r.channel = lang::channel_name(*a.channel);
        r.payload = payload_json(a);
        r.idem_key = idem_key(a);
        rows.push_back(std::move(r));
        if (a.kind == lang::ActionKind::Tag || a.kind == lang::ActionKind::Untag)
          tags.push_back({a.customer, a.target, a.kind == lang::ActionKind::Tag});
      }
      store->begin_run(d);
      written = store->write_actions(d, rows, tags, /*complete_day=*/true);
    }
    if (options.on_action)
      for (const auto& a : actions) options.on_action(a);
    if (options.on_day_done) options.on_day_done(d, written);
  }
}

}  // namespace crm::engine
