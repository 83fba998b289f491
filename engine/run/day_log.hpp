// A day's passed fires and sends, as one thread settles its rows, waiting to be written into the
// History (History::apply) when something next reads it: the next day's evaluation. The last
// day of a run is never written there, because nothing reads it again (a real run's history
// comes back from the outbox the next time). On a store of 1M customers, that was 60-odd MB of
// fresh history pages on a one-day run for ~9 MB of log (docs/evaluator.md, "Around the
// evaluator").
#pragma once
#include <cstdint>
#include <vector>

#include "lang/ast.hpp"
#include "lang/date.hpp"
#include "engine/store/zero_array.hpp"

namespace crm::engine {

struct DayLog {
  struct Fire {
    int64_t customer;
    uint32_t rule;
    uint32_t key;  // the interned dedupe key
  };
  struct Send {
    int64_t customer;
    uint32_t campaign;  // campaign id + 1 (0: none)
    lang::Channel channel;
  };
  Days day = 0;  // every record's day (a log holds one day)
  // In the order they were settled (row order): applied in that order, the History is the one
  // recording them at once would have made. Fresh pages: only what a day writes is mapped.
  std::vector<Fire, FreshPageAllocator<Fire>> fires;
  std::vector<Send, FreshPageAllocator<Send>> sends;

  bool empty() const { return fires.empty() && sends.empty(); }
  // Keeps the capacities: the next day writes into pages already mapped.
  void clear() {
    fires.clear();
    sends.clear();
  }
};

}  // namespace crm::engine
