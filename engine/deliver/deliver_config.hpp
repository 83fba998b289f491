// Where `crm deliver` posts and how: the routes (a webhook per channel and a catch-all), rate
// limits, batch size, timeouts, retries and the token's environment variable. Read from
// deliver.toml (deliver_config.cpp) or made from --webhook URL; command-line options override.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crm::deliver {

// Limits, each with its reason.
constexpr int kMaxBatch = 1000;           // one POST body stays well under a few MB
constexpr int kMaxAttemptsLimit = 100;    // more is a loop, not a retry policy
constexpr double kMaxTimeoutSeconds = 600;

// Where the rows of one lane (one channel, or no channel) go.
struct Route {
  std::string url;
  std::optional<double> rate;            // rows per second at most; unset = as fast as it goes
  std::optional<std::string> token_env;  // the Bearer token's environment variable
};

struct Config {
  std::optional<Route> catch_all;           // [webhook]: channels without their own, and non-sends
  std::map<std::string, Route> channels;    // [channels.NAME]: email line sms push dm
  int batch = 100;                          // rows per POST
  double timeout = 10;                      // seconds per POST (connect + answer)
  int max_attempts = 5;                     // attempts per row before it is `failed`
  double backoff_base = 1.0;                // seconds: the first retry waits about this long
  double backoff_max = 60;                  // seconds: the longest wait in one crm deliver
  std::vector<std::string> customer_fields = {"name", "email"};  // customers columns sent as "recipient"

  // The route of a lane: channels.NAME (its url, else the catch-all's), else the catch-all.
  // nullopt when the lane has no webhook. `channel` is empty for actions without a channel.
  std::optional<Route> route_for(const std::string& channel) const;
};

// Reads a deliver.toml. Returns nullopt and sets `error` ("deliver.toml:3:1: ...") on a syntax
// error, an unknown key or channel, a bad URL or a value out of range.
std::optional<Config> load_config(const std::string& path, std::string& error);

// A config with one webhook for everything (--webhook URL). Returns nullopt with `error` on a
// bad URL.
std::optional<Config> webhook_config(const std::string& url, std::string& error);

// Checks a URL: http:// or https:// and a host. Returns an error message, or "" when fine.
std::string check_url(const std::string& url);

// A URL safe to print and store: user:password@ becomes ***@ and the query string ?*** (it may
// hold a token).
std::string redact_url(const std::string& url);

// The channels a config may name.
const std::vector<std::string>& known_channels();

}  // namespace crm::deliver
