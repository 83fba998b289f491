// Firing history of rules per customer, the memory behind `once`, `once per`, `every`, `after`
// and `limit` caps. Loaded from the outbox for a real run; kept in memory across the days of a
// dry run or simulation. Only actions that passed (status sent) are recorded.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lang/ast.hpp"
#include "lang/date.hpp"
#include "engine/run/day_log.hpp"
#include "engine/store/zero_array.hpp"

namespace crm::engine {

// Lookups happen for every customer whose condition is TRUE, in customer-id order, so entries
// are found through arrays indexed by customer id (one cache-friendly load) rather than a hash
// of millions of entries; ids beyond the dense limit (or negative) use a hash map.
//
// Storage is flat: an entry per (rule, customer) holds the common case, one fire, inline (its
// day and key); a second fire moves the records into chains in one shared pool. Sends are
// chains in another pool, one head index per customer. Recording allocates nothing but the
// amortised growth of these few arrays.
class History {
 public:
  // Ids below this are indexed directly: 4 bytes per id per rule that ever fired, so a store
  // of 1M customers costs 4 MB per rule (only the 2 MiB blocks written are mapped).
  static constexpr int64_t kDenseIdLimit = int64_t{1} << 26;

  History() = default;
  // Only ids below `dense_limit` (at most kDenseIdLimit) are indexed directly.
  // The dense arrays start at dense_limit / 16 entries (the customers of dense_limit_for).
  explicit History(int64_t dense_limit)
      : dense_limit_(dense_limit < kDenseIdLimit ? dense_limit : kDenseIdLimit),
        size_hint_(static_cast<size_t>(dense_limit_ > 0 ? dense_limit_ / 16 + 1 : 0)) {}
  // The dense limit for `rows` customers: ids up to 16 per customer (at least 1024) are indexed
  // directly, larger ones (a sparse numbering, or the one-customer slice of a big store that the
  // embedding API evaluates) go through the hash map, so memory stays proportional to the store.
  static int64_t dense_limit_for(size_t rows) {
    int64_t limit = static_cast<int64_t>(rows) * 16;
    return limit < 1024 ? 1024 : limit;
  }

  // Dedupe keys ("once", a `once per` value, a date for `every`, an occurrence key) are
  // interned: the hot path compares ids, the text is kept for output.
  uint32_t intern_key(std::string_view text);
  // The text of a key: the reference stays valid as long as the History (ActionOut::dedupe views it).
  const std::string& key_text(uint32_t key) const { return key_texts_[key]; }

  // Records that rule `rule` fired for `customer` on `day` with dedupe key `key`.
  void record_fire(uint32_t rule, int64_t customer, Days day, uint32_t key);
  void record_fire(uint32_t rule, int64_t customer, Days day, const std::string& key) {
    record_fire(rule, customer, day, intern_key(key));
  }
  // Records one passed send (for caps): its channel and the campaign of its rule.
  void record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign);

  // A day's log (day_log.hpp), recorded in its order, as record_fire / record_send would; or, by
  // recording thread `thread` (begin_concurrent), one of several logs of disjoint customers.
  static constexpr size_t kSerial = SIZE_MAX;
  void apply(const DayLog& log, size_t thread = kSerial);

  bool fired_ever(uint32_t rule, int64_t customer) const { return entry(rule, customer) != 0; }
  bool fired_with_key(uint32_t rule, int64_t customer, uint32_t key) const;
  bool fired_with_key(uint32_t rule, int64_t customer, const std::string& key) const;
  // The latest day on or before `day` the rule fired, if any.
  std::optional<Days> last_fired(uint32_t rule, int64_t customer, Days day) const;
  // Passed sends in the window (day - days, day], optionally only on `channel` / of `campaign`.
  int sends_in_window(int64_t customer, Days day, int64_t days, std::optional<lang::Channel> channel,
                      std::optional<uint32_t> campaign) const;

  size_t fire_count() const { return fire_count_; }
  // Interned dedupe keys so far.
  size_t key_count() const { return key_texts_.size(); }

  // Forgets every fire and send (the interned keys stay, with their ids), keeping the
  // allocations: costs what was recorded since the last clear, not the size of the arrays
  // (the embedding API clears the history of its one-customer runner before every call).
  void clear_records();

  // Recording from several threads at once: the day logs of a day split over threads, each
  // holding only the customers of its thread's rows (Runner::apply_day_logs). begin_concurrent
  // makes the dense arrays cover ids [min_id, max_id] for `rules` rules; then each thread calls
  // record_fire / record_send (or apply) with its number (below `threads`), which write its
  // customers' entries and put new chain nodes in the thread's own pools; end_concurrent moves
  // those into the shared pools, thread by thread, and rewrites the references to them. Between
  // the two, nothing reads the history, and no two threads record one customer.
  // begin_concurrent returns false, changing nothing, when an id is not dense or the pools are
  // too large for the marks of a thread's nodes: the caller records serially.
  bool begin_concurrent(size_t threads, size_t rules, int64_t min_id, int64_t max_id);
  void record_fire(uint32_t rule, int64_t customer, Days day, uint32_t key, size_t thread);
  void record_send(int64_t customer, Days day, lang::Channel channel, uint32_t campaign, size_t thread);
  void end_concurrent();

  // A hint that (rule, customer) is about to be looked up: starts loading its dense entry.
  void prefetch(uint32_t rule, int64_t customer) const {
    if (!dense(customer) || rule >= dense_.size()) return;
    const auto& entries = dense_[rule];
    auto id = static_cast<size_t>(customer);
    if (id < entries.size() && entries.written_near(id)) __builtin_prefetch(&entries[id]);
  }

 private:
  // One (rule, customer) in 4 bytes (a first day on a large store writes one per rule per
  // customer it fires for), answering the common questions in one load of an array walked in
  // customer order: fired ever, the latest key, the latest day.
  //   0: never fired.
  //   kChained clear: fired once, inline: the key + 1 in the low kKeyBits bits, the day above
  //     them (inline_fits: days 0..65535 since 1970, keys below kKeyMask; others go in a chain).
  //   kChained | n: the records are the chain of fires_ from node n - 1, newest first; its first
  //     node carries the latest day of the whole chain.
  using Entry = uint32_t;
  static constexpr uint32_t kChained = uint32_t{1} << 31;
  // Between begin_concurrent and end_concurrent, a node reference (node + 1) with this bit is a
  // node of the recording thread's own pool (Local); the shared pools stay below it.
  static constexpr uint32_t kLocal = uint32_t{1} << 30;
  static constexpr uint32_t kKeyBits = 15, kKeyMask = (uint32_t{1} << kKeyBits) - 1;
  static bool inline_fits(Days day, uint32_t key) { return day >= 0 && day <= 0xFFFF && key < kKeyMask; }
  static Entry inline_entry(Days day, uint32_t key) { return static_cast<uint32_t>(day) << kKeyBits | (key + 1); }
  static Days inline_day(Entry e) { return static_cast<Days>(e >> kKeyBits); }
  static uint32_t inline_key(Entry e) { return (e & kKeyMask) - 1; }
  struct FireNode {
    Days day;
    uint32_t key;
    uint32_t next;  // node + 1 (0: end of chain)
    Days max_day;   // the latest day of this node and the nodes after it
  };
  struct SendNode {
    Days day;
    lang::Channel channel;
    uint32_t campaign;
    uint32_t next;  // node + 1 (0: end of chain); chains run newest first
  };
  bool dense(int64_t customer) const { return customer >= 0 && customer < dense_limit_; }
  // The first size of a dense array: the customers of the store dense_limit_for was given.
  size_t size_hint() const { return size_hint_; }
  Entry entry(uint32_t rule, int64_t customer) const;  // 0: never fired
  Entry& get(uint32_t rule, int64_t customer);
  // The chain node that `ref` (node + 1) names: the shared pool's, or (kLocal) local's.
  const FireNode& fire_node(uint32_t ref, const std::vector<FireNode>* local = nullptr) const {
    return ref & kLocal ? (*local)[(ref & ~kLocal) - 1] : fires_[ref - 1];
  }
  uint32_t sends_head(int64_t customer) const;
  // Records a fire in entry `e`: inline when it is the first and fits, else a node in `pool`
  // (fires_, or a thread's own: `mark` kLocal, `local` that pool) chained to the entry's
  // records. Returns whether `e` now names a node of `pool`.
  template <class Pool>
  bool add_fire(Entry& e, Days day, uint32_t key, Pool& pool, uint32_t mark, const std::vector<FireNode>* local);

  std::vector<ZeroArray<Entry>> dense_;                // [rule][customer id]
  std::unordered_map<uint64_t, Entry> sparse_;         // (rule, customer) -> entry
  std::vector<FireNode, FreshPageAllocator<FireNode>> fires_;  // chains of (rule, customer)s fired twice or more
  ZeroArray<uint32_t> dense_sends_;                    // [customer id] -> send node + 1 (0: none)
  std::unordered_map<int64_t, uint32_t> sparse_sends_;  // customer -> send node + 1
  std::vector<SendNode, FreshPageAllocator<SendNode>> sends_;
  // The dense entries and send heads made since the last clear_records (what it resets), up to
  // kMaxMade each; past that (a big run) clear_records resets the whole arrays.
  static constexpr size_t kMaxMade = 4096;
  std::vector<std::pair<uint32_t, size_t>> dense_made_;  // (rule, customer id)
  std::vector<size_t> dense_sends_made_;                 // customer ids
  bool made_overflow_ = false;
  size_t fire_count_ = 0;
  int64_t dense_limit_ = kDenseIdLimit;
  size_t size_hint_ = 0;
  bool sends_sorted_ = true;  // every customer's sends are in day order
  // One recording thread's new nodes and the entries and send heads that now point at them.
  struct Local {
    std::vector<FireNode> fires;
    std::vector<SendNode> sends;
    std::vector<std::pair<uint32_t, uint32_t>> fire_heads;  // (rule, customer id)
    std::vector<uint32_t> send_heads;                      // customer ids
    size_t fire_count = 0;
    bool unsorted = false;
  };
  std::vector<Local> locals_;
  std::deque<std::string> key_texts_;  // a deque: key_text's references stay valid (ActionOut::dedupe)
  std::unordered_map<std::string, uint32_t> key_ids_;
};

}  // namespace crm::engine
