// The libpq connection of the PostgreSQL store (pg_conn.hpp): connect, classify failures into
// one-line messages, scrub the password from everything printed, statements and COPY streams.
#include "engine/store/pg_conn.hpp"

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <cstdlib>

namespace crm::engine::pg {

bool is_uri(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string scrub_uri(const std::string& uri) {
  std::string out = uri;
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    std::string authority = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t at = authority.rfind('@');
    if (at != std::string::npos) {
      std::string userinfo = authority.substr(0, at);
      size_t colon = userinfo.find(':');
      if (colon != std::string::npos) {
        authority = userinfo.substr(0, colon) + authority.substr(at);
        out = out.substr(0, start) + authority + (end == std::string::npos ? "" : uri.substr(end));
      }
    }
  }
  // password=... among the query parameters
  size_t q = out.find('?');
  if (q != std::string::npos) {
    std::string head = out.substr(0, q), query = out.substr(q + 1), kept;
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      if (part.rfind("password=", 0) != 0 && !part.empty()) kept += (kept.empty() ? "" : "&") + part;
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
    out = kept.empty() ? head : head + "?" + kept;
  }
  return out;
}

namespace {

// The password given in the URI (userinfo or password= parameter), to scrub from messages.
std::string password_of(const std::string& uri) {
  std::string pw;
  PQconninfoOption* opts = PQconninfoParse(uri.c_str(), nullptr);
  if (!opts) return pw;
  for (PQconninfoOption* o = opts; o->keyword; ++o)
    if (std::strcmp(o->keyword, "password") == 0 && o->val) pw = o->val;
  PQconninfoFree(opts);
  return pw;
}

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  // libpq repeats the attempt per address ("... ; connection to server at ... failed: ..."):
  // keep the first.
  return s;
}

}  // namespace

Result& Result::operator=(Result&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

int64_t Result::affected() const {
  const char* n = PQcmdTuples(r_);
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Conn::Conn(const std::string& uri) : uri_(uri), location_(scrub_uri(uri)), password_(password_of(uri)) {
  // connect_timeout first: a value in the URI overrides it.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* vals[] = {"10", "crm", uri.c_str(), nullptr};
  c_ = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
  if (!c_) throw StoreError("cannot connect to " + location_ + ": out of memory");
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string msg = error_message();
    PQfinish(c_);
    c_ = nullptr;
    std::string lower = msg;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower.find("authentication") != std::string::npos || lower.find("password") != std::string::npos)
      throw StoreError("authentication failed for " + location_ + " (" + msg + "); check the user and password");
    if (lower.find("does not exist") != std::string::npos)
      throw StoreError("cannot open " + location_ + ": " + msg + " (create it with createdb, then crm init --db URI)");
    throw StoreError("cannot reach the PostgreSQL server of " + location_ + " (" + msg +
                     "); is it running, and are host and port right?");
  }
  exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
       "SET client_encoding = 'UTF8'; SET client_min_messages = warning; SET IntervalStyle = 'iso_8601'");
}

Conn::Conn(Conn&& o) noexcept
    : statements(o.statements), c_(o.c_), uri_(std::move(o.uri_)), location_(std::move(o.location_)),
      password_(std::move(o.password_)) {
  o.c_ = nullptr;
}

Conn::~Conn() {
  if (c_) PQfinish(c_);
}

std::string Conn::scrub(std::string message) const {
  if (!password_.empty())
    for (size_t p; (p = message.find(password_)) != std::string::npos;) message.replace(p, password_.size(), "***");
  if (!uri_.empty())
    for (size_t p; (p = message.find(uri_)) != std::string::npos;) message.replace(p, uri_.size(), location_);
  return message;
}

std::string Conn::error_message() const {
  std::string msg = c_ ? PQerrorMessage(c_) : "no connection";
  if (msg.rfind("ERROR:  ", 0) == 0) msg = msg.substr(8);
  // several lines: keep the first (the detail lines repeat it)
  size_t nl = msg.find('\n');
  if (nl != std::string::npos && nl + 1 < msg.size()) msg = msg.substr(0, nl);
  return scrub(one_line(msg));
}

Result Conn::exec(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  ++statements;
  PGresult* r;
  if (params.empty()) {
    r = PQexec(c_, sql.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    r = PQexecParams(c_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr, nullptr, 0);
  }
  Result res(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw StoreError("PostgreSQL error on " + location_ + ": " + error_message());
  return res;
}

std::optional<Result> Conn::try_exec(const std::string& sql, std::string* error) {
  try {
    return exec(sql);
  } catch (const StoreError& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

void Conn::copy_in(const std::string& copy_sql, const std::string& data) {
  bool sent = false;
  copy_in_stream(copy_sql, [&](std::string& buf) {
    if (!sent) buf = data;
    sent = true;
    return false;
  });
}

void Conn::copy_in_stream(const std::string& copy_sql, const std::function<bool(std::string&)>& produce) {
  ++statements;
  Result start(PQexec(c_, copy_sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN)
    throw StoreError("PostgreSQL error on " + location_ + ": " + error_message());
  bool ok = true, more = true;
  std::string buf;
  std::string failure;
  while (more && ok) {
    buf.clear();
    try {
      more = produce(buf);
    } catch (const std::exception& e) {
      failure = e.what();
      ok = false;
      break;
    }
    if (!buf.empty()) ok = PQputCopyData(c_, buf.data(), static_cast<int>(buf.size())) == 1;
  }
  if (PQputCopyEnd(c_, ok ? nullptr : "crm: the data could not be sent") != 1) ok = false;
  Result end(PQgetResult(c_));
  bool failed = PQresultStatus(end.get()) != PGRES_COMMAND_OK;
  std::string msg = failed ? error_message() : "";
  while (PGresult* rest = PQgetResult(c_)) PQclear(rest);
  if (!failure.empty()) throw StoreError(failure);
  if (failed || !ok) throw StoreError("PostgreSQL error on " + location_ + ": " + (msg.empty() ? error_message() : msg));
}

// --- COPY out

CopyOut::CopyOut(Conn& conn, const std::string& copy_sql) : conn_(conn) {
  ++conn.statements;
  Result start(PQexec(conn.raw(), copy_sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_OUT)
    throw StoreError("cannot read the store " + conn.location() + ": " + conn.error_message());
}

CopyOut::~CopyOut() {
  if (buf_) PQfreemem(buf_);
  if (!done_) {
    // drain the rest so the connection is usable again
    char* b = nullptr;
    while (PQgetCopyData(conn_.raw(), &b, 0) > 0) PQfreemem(b);
    while (PGresult* r = PQgetResult(conn_.raw())) PQclear(r);
  }
}

namespace {

// Un-escapes a COPY text field in place; returns its new length.
size_t unescape(char* p, size_t n) {
  size_t w = 0;
  for (size_t r = 0; r < n; ++r) {
    char c = p[r];
    if (c != '\\' || r + 1 >= n) {
      p[w++] = c;
      continue;
    }
    char e = p[++r];
    switch (e) {
      case 'b': p[w++] = '\b'; break;
      case 'f': p[w++] = '\f'; break;
      case 'n': p[w++] = '\n'; break;
      case 'r': p[w++] = '\r'; break;
      case 't': p[w++] = '\t'; break;
      case 'v': p[w++] = '\v'; break;
      case 'x': {
        int v = 0, k = 0;
        while (k < 2 && r + 1 < n && std::isxdigit(static_cast<unsigned char>(p[r + 1]))) {
          char h = p[++r];
          v = v * 16 + (h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
          ++k;
        }
        p[w++] = static_cast<char>(v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', k = 1;
          while (k < 3 && r + 1 < n && p[r + 1] >= '0' && p[r + 1] <= '7') {
            v = v * 8 + (p[++r] - '0');
            ++k;
          }
          p[w++] = static_cast<char>(v);
        } else {
          p[w++] = e;
        }
    }
  }
  return w;
}

}  // namespace

bool CopyOut::next() {
  if (done_) return false;
  if (buf_) {
    PQfreemem(buf_);
    buf_ = nullptr;
  }
  int n = PQgetCopyData(conn_.raw(), &buf_, 0);
  if (n == -1) {
    done_ = true;
    Result end(PQgetResult(conn_.raw()));
    bool failed = PQresultStatus(end.get()) != PGRES_COMMAND_OK;
    std::string msg = failed ? conn_.error_message() : "";
    while (PGresult* r = PQgetResult(conn_.raw())) PQclear(r);
    if (failed) throw StoreError("cannot read the store " + conn_.location() + ": " + msg);
    return false;
  }
  if (n < 0) {
    done_ = true;
    throw StoreError("cannot read the store " + conn_.location() + ": " + conn_.error_message());
  }
  size_t len = static_cast<size_t>(n);
  if (len && buf_[len - 1] == '\n') --len;
  fields_.clear();
  size_t start = 0;
  for (size_t i = 0; i <= len; ++i) {
    if (i < len && buf_[i] != '\t') continue;
    char* f = buf_ + start;
    size_t flen = i - start;
    if (flen == 2 && f[0] == '\\' && f[1] == 'N') {
      fields_.emplace_back();
    } else {
      if (std::memchr(f, '\\', flen)) flen = unescape(f, flen);
      fields_.emplace_back(flen ? f : buf_ + i, flen);  // never a null data() for a value
    }
    start = i + 1;
  }
  return true;
}

void copy_escape(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
}

std::string ident(const std::string& name) {
  std::string out(1, '"');
  for (char c : name) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

}  // namespace crm::engine::pg
