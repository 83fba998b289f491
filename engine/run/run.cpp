// The day loop of a run: compiled conditions per batch of customers in rule-graph order, then
// per customer the gates of SPEC §6 (dedupe, after, holdout, consent, caps by priority), then
// the outbox (real run) or memory (dry run).
#include "lang/int_range.hpp"
#include "engine/run/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <map>
#include <cstring>
#include <set>
#include <tuple>
#include <unordered_set>

#include "engine/frame/attributes.hpp"
#include "engine/run/run_internal.hpp"
#include "engine/run/outbox.hpp"
#include "engine/run/stage_plan.hpp"
#include "engine/store/store.hpp"

namespace crm::engine {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

namespace {

const char* kOptInColumn[lang::kChannelCount] = {"email_opt_in", "line_opt_in", "sms_opt_in", "push_opt_in",
                                                 "dm_opt_in"};

// The rows a stage's tag changes touch, with their new lists (sorted).
struct TagRewrite {
  std::vector<uint32_t> rows, off{0};
  std::vector<int64_t> vals;
};

// The tag changes, (row, tag, set?) in the order made, applied to the lists of `tags` (set: add
// when absent; unset: remove) for the rows they touch.
TagRewrite tag_rewrite(const Column& tags, std::vector<std::tuple<uint32_t, int64_t, bool>>& changes) {
  std::stable_sort(changes.begin(), changes.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  TagRewrite w;
  std::vector<int64_t>& vals = w.vals;
  for (size_t k = 0; k < changes.size();) {
    const uint32_t r = std::get<0>(changes[k]);
    const size_t start = vals.size();
    vals.insert(vals.end(), tags.list_values.begin() + tags.list_offsets[r], tags.list_values.begin() + tags.list_offsets[r + 1]);
    for (; k < changes.size() && std::get<0>(changes[k]) == r; ++k) {
      auto [row, tag, set] = changes[k];
      auto pos = std::find(vals.begin() + static_cast<std::ptrdiff_t>(start), vals.end(), tag);
      if (set && pos == vals.end()) vals.push_back(tag);
      if (!set && pos != vals.end()) vals.erase(pos);
    }
    std::sort(vals.begin() + static_cast<std::ptrdiff_t>(start), vals.end());
    w.rows.push_back(r);
    w.off.push_back(static_cast<uint32_t>(vals.size()));
  }
  return w;
}

// Applies a stage's tag changes to the tags list column in place, rewriting only the rows they touch.
void apply_tag_changes(Column& tags, std::vector<std::tuple<uint32_t, int64_t, bool>>& changes) {
  if (changes.empty() || tags.list_offsets.empty()) return;
  TagRewrite w = tag_rewrite(tags, changes);
  if (!tags.valid.empty())
    for (uint32_t r : w.rows) tags.valid[r] = 1;
  replace_lists(tags, w.rows, w.off, w.vals);
}

// The same into `to` from `from`, which stays as it was (the day's column, restored after the
// day): the list arrays are written once, merged with the changes, instead of copied and then
// rewritten.
void tag_changes_into(const Column& from, Column& to, std::vector<std::tuple<uint32_t, int64_t, bool>>& changes) {
  to.type = from.type;
  to.i64 = from.i64;
  to.f64 = from.f64;
  to.valid = from.valid;
  if (changes.empty() || from.list_offsets.empty()) {
    to.list_offsets = from.list_offsets;
    to.list_values = from.list_values;
    return;
  }
  TagRewrite w = tag_rewrite(from, changes);
  if (!to.valid.empty())
    for (uint32_t r : w.rows) to.valid[r] = 1;
  const size_t n = from.list_offsets.size() - 1;
  to.list_offsets.assign(n + 1, 0);
  to.list_values.clear();
  to.list_values.reserve(from.list_values.size() + w.vals.size());
  size_t next = 0;  // the first row not yet copied
  auto copy_rows = [&](size_t end_row) {  // rows [next, end_row) unchanged; also offset end_row
    const int64_t shift = static_cast<int64_t>(to.list_values.size()) - from.list_offsets[next];
    for (size_t k = next; k <= end_row && k <= n; ++k) to.list_offsets[k] = static_cast<uint32_t>(from.list_offsets[k] + shift);
    to.list_values.insert(to.list_values.end(), from.list_values.begin() + from.list_offsets[next],
                          from.list_values.begin() + from.list_offsets[end_row]);
  };
  for (size_t i = 0; i < w.rows.size(); ++i) {
    copy_rows(w.rows[i]);
    to.list_values.insert(to.list_values.end(), w.vals.begin() + w.off[i], w.vals.begin() + w.off[i + 1]);
    next = w.rows[i] + 1;
  }
  copy_rows(n);
  to.list_offsets[n] = static_cast<uint32_t>(to.list_values.size());
}


// Before a growing vector copies itself: reserves for what the rows [0, done) added to it
// (`added`), extrapolated to all `rows` (customers are spread evenly over the rows), so it rarely
// grows by copying and its pages are written once. A large reservation is a mapping of its own
// (above glibc's largest mmap threshold, 32 MiB), whose pages never written are never mapped:
// it gets a wide margin; a smaller one, which comes from the heap, a narrow one.
template <class T>
void reserve_ahead(std::vector<T>& v, size_t added, size_t done, size_t rows) {
  if (done >= rows || done == 0) return;
  const size_t base = v.size() - added;
  const size_t expect = base + added / done * rows + added % done * rows / done;
  if (v.capacity() >= expect + expect / 8 + kBatchRows) return;
  const bool mapped = expect * sizeof(T) >= (size_t{64} << 20);
  v.reserve(std::max(expect + (mapped ? expect : expect / 4) + kBatchRows, v.capacity() + v.capacity() / 2));
}

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
  history_ = History(History::dense_limit_for(facts.rows()));
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
    for (const auto& p : lang::subject_placeholders(*m->subject)) cols.insert(p.name);  // {name|'text'}: "name"
  }
  columns_.assign(cols.begin(), cols.end());
  for (const auto& c : columns_)  // "recommended" (the subject placeholder) sorts before "recommended(N)"
    if (c.rfind("recommended", 0) == 0 && recommended_column_.empty()) recommended_column_ = c;
  cursor_ = std::make_unique<FrameCursor>(facts_, columns_);
  stage_plan_ = std::make_unique<StagePlan>(program, graph, compiled);

  // Names resolved once, so the per-customer path compares integers.
  const size_t n = program.rules.size();
  after_.resize(n);
  after_target_.assign(n, 0);
  action_message_.resize(n);
  once_per_keys_.resize(n);
  once_per_null_.assign(n, UINT32_MAX);
  for (size_t i = 0; i < n; ++i) {
    const lang::FlatRule& fr = program.rules[i];
    for (const auto& a : fr.after) {
      auto it = rule_index_.find(a.rule);
      uint32_t target = it == rule_index_.end() ? UINT32_MAX : it->second;
      after_[i].push_back({target, a.days});
      if (target != UINT32_MAX) after_target_[target] = 1;
    }
    if (fr.actions)
      for (const auto& act : *fr.actions)
        action_message_[i].push_back(act.kind == lang::ActionKind::Send ? program.find_message(act.name) : nullptr);
    if (!fr.event.empty()) any_event_rule_ = true;
  }
  for (const auto& fl : program.limits) {
    if (fl.campaign.empty()) {
      limit_campaign_.push_back(0);
      continue;
    }
    auto it = campaign_ids_.find(fl.campaign);
    limit_campaign_.push_back(it == campaign_ids_.end() ? UINT32_MAX : it->second + 1);
  }
  once_key_ = history_.intern_key("once");
}

Runner::~Runner() = default;

void Runner::reset() {
  // O(what the last evaluation recorded): the allocations (history arrays, frame columns, the
  // evaluator's registers) are kept, so a reused Runner costs no more than its evaluation.
  history_.clear_records();
  if (history_.key_count() > kMaxKeptKeys) {  // keep the interned keys, unless they pile up
    history_ = History(History::dense_limit_for(facts_.rows()));
    once_key_ = history_.intern_key("once");
    for (auto& m : once_per_keys_) m.clear();  // their ids were interned in the old history
    once_per_null_.assign(once_per_null_.size(), UINT32_MAX);
  }
  if (points_texts_.size() > kMaxKeptKeys) points_texts_.clear();
  tag_overlay_.clear();
  overlay_dirty_.clear();
  cursor_->restart();
  journeys_.clear();
  journeys_loaded_ = false;
}

void Runner::allocate(std::vector<Candidate>& cands, int64_t customer, Days d) {
  bool any_needs = false;
  for (const auto& c : cands) any_needs = any_needs || c.needs_count != 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& c : cands) c.status = c.pre_status;
    // Sends compete for caps: higher priority first, then declaration order, then action order.
    std::vector<Candidate*>& sends = sends_scratch_;
    sends.clear();
    if (!program_.limits.empty())
      for (auto& c : cands)
        if (c.kind == lang::ActionKind::Send && c.pre_status == Status::Sent && !c.transactional) sends.push_back(&c);
    if (sends.size() > 1)
      std::stable_sort(sends.begin(), sends.end(), [&](const Candidate* a, const Candidate* b) {
        const int64_t pa = program_.rules[a->rule].priority, pb = program_.rules[b->rule].priority;
        if (pa != pb) return pa > pb;
        if (a->rule != b->rule) return a->rule < b->rule;
        return a->action_index < b->action_index;
      });
    std::vector<const Candidate*>& allocated = allocated_scratch_;
    allocated.clear();
    for (Candidate* s : sends) {
      for (size_t li = 0; li < program_.limits.size(); ++li) {
        const lang::Limit& l = *program_.limits[li].limit;
        std::optional<uint32_t> campaign;
        if (limit_campaign_[li] != 0) {  // a campaign's limit: only its rules' sends
          if (limit_campaign_[li] == UINT32_MAX || campaign_of_rule_[s->rule] != limit_campaign_[li]) continue;
          campaign = limit_campaign_[li];
        }
        if (l.channel && s->channel != l.channel) continue;
        int used = history_.sends_in_window(customer, d, l.days, l.channel, campaign);
        for (const Candidate* a : allocated)
          if ((!l.channel || a->channel == l.channel) && (!campaign || campaign_of_rule_[a->rule] == *campaign)) ++used;
        if (used >= l.count) {
          s->status = Status::BlockedCap;
          break;
        }
      }
      if (s->status == Status::Sent) allocated.push_back(s);
    }
    if (!any_needs) break;
    // A rule waiting (after) for a rule that fired only today does not fire when caps left that
    // rule with no passed action; drop it and allocate again.
    auto fired = [&](uint32_t r) {
      return std::any_of(cands.begin(), cands.end(), [&](const Candidate& c) { return c.rule == r && c.status == Status::Sent; });
    };
    std::vector<uint8_t> keep(cands.size(), 1);
    for (size_t k = 0; k < cands.size(); ++k)
      for (uint32_t n = 0; n < cands[k].needs_count; ++n)
        if (!fired(needs_pool_[cands[k].needs_at + n])) keep[k] = 0;
    size_t w = 0;
    for (size_t k = 0; k < cands.size(); ++k) {
      if (!keep[k]) {
        changed = true;
        continue;
      }
      if (w != k) cands[w] = std::move(cands[k]);
      ++w;
    }
    cands.resize(w, Candidate{});
  }
}

bool Runner::add_rule_candidates(uint32_t r, const Frame& frame, size_t row, Evaluator& ev, size_t i, Days d, uint32_t key,
                                 bool hold, const Column* const* optin, const std::vector<uint32_t>& needs_today,
                                 std::vector<Candidate>& list) {
  (void)d;
  const lang::FlatRule& fr = program_.rules[r];
  const CompiledRule& cr = compiled_.rules()[r];
  bool any_passed = false;
  uint32_t needs_at = 0;  // the rules this rule waits for, once in needs_pool_ for all its actions
  if (!needs_today.empty()) {
    needs_at = static_cast<uint32_t>(needs_pool_.size());
    needs_pool_.insert(needs_pool_.end(), needs_today.begin(), needs_today.end());
  }
  for (size_t k = 0; k < fr.actions->size(); ++k) {
    const lang::Action& act = (*fr.actions)[k];
    int64_t points = 0;
    if (act.kind == lang::ActionKind::Points) {
      Value v = ev.value_at(cr.points[k], i);
      if (v.is_null()) continue;  // a null amount grants nothing
      if (v.kind == Value::Kind::Decimal) {
        auto p = lang::rounded_int64(v.d);
        if (!p) continue;  // out of int64's range: null (SPEC §4), which grants nothing
        points = *p;
      } else {
        points = v.i;
      }
      if (points < 0) {  // a negative grant would take points away: skipped, counted for a warning
        negative_points_skipped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    Candidate& c = list.emplace_back();
    c.rule = r;
    c.key = key;
    c.action_index = static_cast<uint32_t>(k);
    c.kind = act.kind;
    if (act.kind == lang::ActionKind::Points) {
      points_pool_.push_back(points);
      c.payload = static_cast<uint32_t>(points_pool_.size());
    }
    c.needs_at = needs_at;
    c.needs_count = static_cast<uint32_t>(needs_today.size());
    Status st = hold ? Status::HeldOut : Status::Sent;
    if (act.kind == lang::ActionKind::Send) {
      const lang::Message* m = action_message_[r][k];
      c.channel = act.channel ? act.channel : (m ? m->channel : std::nullopt);
      if (m) c.transactional = m->transactional;
      if (!hold && !(m && m->transactional)) {
        const Column* oc = c.channel ? optin[static_cast<int>(*c.channel)] : nullptr;
        bool consent = oc && oc->valid[row] && oc->i64[row] == 1;
        if (!consent) st = Status::BlockedConsent;
      }
      // The subject goes only into the outbox payload of a passed send: not rendered for a send
      // already held out or blocked (caps never turn a blocked one into a passed one).
      Payload* payload = nullptr;
      auto the_payload = [&]() -> Payload& {
        if (!payload) {
          payloads_.emplace_back();
          c.payload = static_cast<uint32_t>(payloads_.size());
          payload = &payloads_.back();
        }
        return *payload;
      };
      if (m && m->subject && render_subjects_ && st == Status::Sent) {
        const auto& defs = compiled_.subject_nodes();
        the_payload().subject = render_subject(*m->subject, frame, row, facts_.money_digits, [&](const std::string& name) -> std::optional<Value> {
          auto it = defs.find(name);
          if (it == defs.end()) return std::nullopt;
          return ev.value_at(it->second, i);
        });
      }
      // Likewise the recommended(N) SKUs, for the delivery tool (docs/lifetime.md).
      if (!recommended_column_.empty() && render_subjects_ && st == Status::Sent)
        if (const Column* rc = frame.column(recommended_column_))
          for (uint32_t j = rc->list_offsets[row]; j < rc->list_offsets[row + 1]; ++j)
            the_payload().recommended.emplace_back(frame.strings->get(rc->list_values[j]));
    }
    c.status = st;
    c.pre_status = st;
    if (st == Status::Sent) any_passed = true;
  }
  return any_passed;
}

void Runner::clear_candidate_pools() {
  static_assert(std::is_trivially_copyable_v<Candidate>);  // pooled and moved as plain bytes
  payloads_.clear();
  points_pool_.clear();
  needs_pool_.clear();
}

ActionOut Runner::make_action(const Candidate& c, Days d, int64_t customer) {
  const lang::FlatRule& fr = program_.rules[c.rule];
  ActionOut o;
  o.date = d;
  o.customer = customer;
  o.rule = c.rule;
  o.rule_name = fr.name;
  o.kind = c.kind;
  if (c.kind == lang::ActionKind::Points) {
    const int64_t points = points_pool_[c.payload - 1];
    auto [it, added] = points_texts_.try_emplace(points);  // a node: the text stays where it is
    if (added) it->second = std::to_string(points);
    o.target = it->second;
  } else {
    o.target = (*fr.actions)[c.action_index].name;
  }
  o.channel = c.channel;
  o.status = c.status;
  o.dedupe = history_.key_text(c.key);
  o.action_index = c.action_index;
  if (c.kind == lang::ActionKind::Send)
    if (const lang::Message* m = action_message_[c.rule][c.action_index]) o.cost = m->cost.value_or(0);
  if (c.payload != 0 && c.kind == lang::ActionKind::Send) o.payload = std::make_shared<const ActionPayload>(std::move(payloads_[c.payload - 1]));
  o.transactional = c.transactional;
  return o;
}

void Runner::settle(uint32_t row, int64_t customer, Days d, std::vector<Candidate>& list) {
  allocate(list, customer, d);
  // (rule, dedupe key) fired: event rules fire once per occurrence, so a rule may fire twice.
  std::vector<std::pair<uint32_t, uint32_t>>& fired_rules = fired_scratch_;
  fired_rules.clear();
  for (const auto& c : list) {
    if (c.status != Status::Sent) continue;
    std::pair<uint32_t, uint32_t> rk{c.rule, c.key};
    if (std::find(fired_rules.begin(), fired_rules.end(), rk) == fired_rules.end()) {
      fired_rules.push_back(rk);
      history_.record_fire(c.rule, customer, d, c.key);
    }
    if (c.kind == lang::ActionKind::Send && c.channel && !c.transactional)
      history_.record_send(customer, d, *c.channel, campaign_of_rule_[c.rule]);
    if (c.kind == lang::ActionKind::Tag || c.kind == lang::ActionKind::Untag) {
      if (tag_overlay_.size() <= row) tag_overlay_.resize(std::max<size_t>(facts_.rows(), row + 1));
      tag_overlay_[row].push_back(
          {facts_.strings->intern((*program_.rules[c.rule].actions)[c.action_index].name), c.kind == lang::ActionKind::Tag});
      overlay_dirty_.push_back(row);
    }
  }
  // Output order: rule graph order, then action order (a stable insertion sort: lists are short).
  auto before = [&](const Candidate& a, const Candidate& b) {
    if (a.rule != b.rule) return graph_pos_[a.rule] < graph_pos_[b.rule];
    return a.action_index < b.action_index;
  };
  for (size_t k = 1; k < list.size(); ++k) {
    if (!before(list[k], list[k - 1])) continue;
    Candidate c = std::move(list[k]);
    size_t j = k;
    for (; j > 0 && before(c, list[j - 1]); --j) list[j] = std::move(list[j - 1]);
    list[j] = std::move(c);
  }
}

uint32_t Runner::once_per_key(uint32_t r, NodeId node, const Evaluator::Values& v, Evaluator& ev, size_t i) {
  if (!v.valid[i]) {
    if (once_per_null_[r] == UINT32_MAX) once_per_null_[r] = history_.intern_key(key_text(ev.value_at(node, i)));
    return once_per_null_[r];
  }
  uint64_t bits = 0;
  switch (v.rep) {
    case Rep::I64: bits = static_cast<uint64_t>(v.i64[i]); break;
    case Rep::F64: std::memcpy(&bits, &v.f64[i], sizeof bits); break;
    case Rep::B8: bits = v.b8[i]; break;
  }
  auto [it, inserted] = once_per_keys_[r].try_emplace(bits, 0);
  if (inserted) it->second = history_.intern_key(key_text(ev.value_at(node, i)));
  return it->second;
}

void Runner::add_candidate(uint32_t row, Candidate&& c) {
  auto at = static_cast<uint32_t>(day_cands_.size());
  day_cands_.push_back({std::move(c), 0});
  if (row_head_[row] == 0) {
    row_head_[row] = at + 1;
    cand_rows_.push_back(row);
  } else {
    day_cands_[row_tail_[row]].next = at + 1;
  }
  row_tail_[row] = at;
}

std::vector<ActionOut> Runner::evaluate_day(Days d, std::optional<int64_t> trace_customer, std::vector<RuleTrace>* traces) {
  const bool timing = timing_;
  const auto t0 = timing ? Clock::now() : Clock::time_point{};
  const double c0 = timing ? process_cpu_ms() : 0;
  Frame& frame = cursor_->advance(d, tag_overlay_, overlay_dirty_);
  overlay_dirty_.clear();
  // The day's provisional tag changes (between stages) go into a copy of the tags column; the
  // cursor's own column gets the settled ones at the next advance.
  std::optional<Column> saved_tags;
  last_frame_ms_ = timing ? ms_since(t0) : 0;
  const double c1 = timing ? process_cpu_ms() : 0;
  last_frame_cpu_ms_ = c1 - c0;
  last_rows_ = frame.rows;
  last_touched_rows_ = cursor_->last_touched_rows();
  const auto t1 = timing ? Clock::now() : Clock::time_point{};

  std::optional<size_t> trace_row;
  if (trace_customer) trace_row = facts_.row_of(*trace_customer);
  std::map<size_t, RuleTrace> trace_by_rule;

  // The day's rules in graph order: daily rules that are live today.
  if (trace_row)
    for (size_t r : graph_.rule_order) {
      const auto& fr = program_.rules[r];
      bool daily = fr.event.empty() && !fr.journey;
      bool live = (!fr.from || d >= *fr.from) && (!fr.until || d <= *fr.until);
      RuleTrace& t = trace_by_rule[r];
      t.rule = r;
      t.skipped = !daily;
      if (daily && !live)
        t.blocked = fr.from && d < *fr.from ? "not live yet: from " + format_date(*fr.from)
                                            : "no longer live: until " + format_date(*fr.until);
    }
  // Stages (stage_plan.hpp): planned once per script, again only when the live rules change.
  const std::vector<std::vector<size_t>>& stages = stage_plan_->for_day(d);

  if (row_head_.size() != frame.rows) {
    row_head_.assign(frame.rows, 0);
    row_tail_.assign(frame.rows, 0);
  }
  cand_rows_.clear();
  day_cands_.clear();
  clear_candidate_pools();
  // (rule, row) that passed an action today (provisional), for rules some `after` waits for: a
  // bit per row (125 KiB a rule at 1M rows, cleared per evaluation; a 4-byte stamp per row was
  // 4 MiB of fresh pages per rule on a first day).
  if (fired_today_.size() != program_.rules.size()) fired_today_.resize(program_.rules.size());
  for (size_t r = 0; r < program_.rules.size(); ++r)
    if (after_target_[r]) fired_today_[r].assign((frame.rows + 63) / 64, 0);
  auto fired_today = [&](uint32_t rule, size_t row) { return (fired_today_[rule][row >> 6] >> (row & 63) & 1) != 0; };
  const Column* optin[lang::kChannelCount];
  for (int c = 0; c < lang::kChannelCount; ++c) optin[c] = frame.column(kOptInColumn[c]);
  const uint32_t day_key = history_.intern_key(format_date(d));  // the dedupe value of `every`
  std::vector<uint32_t> needs_today;

  // One evaluator for every day: rebinding to the same frame costs little when its columns are
  // the same objects (the cursor keeps them), unlike binding a new one.
  if (!day_ev_) day_ev_ = std::make_unique<Evaluator>(compiled_, frame);
  else if (day_ev_layout_ != cursor_->layout()) day_ev_->bind(frame);
  else day_ev_->rebind_contents();
  day_ev_layout_ = cursor_->layout();
  Evaluator& ev = *day_ev_;
  // Per customer (by row, i.e. by id): caps, then the final statuses into the history and the output.
  // stream_day: into the reused buffer, handed to the sink every kStreamChunk actions or so.
  std::vector<ActionOut> day_out;
  std::vector<ActionOut>& out = sink_ ? stream_out_ : day_out;
  out.clear();
  double sink_ms = 0, sink_cpu_ms = 0;
  auto flush = [&](size_t at_least) {
    if (!sink_ || out.size() < at_least || out.empty()) return;
    const auto s0 = timing ? Clock::now() : Clock::time_point{};
    const double sc0 = timing ? process_cpu_ms() : 0;
    (*sink_)(std::span<const ActionOut>(out));
    out.clear();
    if (timing) sink_ms += ms_since(s0), sink_cpu_ms += process_cpu_ms() - sc0;
  };
  constexpr size_t kStreamChunk = 4096;  // ~400 KiB of records: stays in the cache between flushes
  auto settle_row = [&](uint32_t row) {
    std::vector<Candidate>& list = row_scratch_;
    list.clear();
    for (uint32_t n = row_head_[row]; n != 0; n = day_cands_[n - 1].next) list.push_back(day_cands_[n - 1].c);
    row_head_[row] = 0;
    settle(row, frame.customer_id[row], d, list);
    for (auto& c : list) {
      out.push_back(make_action(c, d, frame.customer_id[row]));
      if (trace_row && *trace_row == row) {
        RuleTrace& t = trace_by_rule[c.rule];
        t.actions.push_back(out.back());
        if (c.status == Status::Sent) t.fired = true;
      }
    }
  };
  // Without event rules, a row's candidates are all known once the last stage has evaluated its
  // batch: its rows are settled there, in row order, and the batch's candidates leave the pool,
  // which stays the size of a batch's (cache-resident) instead of the whole day's. Settling
  // touches only the row's own customer's history, which no other row's gate reads.
  const bool settle_by_batch = !any_event_rule_;
  for (size_t s = 0; s < stages.size(); ++s) {
    const auto& stage = stages[s];
    const bool last_stage = s + 1 == stages.size();
    const size_t pool_base = day_cands_.size();  // earlier stages' candidates stay below it
    std::vector<std::tuple<uint32_t, int64_t, bool>> stage_tags;  // (row, tag, set?) in order
    for (size_t b = 0; b < frame.rows; b += kBatchRows) {
      ev.set_batch(b, std::min(frame.rows, b + kBatchRows));
      for (size_t r : stage) {
        const auto ru = static_cast<uint32_t>(r);
        const lang::FlatRule& fr = program_.rules[r];
        const CompiledRule& cr = compiled_.rules()[r];
        const Truth* truth = ev.condition(r);
        Evaluator::Values key_values;
        bool have_key_values = false;
        const size_t nb = ev.batch_size();
        if (trace_row && *trace_row >= b && *trace_row < b + nb) {
          trace_by_rule[r].condition = truth[*trace_row - b];
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
          bool tracing = trace_row && *trace_row == row;
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
              key = once_per_key(ru, cr.once_per, key_values, ev, i);
              if (history_.fired_with_key(ru, customer, key)) {
                blocked = true;
                if (tracing) why = "once per: already fired for the value " + history_.key_text(key);
              }
              break;
            case lang::FlatRule::Dedupe::Every: {
              key = day_key;
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
          std::vector<Candidate>& list = rule_scratch_;
          list.clear();
          bool any_passed = add_rule_candidates(ru, frame, row, ev, i, d, key, hold, optin, needs_today, list);
          if (!fr.writes_tags.empty())
            for (const Candidate& c : list)
              if (c.status == Status::Sent && (c.kind == lang::ActionKind::Tag || c.kind == lang::ActionKind::Untag))
                stage_tags.emplace_back(static_cast<uint32_t>(row), frame.strings->intern((*fr.actions)[c.action_index].name),
                                        c.kind == lang::ActionKind::Tag);
          for (Candidate& c : list) add_candidate(static_cast<uint32_t>(row), std::move(c));
          if (any_passed && after_target_[r]) fired_today_[r][row >> 6] |= uint64_t{1} << (row & 63);
        }
      }
      const size_t end = std::min(frame.rows, b + kBatchRows);
      if (settle_by_batch && last_stage) {
        for (size_t row = b; row < end; ++row)
          if (row_head_[row] != 0) settle_row(static_cast<uint32_t>(row));
        day_cands_.resize(pool_base);  // later rows' chains end below pool_base (see above)
        if (sink_) flush(kStreamChunk);
        else reserve_ahead(out, out.size(), end, frame.rows);
      } else if (settle_by_batch) {
        reserve_ahead(day_cands_, day_cands_.size() - pool_base, end, frame.rows);
      }
    }
    // The last stage's tags are read only by the event rules and a trace's explanation (then
    // the column is restored): without them, nothing would see the rewrite.
    if (!stage_tags.empty() && (!last_stage || any_event_rule_ || (traces && trace_row))) {
      auto it = frame.columns.find("tags");
      if (it != frame.columns.end()) {
        if (!saved_tags) {  // the day's column aside as it is; the frame gets the changed one
          saved_tags = std::move(it->second);
          tag_changes_into(*saved_tags, it->second, stage_tags);
        } else {
          apply_tag_changes(it->second, stage_tags);
        }
      }
    }
  }

  if (any_event_rule_) {  // journeys.cpp
    std::map<uint32_t, std::vector<Candidate>> event_cands;
    trace_row_ = trace_row;
    trace_rules_ = trace_row ? &trace_by_rule : nullptr;
    add_event_candidates(d, frame, occurrences_on(facts_, d), true, event_cands);
    trace_row_.reset();
    trace_rules_ = nullptr;
    for (auto& [row, list] : event_cands)
      for (auto& c : list) add_candidate(row, std::move(c));
  }

  if (!settle_by_batch || stages.empty()) {
    std::sort(cand_rows_.begin(), cand_rows_.end());
    if (!sink_) out.reserve(out.size() + day_cands_.size());
    constexpr size_t kAhead = 8;  // a row's candidates are scattered over the day's pool: load a few rows ahead
    for (size_t k = 0; k < cand_rows_.size(); ++k) {
      if (k + kAhead < cand_rows_.size() && row_head_[cand_rows_[k + kAhead]] != 0)
        __builtin_prefetch(&day_cands_[row_head_[cand_rows_[k + kAhead]] - 1]);
      if (row_head_[cand_rows_[k]] != 0) settle_row(cand_rows_[k]);
      flush(kStreamChunk);
    }
  }
  flush(1);
  cand_rows_.clear();
  day_cands_.clear();
  last_eval_ms_ = timing ? ms_since(t1) - sink_ms : 0;
  last_eval_cpu_ms_ = timing ? process_cpu_ms() - c1 - sink_cpu_ms : 0;

  if (traces && trace_row) {
    Evaluator explain_ev(compiled_, frame);
    for (size_t r : graph_.rule_order) {
      RuleTrace& t = trace_by_rule[r];
      if (!t.skipped) t.explanation = explain_ev.explain_rule(r, *trace_row);
      traces->push_back(std::move(t));
    }
  }
  if (saved_tags) frame.columns["tags"] = std::move(*saved_tags);
  return day_out;
}

void Runner::stream_day(Days d, const ActionSink& sink) {
  sink_ = &sink;
  try {
    evaluate_day(d);
  } catch (...) {
    sink_ = nullptr;
    throw;
  }
  sink_ = nullptr;
}

void run_days(Runner& runner, Store* store, const RunOptions& options) {
  for (Days d = options.from; d <= options.to; ++d) {
    if (options.dry_run || !store) {  // nothing to write: the actions only go to on_action, in order
      runner.stream_day(d, [&](std::span<const ActionOut> part) {
        if (options.on_action)
          for (const auto& a : part) options.on_action(a);
      });
      if (options.on_day_done) options.on_day_done(d, 0);
      continue;
    }
    std::vector<ActionOut> actions = runner.evaluate_day(d);
    size_t written = 0;
    if (!options.dry_run && store) {
      auto wall0 = std::chrono::steady_clock::now();
      double cpu0 = process_cpu_ms();  // every thread's: a helper thread's work counts
      ActionOutboxRows rows(actions);  // made chunk by chunk as the store writes them
      if (options.shard) {
        written = store->write_shard_actions(d, *options.shard, rows, rows.tags());
      } else {
        store->begin_run(d);
        written = store->write_actions(d, rows, rows.tags(), /*complete_day=*/true);
      }
      if (RunOptions::WriteTimes* t = options.write_times) {
        t->wall_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count();
        t->cpu_ms += process_cpu_ms() - cpu0;
        t->rows += rows.count();
      }
    }
    if (options.on_action)
      for (const auto& a : actions) options.on_action(a);
    if (options.on_day_done) options.on_day_done(d, written);
  }
}

}  // namespace crm::engine
