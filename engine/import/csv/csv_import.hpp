// `crm import csv`: CSV exports -> the store through a mapping (mapping.hpp), in one transaction.
// Re-importing upserts; bad rows stop the import (nothing written) unless --max-errors allows them.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/import/csv/mapping.hpp"

namespace crm::engine {
class SqlSession;
}

namespace crm::import_csv {

struct ImportOptions {
  int64_t max_errors = 0;  // bad rows skipped before the import fails
  bool dry_run = false;    // read and check everything, then roll back
};

// One bad row: where, which column and value, what is wrong and what to do.
struct RowError {
  std::string file;
  int64_t line = 0;
  std::string column;  // CSV header name ("" when the row as a whole is wrong)
  std::string value;
  std::string message;
  std::string hint;
  std::string text() const;  // "file:line: column 'C' = 'V': message"
};

struct TableCounts {
  std::string table;
  int64_t rows = 0;      // rows written (inserted or updated)
  int64_t inserted = 0;  // of which new
};

struct ImportReport {
  int64_t rows = 0;                 // data rows read, all files
  int64_t skipped_no_customer = 0;  // rows whose customer reference is empty (guest orders)
  std::vector<RowError> bad_rows;   // skipped under --max-errors
  std::vector<TableCounts> tables;  // in table order, only the tables written
  std::vector<std::string> files;   // files read, in the order read
  std::vector<std::string> notes;   // e.g. "added column customers.country (TEXT)"
  bool created_store = false;
};

// Too many bad rows (more than max_errors): nothing was written. `errors` holds the first ones.
class ImportFailed : public std::runtime_error {
 public:
  ImportFailed(std::vector<RowError> errors, int64_t total)
      : std::runtime_error(errors.empty() ? "import failed" : errors.front().text()), errors(std::move(errors)), total(total) {}
  std::vector<RowError> errors;
  int64_t total;
};

// Imports `files` into the store at `db_path` (created if missing). Throws ImportFailed (bad
// rows), MappingError (the mapping or a file's header does not fit), CsvError (unreadable file)
// or engine::StoreError / std::runtime_error (the store); in every case nothing is written.
ImportReport import_csv(const std::string& db_path, const Mapping& mapping, const std::vector<std::string>& files,
                        const ImportOptions& options);

// The import itself on an open store (csv_import.cpp), inside the caller's transaction.
void import_into(engine::SqlSession& db, const Mapping& mapping, const std::vector<std::string>& files,
                 const ImportOptions& options, ImportReport& report);

// SQL identifier quoting: "name" with " doubled.
std::string quote_identifier(const std::string& name);

}  // namespace crm::import_csv
