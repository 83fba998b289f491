// deliver.toml (toml++) into a Config, with errors that name the file, line and key; and the
// URL checks and redaction every message about a webhook goes through.
#include "engine/deliver/deliver_config.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace crm::deliver {

const std::vector<std::string>& known_channels() {
  static const std::vector<std::string> names = {"email", "line", "sms", "push", "dm"};
  return names;
}

std::optional<Route> Config::route_for(const std::string& channel) const {
  auto it = channel.empty() ? channels.end() : channels.find(channel);
  if (it != channels.end()) {
    Route r = it->second;
    if (r.url.empty()) {
      if (!catch_all) return std::nullopt;
      r.url = catch_all->url;
      if (!r.token_env) r.token_env = catch_all->token_env;
    }
    if (!r.rate && catch_all) r.rate = catch_all->rate;
    return r;
  }
  return catch_all;
}

std::string check_url(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    return "the webhook URL '" + redact_url(url) + "' must start with http:// or https://";
  size_t host = scheme + 3;
  if (host >= url.size() || url[host] == '/' || url[host] == '?')
    return "the webhook URL '" + redact_url(url) + "' has no host";
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ') return "the webhook URL '" + redact_url(url) + "' holds a space or control character";
  return "";
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  size_t scheme = out.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = out.find_first_of("/?#", start);
  size_t at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at != std::string::npos && at >= start && (end == std::string::npos || at < end)) {
    out.replace(start, at - start, "***");
  }
  size_t q = out.find('?');
  if (q != std::string::npos) out = out.substr(0, q) + "?***";
  return out;
}

namespace {

struct Reader {
  const std::string& path;
  std::string error;

  bool fail(const toml::source_region& at, const std::string& message) {
    if (error.empty()) error = fmt::format("{}:{}:{}: {}", path, at.begin.line, at.begin.column, message);
    return false;
  }
  bool fail(const toml::node& n, const std::string& message) { return fail(n.source(), message); }

  bool number(const toml::node& n, const std::string& key, double lo, double hi, double& out) {
    auto v = n.value<double>();
    if (!v || !n.is_number()) return fail(n, fmt::format("'{}' must be a number", key));
    if (!std::isfinite(*v) || *v < lo || *v > hi) return fail(n, fmt::format("'{}' must be between {} and {}", key, lo, hi));
    out = *v;
    return true;
  }

  bool integer(const toml::node& n, const std::string& key, int lo, int hi, int& out) {
    auto v = n.value_exact<int64_t>();
    if (!v) return fail(n, fmt::format("'{}' must be a whole number", key));
    if (*v < lo || *v > hi) return fail(n, fmt::format("'{}' must be between {} and {}", key, lo, hi));
    out = static_cast<int>(*v);
    return true;
  }

  bool string(const toml::node& n, const std::string& key, std::string& out) {
    auto v = n.value_exact<std::string>();
    if (!v) return fail(n, fmt::format("'{}' must be a string", key));
    out = *v;
    return true;
  }

  bool env_name(const toml::node& n, const std::string& key, std::optional<std::string>& out) {
    std::string s;
    if (!string(n, key, s)) return false;
    bool ok = !s.empty() && !(s[0] >= '0' && s[0] <= '9');
    for (char c : s) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok) return fail(n, fmt::format("'{}' must name an environment variable (e.g. \"CRM_WEBHOOK_TOKEN\"), not hold the token", key));
    out = s;
    return true;
  }

  // [webhook] and [channels.NAME]: url, rate, token_env.
  bool route(const toml::table& t, const std::string& where, Route& r) {
    for (auto&& [k, v] : t) {
      std::string key(k.str());
      if (key == "url") {
        if (!string(v, key, r.url)) return false;
        if (std::string e = check_url(r.url); !e.empty()) return fail(v, e);
      } else if (key == "rate") {
        double rate = 0;
        if (!number(v, key, 0.001, 1e6, rate)) return false;
        r.rate = rate;
      } else if (key == "token_env") {
        if (!env_name(v, key, r.token_env)) return false;
      } else {
        return fail(k.source(), fmt::format("unknown key '{}' in [{}] (known: url, rate, token_env)", key, where));
      }
    }
    return true;
  }
};

}  // namespace

std::optional<Config> load_config(const std::string& path, std::string& error) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    if (b.line == 0) error = fmt::format("{}: cannot read the config: {}", path, e.description());
    else error = fmt::format("{}:{}:{}: {}", path, b.line, b.column, e.description());
    return std::nullopt;
  }
  Config c;
  Reader r{path, {}};
  std::optional<std::string> global_token;
  bool ok = true;
  for (auto&& [k, v] : doc) {
    if (!ok) break;
    std::string key(k.str());
    if (key == "batch") ok = r.integer(v, key, 1, kMaxBatch, c.batch);
    else if (key == "timeout") ok = r.number(v, key, 0.01, kMaxTimeoutSeconds, c.timeout);
    else if (key == "max_attempts") ok = r.integer(v, key, 1, kMaxAttemptsLimit, c.max_attempts);
    else if (key == "backoff_base") ok = r.number(v, key, 0, 3600, c.backoff_base);
    else if (key == "backoff_max") ok = r.number(v, key, 0, 86400, c.backoff_max);
    else if (key == "token_env") ok = r.env_name(v, key, global_token);
    else if (key == "customer_fields") {
      const toml::array* a = v.as_array();
      if (!a) { ok = r.fail(v, "'customer_fields' must be a list of customers columns, e.g. [\"name\", \"email\"]"); break; }
      c.customer_fields.clear();
      for (const auto& f : *a) {
        std::string name;
        if (!(ok = r.string(f, key, name))) break;
        c.customer_fields.push_back(name);
      }
    } else if (key == "webhook") {
      const toml::table* t = v.as_table();
      if (!t) { ok = r.fail(v, "'webhook' must be a table: [webhook] with url = \"...\""); break; }
      Route route;
      ok = r.route(*t, "webhook", route);
      if (ok && route.url.empty()) ok = r.fail(v, "[webhook] needs url = \"https://...\"");
      c.catch_all = route;
    } else if (key == "channels") {
      const toml::table* t = v.as_table();
      if (!t) { ok = r.fail(v, "'channels' must hold tables: [channels.email] ..."); break; }
      for (auto&& [ck, cv] : *t) {
        std::string ch(ck.str());
        const auto& names = known_channels();
        if (std::find(names.begin(), names.end(), ch) == names.end()) {
          ok = r.fail(ck.source(), fmt::format("unknown channel '{}' (known: email, line, sms, push, dm)", ch));
          break;
        }
        const toml::table* ct = cv.as_table();
        if (!ct) { ok = r.fail(cv, fmt::format("'channels.{}' must be a table", ch)); break; }
        Route route;
        if (!(ok = r.route(*ct, "channels." + ch, route))) break;
        c.channels[ch] = route;
      }
    } else {
      ok = r.fail(k.source(), fmt::format("unknown key '{}' (known: batch, timeout, max_attempts, backoff_base, backoff_max, "
                                 "token_env, customer_fields, [webhook], [channels.NAME])", key));
    }
  }
  if (!ok) {
    error = r.error;
    return std::nullopt;
  }
  if (global_token) {
    if (c.catch_all && !c.catch_all->token_env) c.catch_all->token_env = global_token;
    for (auto& [name, route] : c.channels)
      if (!route.token_env) route.token_env = global_token;
  }
  if (!c.catch_all) {
    for (const auto& [name, route] : c.channels)
      if (route.url.empty()) {
        error = fmt::format("{}: [channels.{}] has no url and there is no [webhook] catch-all to use", path, name);
        return std::nullopt;
      }
    if (c.channels.empty()) {
      error = fmt::format("{}: no webhook: add [webhook] with url = \"https://...\" or [channels.NAME] sections", path);
      return std::nullopt;
    }
  }
  return c;
}

std::optional<Config> webhook_config(const std::string& url, std::string& error) {
  error = check_url(url);
  if (!error.empty()) return std::nullopt;
  Config c;
  c.catch_all = Route{url, std::nullopt, std::nullopt};
  return c;
}

}  // namespace crm::deliver
