// The CSV reader (csv_reader.hpp): a byte loop over a 256 KiB zlib buffer. Bytes are copied once
// into the record buffer; fields are trimmed of spaces and tabs outside quotes.
#include "engine/import/csv/csv_reader.hpp"

#include <cstring>

namespace crm::import_csv {

namespace {
constexpr size_t kReadChunk = 256 * 1024;
}

CsvReader::CsvReader(const std::string& path, char delimiter)
    : path_(path), file_(gzopen(path.c_str(), "rb")), delimiter_(delimiter), buf_(kReadChunk) {
  if (!file_) throw CsvError("cannot open '" + path + "': " + std::strerror(errno));
  gzbuffer(file_, kReadChunk);
}

CsvReader::~CsvReader() { gzclose(file_); }

bool CsvReader::refill() {
  int n = gzread(file_, buf_.data(), static_cast<unsigned>(buf_.size()));
  if (n < 0) {
    int code = 0;
    throw CsvError(path_ + ": cannot read: " + gzerror(file_, &code));
  }
  pos_ = 0;
  len_ = static_cast<size_t>(n);
  return n > 0;
}

void CsvReader::fail(const std::string& what) const {
  throw CsvError(path_ + ":" + std::to_string(record_line_) + ": " + what);
}

// record  -> field (DELIM field)* (CRLF | LF | CR | EOF)
// field   -> '"' (any but '"' | '""')* '"' spaces | unquoted bytes
bool CsvReader::next() {
  record_.clear();
  ends_.clear();
  int c = get();
  if (first_) {  // a UTF-8 byte order mark before the header
    first_ = false;
    if (c == 0xEF) {
      int b = get(), d = get();
      if (b != 0xBB || d != 0xBF) fail("the file starts with a broken byte order mark");
      c = get();
    }
  }
  for (;;) {  // blank lines
    if (c == '\n') { ++line_; c = get(); }
    else if (c == '\r') { ++line_; c = get(); if (c == '\n') c = get(); }
    else break;
  }
  if (c < 0) return false;
  record_line_ = line_;
  size_t field_start = 0;
  auto end_field = [&] {
    // trim spaces and tabs kept from outside quotes
    size_t e = record_.size();
    while (e > field_start && (record_[e - 1] == ' ' || record_[e - 1] == '\t')) --e;
    record_.resize(e);
    ends_.push_back(e);
    field_start = e;
  };
  bool at_field_start = true;
  for (;;) {
    if (c == '"' && at_field_start) {
      at_field_start = false;
      // a quoted field: everything up to the closing quote, kept verbatim
      for (;;) {
        c = get();
        if (c < 0) fail("a quoted field is not closed (a '\"' is missing)");
        if (c == '"') {
          c = get();
          if (c == '"') { record_.push_back('"'); continue; }
          break;
        }
        if (c == '\n') ++line_;
        record_.push_back(static_cast<char>(c));
        if (record_.size() > kMaxRecordBytes) fail("a record longer than 16 MiB (a quote is probably missing)");
      }
      while (c == ' ' || c == '\t') c = get();
      if (c >= 0 && c != delimiter_ && c != '\n' && c != '\r') fail("text after a closing quote (write \"\" for a quote inside a quoted field)");
      continue;
    }
    if (c == delimiter_) {
      end_field();
      at_field_start = true;
      c = get();
      continue;
    }
    if (c < 0 || c == '\n' || c == '\r') {
      end_field();
      if (c == '\n') ++line_;
      else if (c == '\r') {
        ++line_;
        c = get();
        if (c >= 0 && c != '\n') --pos_;  // a lone CR ends the line; keep the next byte
      }
      break;
    }
    if (at_field_start && (c == ' ' || c == '\t')) { c = get(); continue; }  // leading spaces
    at_field_start = false;
    record_.push_back(static_cast<char>(c));
    if (record_.size() > kMaxRecordBytes) fail("a record longer than 16 MiB");
    c = get();
  }
  fields_.resize(ends_.size());
  size_t start = 0;
  for (size_t i = 0; i < ends_.size(); ++i) {
    fields_[i] = std::string_view(record_.data() + start, ends_[i] - start);
    start = ends_[i];
  }
  return true;
}

}  // namespace crm::import_csv
