// Importer of the CDNOW purchase data (Fader, Hardie & Lee 2005; ../shared/data/cdnow/) into a
// crm store: `crm import cdnow`. Whitespace-separated lines: customer id, [sample: second id],
// date YYYYMMDD, number of CDs, dollar value.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace crm::importer {

struct CdnowCounts {
  int64_t lines = 0;      // data lines read
  int64_t customers = 0;
  int64_t orders = 0;     // one paid order per line
  int64_t skipped_bad = 0;
  std::vector<std::string> warnings;  // "file:line: ..." for the first few bad lines
};

// The time of day given to every order: the file has dates only. Noon keeps each order on its
// calendar day in any time zone a run might use within +-11 hours.
constexpr const char* kCdnowTimeOfDay = "T12:00:00";
// The one product every order holds (the file counts CDs, not titles).
constexpr const char* kCdnowSku = "CD";

// Reads `path` (the master file's four columns or the sample's five; a header line is skipped)
// into the new store `db_path` in one transaction: customers (created_at = first purchase),
// one `paid` order per line (id = line number among data lines, total = dollar value), and an
// order item of product "CD" with the number of CDs. Throws std::runtime_error when the file
// cannot be read, has no data line, or the store already holds customers.
CdnowCounts import_cdnow(const std::string& db_path, const std::string& path);

}  // namespace crm::importer
