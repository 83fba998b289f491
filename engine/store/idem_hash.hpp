// The outbox's narrow key (schema version 4; its layout since version 5): a 64-bit value made from
// an idem_key, the column `idem_hash` with a UNIQUE index in both backends. Two different keys may
// (rarely) share a value: the writer then probes value + 1, + 2, ... comparing the texts (docs/store.md).
#pragma once
#include <cstdint>
#include <string_view>

namespace crm::engine {

// FNV-1a over the bytes, then the 64-bit finaliser of MurmurHash3 (so keys that differ in their
// last bytes spread over the whole range). Schema version 4's whole idem_hash; since version 5 the
// low 32 bits of it.
inline uint64_t idem_text_hash(std::string_view key) {
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
  return h;
}

// The customer id of a crm idem_key "rule|customer|dedupe|index": the decimal integer after the
// first '|' (which must end at a '|'); false for any other text.
inline bool idem_key_customer(std::string_view key, int64_t& customer) {
  size_t at = key.find('|');
  if (at == std::string_view::npos) return false;
  size_t i = at + 1;
  bool negative = i < key.size() && key[i] == '-';
  if (negative) ++i;
  size_t digits = i;
  uint64_t v = 0;
  for (; i < key.size() && key[i] >= '0' && key[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(key[i] - '0');
  if (i == digits || i - digits > 19 || i >= key.size() || key[i] != '|') return false;
  customer = static_cast<int64_t>(negative ? 0 - v : v);
  return true;
}

// Since schema version 5: the customer id in the high 32 bits (its low 32 bits; a key without one
// keeps the text hash's), the text hash in the low 32. A day's rows come in customer order, so
// their index entries go in at one moving point of outbox_idem_hash (appended on a fresh day)
// instead of on random pages. Fixed forever: stores hold these values.
inline int64_t idem_hash(std::string_view key) {
  uint64_t h = idem_text_hash(key);
  int64_t customer = 0;
  if (idem_key_customer(key, customer)) h = (static_cast<uint64_t>(customer) << 32) | (h & 0xffffffffull);
  return static_cast<int64_t>(h);
}

// The slot after `slot` when probing past a collision (wraps around).
inline int64_t next_idem_slot(int64_t slot) { return static_cast<int64_t>(static_cast<uint64_t>(slot) + 1); }

}  // namespace crm::engine
