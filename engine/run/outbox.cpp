// The outbox (outbox.hpp): rows and keys of passed actions, and the run history read back
// from the rows of earlier runs (Runner::load_history_from_outbox).
#include "engine/run/outbox.hpp"

#include <fmt/format.h>

#include "engine/run/run.hpp"

namespace crm::engine {

std::string idem_key(const ActionOut& a) {
  return fmt::format("{}|{}|{}|{}", a.rule_name, a.customer, a.dedupe, a.action_index);
}

std::string payload_json(const ActionOut& a) {
  std::string out = "{\"dedupe\":";
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
    if (a.cost != 0) out += fmt::format(",\"cost\":{}", a.cost);
    if (a.transactional) out += ",\"transactional\":true";
  }
  out += "}";
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

OutboxRow outbox_row(const ActionOut& a) {
  OutboxRow r;
  r.customer_id = a.customer;
  r.rule = a.rule_name;
  r.action = lang::action_name(a.kind);
  r.target = a.target;
  if (a.channel) r.channel = lang::channel_name(*a.channel);
  r.payload = payload_json(a);
  r.idem_key = idem_key(a);
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
  chunk_.clear();
  for (; at_ < actions_.size() && chunk_.size() < max; ++at_)
    if (actions_[at_].status == Status::Sent) chunk_.push_back(outbox_row(actions_[at_]));
  return chunk_.empty() ? nullptr : &chunk_;
}

void Runner::load_history_from_outbox() {
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
