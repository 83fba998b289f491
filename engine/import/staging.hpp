// Filling a store of any backend with a generator or importer written for SQLite: a SQLite path
// is filled directly; a PostgreSQL store (which must hold no customers) gets a temporary SQLite
// file, copied in with COPY in one transaction and then removed.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "engine/store/pg_store.hpp"

namespace crm::examples {

template <class Fill>
auto fill_any_store(const std::string& location, Fill fill) {
  if (!engine::pg::is_uri(location)) return fill(location);
  auto store = engine::PgStore::open(location, /*create_if_missing=*/true);
  if (store->customer_count() > 0)
    throw std::runtime_error("'" + store->location() + "' already holds customers; use an empty database or schema");
  const char* tmpdir = std::getenv("TMPDIR");
  std::string dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  std::string tmpl = dir + "/crm-staging-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("cannot make a staging file in " + dir);
  ::close(fd);
  std::filesystem::remove(tmpl);  // the generator wants a new file
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
    }
  } cleanup{tmpl};
  auto result = fill(tmpl);
  store->copy_from_sqlite(tmpl);
  return result;
}

}  // namespace crm::examples
