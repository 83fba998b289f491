// A Frame: the attributes of many customers as of one date, stored column by column.
// frame_builder.cpp and frame_cursor.cpp fill it from the store's facts; the compiled program
// evaluates rules over it.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/store/string_pool.hpp"
#include "lang/date.hpp"
#include "lang/types.hpp"

namespace crm::engine {

// One attribute for every row. Scalars use one slot per row: int, bool (0/1), date (days since
// 1970-01-01) and string (a StringPool id) in `i64`; decimal in `f64`. `valid[r] == 0` is null.
// Lists: row r holds list_values[list_offsets[r] .. list_offsets[r + 1]) (ids or ints; decimal
// lists are not produced by the store), list_offsets has rows + 1 entries.
struct Column {
  lang::Type type;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<uint8_t> valid;
  std::vector<uint32_t> list_offsets;
  std::vector<int64_t> list_values;
};

struct Frame {
  size_t rows = 0;
  Days today = 0;                     // the evaluation date D
  std::vector<int64_t> customer_id;   // row -> customers.id
  std::unordered_map<std::string, Column> columns;  // by attribute name: "purchase_count", "subscription.months", ...
  std::shared_ptr<StringPool> strings = std::make_shared<StringPool>();

  const Column* column(const std::string& name) const {
    auto it = columns.find(name);
    return it == columns.end() ? nullptr : &it->second;
  }
};

}  // namespace crm::engine
