// One webhook POST over HTTP(S) with libcurl, and what its answer means for the rows in it:
// delivered (2xx), retry later (5xx, 408, 429, timeouts, connection errors) or failed (other 4xx).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crm::deliver {

// How much of a response body is kept for the error message.
constexpr size_t kMaxErrorBody = 300;

enum class Outcome { Delivered, Retry, Failed };

struct HttpResult {
  long status = 0;                     // HTTP status; 0 when no answer came
  bool timed_out = false;
  std::string transport_error;         // curl's message when no answer came ("Connection refused")
  std::optional<double> retry_after;   // seconds, from a Retry-After header
  std::string body;                    // the start of the response body (kMaxErrorBody bytes)
  double seconds = 0;                  // how long the POST took

  Outcome outcome() const;
  // "HTTP 503: upstream down", "timed out after 2 s", "connection failed: Connection refused".
  // Never holds a token or a URL's user:password (callers pass redacted URLs and the token to scrub).
  std::string describe(const std::string& redacted_url, const std::string& secret = "") const;
};

// A reusable client: one libcurl handle per URL, so posts to one webhook reuse the connection.
// Not thread-safe.
class HttpClient {
 public:
  explicit HttpClient(double timeout_seconds);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` (application/json) to `url`. `bearer` (may be empty) goes in an Authorization
  // header; `idempotency_key` (may be empty) in an Idempotency-Key header.
  HttpResult post(const std::string& url, const std::string& body, const std::string& bearer,
                  const std::string& idempotency_key);

 private:
  struct Handles;
  std::unique_ptr<Handles> handles_;
  double timeout_;
};

}  // namespace crm::deliver
