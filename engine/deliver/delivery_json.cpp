// Outbox rows as the JSON objects a webhook receives, and the consent check at delivery time.
#include "engine/deliver/delivery_json.hpp"

namespace crm::deliver {

namespace {

nlohmann::ordered_json parsed_payload(const std::string& text) {
  // Keys in bytewise order, whatever order the store kept them in (crm writes them so; a jsonb
  // column of PostgreSQL keeps its own order), so both backends post the same bytes.
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return text;  // not JSON: passed on as a string
  return nlohmann::ordered_json::parse(j.dump());
}

}  // namespace

std::string row_json(const OutboxItem& r) {
  nlohmann::ordered_json j;
  j["date"] = r.run_date;
  j["customer"] = r.customer_id;
  j["rule"] = r.rule;
  j["action"] = r.action;
  j["target"] = r.target;
  if (r.channel) j["channel"] = *r.channel;
  else j["channel"] = nullptr;
  j["status"] = "sent";
  j["outbox_id"] = r.id;
  j["idem_key"] = r.idem_key;
  j["payload"] = parsed_payload(r.payload);
  j["recipient"] = r.recipient;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string batch_json(const std::vector<const OutboxItem*>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    out += row_json(*rows[i]);
  }
  out += ']';
  return out;
}

bool is_transactional(const OutboxItem& r) {
  if (r.action != "send") return false;
  auto j = nlohmann::json::parse(r.payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto it = j.find("transactional");
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

bool consent_allows(const OutboxItem& r) {
  if (r.action != "send") return true;
  if (is_transactional(r)) return true;
  return r.customer_found && r.opt_in == true;
}

}  // namespace crm::deliver
