// The outbox's narrow key (schema version 4): a 64-bit hash of an idem_key, the column
// `idem_hash` with a UNIQUE index in both backends. Two different keys may (very rarely) share
// a hash: the writer then probes hash + 1, hash + 2, ... comparing the texts (docs/store.md).
#pragma once
#include <cstdint>
#include <string_view>

namespace crm::engine {

// FNV-1a over the bytes, then the 64-bit finaliser of MurmurHash3 (so keys that differ in their
// last bytes spread over the whole range). Fixed forever: stores hold these values.
inline int64_t idem_hash(std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<int64_t>(h);
}

// The slot after `slot` when probing past a collision (wraps around).
inline int64_t next_idem_slot(int64_t slot) { return static_cast<int64_t>(static_cast<uint64_t>(slot) + 1); }

}  // namespace crm::engine
