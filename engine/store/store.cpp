// What every backend of the Store shares: the run's time zone rule, the run lock's release,
// and open_store(), which picks the backend from the location.
#include "engine/store/store.hpp"

#include "engine/store/pg_store.hpp"
#include "engine/store/sqlite_store.hpp"

namespace crm::engine {

Store::~Store() = default;

SqlSession& Store::sql() { throw StoreError("the store '" + location() + "' cannot run SQL"); }

std::string run_timezone_name(const std::optional<std::string>& script_timezone,
                              const std::optional<std::string>& store_timezone) {
  if (script_timezone) return *script_timezone;
  return store_timezone.value_or("UTC");
}

TimeZone Store::run_timezone(const std::optional<std::string>& script_timezone) {
  std::string name = run_timezone_name(script_timezone, script_timezone ? std::nullopt : meta_timezone());
  std::string error;
  auto tz = TimeZone::load(name, error);
  if (!tz) throw StoreError(error + (script_timezone ? "" : " (the store's meta timezone)"));
  return *tz;
}

LoadResult Store::load_facts(const std::string& tz_name) {
  std::string error;
  auto tz = TimeZone::load(tz_name, error);
  if (!tz) throw StoreError(error);
  return load_facts(*tz);
}

RunLock& RunLock::operator=(RunLock&& o) noexcept {
  if (this != &o) {
    if (release_) release_();
    release_ = std::move(o.release_);
    o.release_ = nullptr;
  }
  return *this;
}

RunLock::~RunLock() {
  if (release_) release_();
}

std::string shard_sql(const std::string& column, const Shard& shard) {
  std::string P = std::to_string(kShardP);
  std::string m = "((" + column + " % " + P + " + " + P + ") % " + P + ")";
  std::string a = "((" + m + " * " + std::to_string(kShardA) + ") % " + P + ")";
  std::string x = "((" + a + " | (" + a + " >> 13)) - (" + a + " & (" + a + " >> 13)))";  // a xor (a >> 13)
  std::string b = "((" + x + " * " + std::to_string(kShardB) + ") % " + P + ")";
  return "(" + column + " IS NULL OR " + b + " % " + std::to_string(shard.count) + " = " + std::to_string(shard.index - 1) + ")";
}

std::unique_ptr<Store> open_store(const std::string& location, bool create_if_missing) {
  if (pg::is_uri(location)) return PgStore::open(location, create_if_missing);
  return std::make_unique<SqliteStore>(SqliteStore::open(location, create_if_missing));
}

std::unique_ptr<Store> open_store_read_only(const std::string& location) {
  if (pg::is_uri(location)) return PgStore::open(location, /*create_if_missing=*/false);
  return std::make_unique<SqliteStore>(SqliteStore::open(location, /*create_if_missing=*/false, /*read_only=*/true));
}

int init_store(const std::string& location, std::vector<std::string>* added) {
  if (pg::is_uri(location)) return PgStore::init(location);
  SchemaRepairs repairs;
  int before = SqliteStore::init(location, &repairs);
  if (added) {
    for (const auto& t : repairs.tables) added->push_back("table " + t);
    for (const auto& c : repairs.columns) added->push_back("column " + c);
  }
  return before;
}

}  // namespace crm::engine
