// A streaming RFC 4180 CSV reader for `crm import csv`: plain or gzip input (zlib), a UTF-8
// BOM skipped, a configurable delimiter, quoted fields with "" and line breaks inside.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crm::import_csv {

// A broken file (unterminated quote, unreadable gzip, runaway field): thrown with "file:line: ".
class CsvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A record's fields are views into the reader's buffer, valid until the next call of next():
// reading a row allocates nothing once the buffers have grown to the longest row.
class CsvReader {
 public:
  // A quoted field longer than this is a missing closing quote, not data.
  static constexpr size_t kMaxRecordBytes = 16u << 20;

  CsvReader(const std::string& path, char delimiter);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into fields(); false at the end of the file. Blank lines are skipped.
  bool next();
  const std::vector<std::string_view>& fields() const { return fields_; }
  // The line on which the current record starts (1-based) and each field's 1-based column.
  int64_t line() const { return record_line_; }
  const std::string& path() const { return path_; }

 private:
  int get() {
    if (pos_ == len_ && !refill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  bool refill();
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  gzFile file_ = nullptr;
  char delimiter_;
  std::vector<char> buf_;
  size_t pos_ = 0, len_ = 0;
  bool first_ = true;
  int64_t line_ = 1, record_line_ = 1;
  std::string record_;                  // the current record's field bytes, end to end
  std::vector<size_t> ends_;            // end offset of each field in record_
  std::vector<std::string_view> fields_;
};

}  // namespace crm::import_csv
