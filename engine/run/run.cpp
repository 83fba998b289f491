// The day loop of a run: compiled conditions per batch of customers in rule-graph order, then
// per customer the gates of SPEC §6 (dedupe, after, holdout, consent, caps by priority), then
// the outbox (real run) or memory (dry run).
#include "lang/int_range.hpp"
#include "engine/run/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cmath>
#include <map>
#include <cstring>
#include <set>
#include <thread>
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
  sort_tag_changes(changes);
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
  scratch_.push_back(std::make_unique<Scratch>());
  size_t threads = std::min<size_t>(8, std::max(1u, std::thread::hardware_concurrency()));
  if (const char* e = std::getenv("CRM_RUN_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(e, &end, 10);
    if (end != e && *end == 0 && v >= 1 && v <= 64) threads = static_cast<size_t>(v);
  }
  set_threads(threads);
}

Runner::~Runner() = default;

void Runner::set_threads(size_t threads, size_t min_rows) {
  threads_ = std::max<size_t>(1, threads);
  min_rows_per_thread_ = std::max(min_rows, kBatchRows);
}

Runner::Scratch& Runner::scratch(size_t k) {
  while (scratch_.size() <= k) scratch_.push_back(std::make_unique<Scratch>());
  return *scratch_[k];
}

void Runner::reset() {
  // O(what the last evaluation recorded): the allocations (history arrays, frame columns, the
  // evaluator's registers) are kept, so a reused Runner costs no more than its evaluation.
  for (auto& w : scratch_) w->log.clear();
  history_.clear_records();
  if (history_.key_count() > kMaxKeptKeys) {  // keep the interned keys, unless they pile up
    history_ = History(History::dense_limit_for(facts_.rows()));
    once_key_ = history_.intern_key("once");
    for (auto& m : once_per_keys_) m.clear();  // their ids were interned in the old history
    once_per_null_.assign(once_per_null_.size(), UINT32_MAX);
    for (auto& w : scratch_) {  // their caches of those ids
      w->once_keys.clear();
      w->once_null.clear();
      w->once_recent.clear();
    }
  }
  if (points_texts_.size() > kMaxKeptKeys) points_texts_.clear();
  tag_overlay_.clear();
  overlay_dirty_.clear();
  tag_ids_.clear();  // the refilled facts may have another string pool
  cursor_->restart();
  journeys_.clear();
  journeys_loaded_ = false;
}

void Runner::allocate(std::vector<Candidate>& cands, int64_t customer, Days d, Scratch& w) {
  bool any_needs = false;
  for (const auto& c : cands) any_needs = any_needs || c.needs_count != 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& c : cands) c.status = c.pre_status;
    // Sends compete for caps: higher priority first, then declaration order, then action order.
    std::vector<Candidate*>& sends = w.sends;
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
    std::vector<const Candidate*>& allocated = w.allocated;
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
        if (!fired(w.needs_pool[cands[k].needs_at + n])) keep[k] = 0;
    size_t kept = 0;
    for (size_t k = 0; k < cands.size(); ++k) {
      if (!keep[k]) {
        changed = true;
        continue;
      }
      if (kept != k) cands[kept] = std::move(cands[k]);
      ++kept;
    }
    cands.resize(kept, Candidate{});
  }
}

bool Runner::add_rule_candidates(uint32_t r, const Frame& frame, size_t row, Evaluator& ev, size_t i, Days d, uint32_t key,
                                 bool hold, const Column* const* optin, const std::vector<uint32_t>& needs_today,
                                 std::vector<Candidate>& list, Scratch& w) {
  (void)d;
  const lang::FlatRule& fr = program_.rules[r];
  const CompiledRule& cr = compiled_.rules()[r];
  bool any_passed = false;
  uint32_t needs_at = 0;  // the rules this rule waits for, once in w.needs_pool for all its actions
  if (!needs_today.empty()) {
    needs_at = static_cast<uint32_t>(w.needs_pool.size());
    w.needs_pool.insert(w.needs_pool.end(), needs_today.begin(), needs_today.end());
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
      w.points_pool.push_back(points);
      c.payload = static_cast<uint32_t>(w.points_pool.size());
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
          w.payloads.emplace_back();
          c.payload = static_cast<uint32_t>(w.payloads.size());
          payload = &w.payloads.back();
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

void Runner::clear_candidate_pools(Scratch& w) {
  static_assert(std::is_trivially_copyable_v<Candidate>);  // pooled and moved as plain bytes
  w.payloads.clear();
  w.points_pool.clear();
  w.needs_pool.clear();
}

void Runner::make_action(ActionOut& o, const Candidate& c, Days d, int64_t customer, Scratch& w) {
  const lang::FlatRule& fr = program_.rules[c.rule];
  o.date = d;
  o.customer = customer;
  o.rule = c.rule;
  o.rule_name = fr.name;
  o.kind = c.kind;
  if (c.kind == lang::ActionKind::Points) {
    const int64_t points = w.points_pool[c.payload - 1];
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
  if (c.payload != 0 && c.kind == lang::ActionKind::Send) o.payload = std::make_shared<const ActionPayload>(std::move(w.payloads[c.payload - 1]));
  o.transactional = c.transactional;
}

void Runner::settle(uint32_t row, int64_t customer, Days d, std::vector<Candidate>& list, Scratch& w) {
  allocate(list, customer, d, w);
  record_and_order(row, customer, d, list, w);
}

void Runner::record_and_order(uint32_t row, int64_t customer, Days d, std::span<Candidate> list, Scratch& w) {
  record_history(customer, d, list, w);
  record_tags(row, list);
  output_order(list);
}

void Runner::record_history(int64_t customer, Days d, std::span<const Candidate> list, Scratch& w) {
  DayLog& log = w.log;
  if (log.empty()) log.day = d;
  else if (log.day != d) throw std::logic_error("a day log holds one day: apply_day_logs was not called");
  // (rule, dedupe key) fired: event rules fire once per occurrence, so a rule may fire twice.
  std::vector<std::pair<uint32_t, uint32_t>>& fired_rules = w.fired;
  fired_rules.clear();
  for (const auto& c : list) {
    if (c.status != Status::Sent) continue;
    std::pair<uint32_t, uint32_t> rk{c.rule, c.key};
    if (std::find(fired_rules.begin(), fired_rules.end(), rk) == fired_rules.end()) {
      fired_rules.push_back(rk);
      log.fires.push_back({customer, c.rule, c.key});
    }
    if (c.kind == lang::ActionKind::Send && c.channel && !c.transactional)
      log.sends.push_back({customer, campaign_of_rule_[c.rule], *c.channel});
  }
}

void Runner::apply_day_logs() {
  size_t logs = 0, records = 0;
  for (const auto& w : scratch_)
    if (!w->log.empty()) ++logs, records += w->log.fires.size() + w->log.sends.size();
  if (logs == 0) return;
  // A split day's logs hold the customers of disjoint ranges of rows: each can be applied on a
  // thread of its own when the History holds every id densely and there is enough to share
  // (a simulated day at 1M logs ~27,000 records, ~3.5 ms on one thread).
  constexpr size_t kMinApplyRecords = 4096;
  bool together = false;
  const size_t n = scratch_.size();
  if (logs > 1 && records >= std::min(kMinApplyRecords, min_rows_per_thread_)) {
    const auto& ids = facts_.customer_id;
    if (!customer_ids_ || customer_ids_of_ != std::pair{ids.data(), ids.size()}) {
      const auto [lo_id, hi_id] = std::minmax_element(ids.begin(), ids.end());
      customer_ids_ = ids.empty() ? std::pair<int64_t, int64_t>{0, -1} : std::pair{*lo_id, *hi_id};
      customer_ids_of_ = {ids.data(), ids.size()};
    }
    together = history_.begin_concurrent(n, program_.rules.size(), customer_ids_->first, customer_ids_->second);
  }
  if (together) {
    std::exception_ptr error = run_on_threads(n, [&](size_t k) { history_.apply(scratch_[k]->log, k); });
    history_.end_concurrent();  // before any rethrow: no reference to a thread's pool stays
    for (auto& w : scratch_) w->log.clear();
    if (error) std::rethrow_exception(error);
    return;
  }
  for (auto& w : scratch_) {
    history_.apply(w->log);
    w->log.clear();
  }
}

void Runner::record_tags(uint32_t row, std::span<const Candidate> list) {
  for (const auto& c : list) {
    if (c.status != Status::Sent || (c.kind != lang::ActionKind::Tag && c.kind != lang::ActionKind::Untag)) continue;
    // The tag's string id, interned once per action (a first day tags ~90k customers).
    if (tag_ids_.size() != program_.rules.size()) tag_ids_.assign(program_.rules.size(), {});
    std::vector<int64_t>& ids = tag_ids_[c.rule];
    if (ids.empty()) ids.assign(program_.rules[c.rule].actions->size(), -1);
    int64_t& id = ids[c.action_index];
    if (id < 0) id = facts_.strings->intern((*program_.rules[c.rule].actions)[c.action_index].name);
    tag_overlay_.add(row, id, c.kind == lang::ActionKind::Tag);
    overlay_dirty_.push_back(row);
  }
}

void Runner::output_order(std::span<Candidate> list) const {
  // Rule graph order, then action order (a stable insertion sort: lists are short).
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

uint32_t Runner::once_per_key(uint32_t r, NodeId node, const Evaluator::Values& v, Evaluator& ev, size_t i,
                              Scratch& w) {
  const size_t rules = once_per_keys_.size();
  if (w.once_null.size() != rules) {
    w.once_keys.assign(rules, {});
    w.once_null.assign(rules, UINT32_MAX);
    w.once_recent.assign(rules * Scratch::kOnceSlots, Scratch::OnceSlot{});
  }
  const bool valid = v.valid[i] != 0;
  uint64_t bits = 0;
  Scratch::OnceSlot* slot = nullptr;
  if (!valid) {
    if (w.once_null[r] != UINT32_MAX) return w.once_null[r];
  } else {
    switch (v.rep) {
      case Rep::I64: bits = static_cast<uint64_t>(v.i64[i]); break;
      case Rep::F64: std::memcpy(&bits, &v.f64[i], sizeof bits); break;
      case Rep::B8: bits = v.b8[i]; break;
    }
    slot = &w.once_recent[r * Scratch::kOnceSlots + ((bits * 0x9E3779B97F4A7C15ULL) >> (64 - Scratch::kOnceSlotBits))];
    if (slot->key != 0 && slot->bits == bits) return slot->key - 1;
    if (w.concurrent)
      if (auto it = w.once_keys[r].find(bits); it != w.once_keys[r].end()) {
        *slot = {bits, it->second + 1};
        return it->second;
      }
  }
  // A value this thread has not seen lately: the Runner's maps (shared on a split day: under the mutex).
  std::unique_lock<std::mutex> lock(once_mu_, std::defer_lock);
  if (w.concurrent) lock.lock();
  if (!valid) {
    if (once_per_null_[r] == UINT32_MAX) once_per_null_[r] = history_.intern_key(key_text(ev.value_at(node, i)));
    return w.once_null[r] = once_per_null_[r];
  }
  auto [it, inserted] = once_per_keys_[r].try_emplace(bits, 0);
  if (inserted) it->second = history_.intern_key(key_text(ev.value_at(node, i)));
  if (w.concurrent) w.once_keys[r].emplace(bits, it->second);
  *slot = {bits, it->second + 1};
  return it->second;
}

std::vector<Runner::Candidate>& Runner::take_row(uint32_t row, Scratch& w) {
  std::vector<Candidate>& list = w.row_scratch;
  list.clear();
  for (uint32_t n = row_head_[row]; n != 0; n = w.day_cands[n - 1].next) list.push_back(w.day_cands[n - 1].c);
  std::reverse(list.begin(), list.end());  // the chain runs newest first
  row_head_[row] = 0;
  return list;
}

void Runner::add_candidate(uint32_t row, Candidate&& c, Scratch& w) {
  uint32_t& head = row_head_[row];
  if (head == 0) w.cand_rows.push_back(row);
  w.day_cands.push_back({std::move(c), head});
  head = static_cast<uint32_t>(w.day_cands.size());
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
  apply_day_logs();  // the day before's records, before any gate reads the history (counted as rules)

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
  // Without event rules, a row's candidates are all known once the last stage has evaluated its
  // batch: its rows are settled there, in row order, and the batch's candidates leave the pool,
  // which stays the size of a batch's (cache-resident) instead of the whole day's. Settling
  // touches only the row's own customer's history, which no other row's gate reads.
  const bool settle_by_batch = !any_event_rule_;
  // One evaluator per thread for every day: rebinding to the same frame costs little when its
  // columns are the same objects (the cursor keeps them), unlike binding a new one. Bound before
  // any thread starts (binding interns the program's string constants, has_tag("x")'s among them:
  // the first thread's binding comes before split_threads looks for tags never interned).
  auto bind = [&](Scratch& w) {
    if (!w.ev) w.ev = std::make_unique<Evaluator>(compiled_, frame);
    else if (w.ev_layout != cursor_->layout()) w.ev->bind(frame);
    else w.ev->rebind_contents();
    w.ev_layout = cursor_->layout();
  };
  bind(scratch(0));
  const size_t threads = split_threads(frame, settle_by_batch, trace_row.has_value(), stages);
  last_threads_ = threads;

  if (row_head_.size() != frame.rows) {
    row_head_.assign(frame.rows, 0);
    tag_overlay_.reserve_rows(frame.rows);
  }
  for (size_t k = 0; k < threads; ++k) {
    Scratch& w = scratch(k);
    w.cand_rows.clear();
    w.day_cands.clear();
    w.settled_rows.clear();
    w.settled_end.clear();
    w.settled.clear();
    w.concurrent = threads > 1;
    clear_candidate_pools(w);
    if (k > 0) bind(w);
  }
  Scratch& w0 = *scratch_[0];
  // (rule, row) that passed an action today (provisional), for rules some `after` waits for: a
  // bit per row (125 KiB a rule at 1M rows, cleared per evaluation; a 4-byte stamp per row was
  // 4 MiB of fresh pages per rule on a first day).
  if (fired_today_.size() != program_.rules.size()) fired_today_.resize(program_.rules.size());
  for (size_t r = 0; r < program_.rules.size(); ++r)
    if (after_target_[r]) fired_today_[r].assign((frame.rows + 63) / 64, 0);
  DayPass pass(frame);
  pass.d = d;
  for (int c = 0; c < lang::kChannelCount; ++c) pass.optin[c] = frame.column(kOptInColumn[c]);
  pass.day_key = history_.intern_key(format_date(d));
  pass.settle_by_batch = settle_by_batch;
  for (const auto& stage : stages)
    for (size_t r : stage)
      if (const auto& acts = program_.rules[r].actions) pass.actions_per_row += acts->size();
  pass.trace_row = trace_row;
  pass.trace_by_rule = &trace_by_rule;

  // Per customer (by row, i.e. by id): caps, then the final statuses into the history and the output.
  // stream_day: into the reused buffer, handed to the sink every kStreamChunk actions or so.
  std::vector<ActionOut> day_out;
  if (into_) day_out = std::move(*into_);  // evaluate_day_into: its buffer, capacity and all
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
  pass.settle_row = [&](uint32_t row) {
    std::vector<Candidate>& list = take_row(row, w0);
    settle(row, frame.customer_id[row], d, list, w0);
    for (auto& c : list) {
      make_action(out.emplace_back(), c, d, frame.customer_id[row], w0);
      if (trace_row && *trace_row == row) {
        RuleTrace& t = trace_by_rule[c.rule];
        t.actions.push_back(out.back());
        if (c.status == Status::Sent) t.fired = true;
      }
    }
  };
  pass.after_batch = [&](size_t end_row) {
    if (sink_) flush(kStreamChunk);
    else reserve_ahead(out, out.size(), end_row, frame.rows);
  };

  for (size_t s = 0; s < stages.size(); ++s) {
    const bool last_stage = s + 1 == stages.size();
    std::vector<std::tuple<uint32_t, int64_t, bool>>& stage_tags = w0.stage_tags;  // (row, tag, set?) in order
    stage_tags.clear();
    if (threads > 1) {
      evaluate_split(pass, stages[s], s == 0, last_stage, threads);
      for (size_t k = 1; k < threads; ++k)  // the ranges follow each other: the rows stay in order
        stage_tags.insert(stage_tags.end(), scratch_[k]->stage_tags.begin(), scratch_[k]->stage_tags.end());
    } else {
      evaluate_rows(pass, stages[s], last_stage, 0, frame.rows, w0);
    }
    // The last stage's tags are read only by the event rules and a trace's explanation (then
    // the column is restored): without them, nothing would see the rewrite.
    if (!stage_tags.empty() && (!last_stage || any_event_rule_ || (traces && trace_row))) {
      auto it = frame.columns.find("tags");
      if (it != frame.columns.end()) {
        if (!saved_tags) {  // the day's column aside as it is; the frame gets the changed one
          saved_tags = std::move(it->second);
          it->second = std::move(spare_tags_);  // the buffers of the last day that changed it
          tag_changes_into(*saved_tags, it->second, stage_tags);
        } else {
          apply_tag_changes(it->second, stage_tags);
        }
      }
    }
  }
  if (threads > 1) {  // the rows the threads settled, range by range: recorded and output in row order
    if (!sink_) {
      size_t n = 0;
      for (size_t k = 0; k < threads; ++k) n += scratch_[k]->settled.size();
      out.reserve(n);
    }
    for (size_t k = 0; k < threads; ++k) record_settled(*scratch_[k], frame, d, out, [&] { flush(kStreamChunk); });
  }

  if (any_event_rule_) {  // journeys.cpp
    std::map<uint32_t, std::vector<Candidate>> event_cands;
    trace_row_ = trace_row;
    trace_rules_ = trace_row ? &trace_by_rule : nullptr;
    add_event_candidates(d, frame, occurrences_on(facts_, d), true, event_cands);
    trace_row_.reset();
    trace_rules_ = nullptr;
    for (auto& [row, list] : event_cands)
      for (auto& c : list) add_candidate(row, std::move(c), w0);
  }

  if (!settle_by_batch || stages.empty()) {
    std::vector<uint32_t>& cand_rows = w0.cand_rows;
    std::sort(cand_rows.begin(), cand_rows.end());
    if (!sink_) out.reserve(out.size() + w0.day_cands.size());
    constexpr size_t kAhead = 8;  // a row's candidates are scattered over the day's pool: load a few rows ahead
    for (size_t k = 0; k < cand_rows.size(); ++k) {
      if (k + kAhead < cand_rows.size() && row_head_[cand_rows[k + kAhead]] != 0)
        __builtin_prefetch(&w0.day_cands[row_head_[cand_rows[k + kAhead]] - 1]);
      if (row_head_[cand_rows[k]] != 0) pass.settle_row(cand_rows[k]);
      flush(kStreamChunk);
    }
  }
  flush(1);
  for (size_t k = 0; k < threads; ++k) {
    scratch_[k]->cand_rows.clear();
    scratch_[k]->day_cands.clear();
    scratch_[k]->concurrent = false;
  }
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
  if (saved_tags) {
    Column& tags = frame.columns["tags"];
    spare_tags_ = std::move(tags);  // its buffers serve the next day's changed column
    tags = std::move(*saved_tags);
  }
  return day_out;
}

void Runner::evaluate_day_into(Days d, std::vector<ActionOut>& out) {
  out.clear();
  into_ = &out;
  try {
    out = evaluate_day(d);
  } catch (...) {
    into_ = nullptr;
    throw;
  }
  into_ = nullptr;
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
