// The outbox (outbox.hpp): rows and keys of passed actions, and the run history read back
// from the rows of earlier runs (Runner::load_history_from_outbox).
#include "engine/run/outbox.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <iterator>

#include "engine/run/run.hpp"

namespace crm::engine {

namespace {

void append_integer(std::string& out, uint64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

void append_integer(std::string& out, int64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

// The key and the payload written into `out` (cleared first): a chunk's rows reuse their strings'
// capacity, so a day's rows are made without an allocation each (store.md "The outbox write").
void write_idem_key(std::string& out, const ActionOut& a) {
  out.clear();
  out.append(a.rule_name);
  out += '|';
  append_integer(out, a.customer);
  out += '|';
  out.append(a.dedupe);
  out += '|';
  append_integer(out, uint64_t{a.action_index});
}

void write_payload_json(std::string& out, const ActionOut& a) {
  out.clear();
  out.append("{\"dedupe\":", 10);
  append_json_string(out, a.dedupe);
  if (a.kind == lang::ActionKind::Send) {
    if (!a.subject().empty()) {
      out += ",\"subject\":";
      append_json_string(out, a.subject());
    }
    if (!a.recommended().empty()) {
      out += ",\"recommended\":[";
      for (size_t i = 0; i < a.recommended().size(); ++i) {
        if (i) out += ',';
        append_json_string(out, a.recommended()[i]);
      }
      out += ']';
    }
    if (a.cost != 0) fmt::format_to(std::back_inserter(out), ",\"cost\":{}", a.cost);
    if (a.transactional) out += ",\"transactional\":true";
  }
  out += "}";
}

}  // namespace

std::string idem_key(const ActionOut& a) {
  std::string out;
  write_idem_key(out, a);
  return out;
}

std::string payload_json(const ActionOut& a) {
  std::string out;
  write_payload_json(out, a);
  return out;
}

std::string dedupe_of_idem_key(const std::string& key) {
  size_t p1 = key.find('|');
  size_t p2 = p1 == std::string::npos ? p1 : key.find('|', p1 + 1);
  size_t p3 = key.rfind('|');
  if (p2 != std::string::npos && p3 > p2) return key.substr(p2 + 1, p3 - p2 - 1);
  return {};
}

namespace {

// `s` = `v`; no copy when `s` holds it already (a reused row's slot often has the same rule,
// action, target or channel as the row before it there).
void set_text(std::string& s, std::string_view v) {
  if (s.size() == v.size() && std::memcmp(s.data(), v.data(), v.size()) == 0) return;
  s.assign(v);
}

// Fills `r` in place (assign, not construct: a reused row keeps its strings' capacity).
void fill_outbox_row(OutboxRow& r, const ActionOut& a) {
  r.customer_id = a.customer;
  set_text(r.rule, a.rule_name);
  set_text(r.action, lang::action_name(a.kind));
  set_text(r.target, a.target);
  if (!a.channel) r.channel.reset();
  else if (r.channel) set_text(*r.channel, lang::channel_name(*a.channel));
  else r.channel.emplace(lang::channel_name(*a.channel));
  write_payload_json(r.payload, a);
  write_idem_key(r.idem_key, a);
}

OutboxRow outbox_row(const ActionOut& a) {
  OutboxRow r;
  fill_outbox_row(r, a);
  return r;
}

bool is_tag_change(const ActionOut& a) { return a.kind == lang::ActionKind::Tag || a.kind == lang::ActionKind::Untag; }

}  // namespace

void outbox_writes(const std::vector<ActionOut>& actions, std::vector<OutboxRow>& rows, std::vector<TagChange>& tags) {
  for (const auto& a : actions) {
    if (a.status != Status::Sent) continue;
    rows.push_back(outbox_row(a));
    if (is_tag_change(a)) tags.push_back({a.customer, std::string(a.target), a.kind == lang::ActionKind::Tag});
  }
}

ActionOutboxRows::ActionOutboxRows(const std::vector<ActionOut>& actions) : actions_(actions) {
  for (const auto& a : actions) {
    if (a.status != Status::Sent) continue;
    ++count_;
    if (is_tag_change(a)) tags_.push_back({a.customer, std::string(a.target), a.kind == lang::ActionKind::Tag});
  }
}

const std::vector<OutboxRow>* ActionOutboxRows::next(size_t max) {
  // The rows of the previous chunk are overwritten in place (their strings' buffers reused).
  size_t n = 0;
  for (; at_ < actions_.size() && n < max; ++at_) {
    if (actions_[at_].status != Status::Sent) continue;
    if (n == chunk_.size()) chunk_.emplace_back();
    fill_outbox_row(chunk_[n++], actions_[at_]);
  }
  if (n < chunk_.size()) chunk_.resize(n);
  return n == 0 ? nullptr : &chunk_;
}

void Runner::load_history_from_outbox() {
  apply_day_logs();  // what this Runner recorded comes first
  for (const auto& e : facts_.outbox) {
    auto it = rule_index_.find(e.rule);
    if (it == rule_index_.end()) continue;  // a rule no longer in the script
    history_.record_fire(it->second, e.customer_id, e.run_date, dedupe_of_idem_key(e.idem_key));
    const lang::Message* msg = e.action == "send" ? program_.find_message(e.target) : nullptr;
    if (e.action == "send" && !(msg && msg->transactional))
      if (auto ch = lang::channel_from_name(e.channel))  // the channel the send went out on
        history_.record_send(e.customer_id, e.run_date, *ch, campaign_of_rule_[it->second]);
  }
}

}  // namespace crm::engine
