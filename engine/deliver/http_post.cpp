// The libcurl side of crm deliver: a handle per webhook (keep-alive), one POST with headers and
// a timeout, the status, Retry-After and the start of the body; and the retry classification.
#include "engine/deliver/http_post.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace crm::deliver {

namespace {

std::once_flag g_curl_init;

size_t keep_body(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t bytes = size * n;
  if (out->size() < kMaxErrorBody) out->append(data, std::min(bytes, kMaxErrorBody - out->size()));
  return bytes;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

void scrub(std::string& s, const std::string& secret) {
  if (secret.empty()) return;
  for (size_t p = s.find(secret); p != std::string::npos; p = s.find(secret, p)) s.replace(p, secret.size(), "***");
}

}  // namespace

Outcome HttpResult::outcome() const {
  if (status >= 200 && status < 300) return Outcome::Delivered;
  if (status == 0 || status >= 500 || status == 408 || status == 429) return Outcome::Retry;
  return Outcome::Failed;  // 1xx/3xx/4xx: the receiver will say the same next time
}

std::string HttpResult::describe(const std::string& redacted_url, const std::string& secret) const {
  std::string s;
  if (status != 0) {
    s = fmt::format("HTTP {} from {}", status, redacted_url);
    if (status >= 300 && status < 400) s += " (a redirect: give the final URL)";
    std::string b = one_line(body);
    if (!b.empty()) s += ": " + b;
  } else if (timed_out) {
    s = fmt::format("no answer from {} within {:.3g} s (timeout)", redacted_url, seconds);
  } else {
    s = fmt::format("cannot reach {}: {}", redacted_url, transport_error);
  }
  scrub(s, secret);
  return s;
}

struct HttpClient::Handles {
  std::map<std::string, CURL*> by_url;
  ~Handles() {
    for (auto& [url, h] : by_url) curl_easy_cleanup(h);
  }
};

HttpClient::HttpClient(double timeout_seconds) : handles_(std::make_unique<Handles>()), timeout_(timeout_seconds) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::post(const std::string& url, const std::string& body, const std::string& bearer,
                            const std::string& idempotency_key) {
  CURL*& h = handles_->by_url[url];
  if (!h) {
    h = curl_easy_init();
    if (!h) throw std::runtime_error("libcurl could not make a handle");
  }
  HttpResult r;
  std::string response;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for big batches
  std::string auth, idem;
  if (!bearer.empty()) {
    auth = "Authorization: Bearer " + bearer;
    headers = curl_slist_append(headers, auth.c_str());
  }
  if (!idempotency_key.empty()) {
    idem = "Idempotency-Key: " + idempotency_key;
    headers = curl_slist_append(headers, idem.c_str());
  }
  long timeout_ms = std::max(1L, static_cast<long>(timeout_ * 1000));
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "crm-deliver/0.1");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10'000L));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  double total = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
  r.seconds = total;
  if (rc != CURLE_OK) {
    r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    r.transport_error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (r.timed_out) r.seconds = timeout_;
    return r;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_off_t retry_after = -1;
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)  // 0: no header
    r.retry_after = static_cast<double>(retry_after);
  r.body = std::move(response);
  return r;
}

}  // namespace crm::deliver
