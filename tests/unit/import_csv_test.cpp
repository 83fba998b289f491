// Units of `crm import csv` (engine/import/csv/): the CSV reader (quotes, line breaks, BOM, CRLF,
// delimiter), Shift_JIS decoding, cell conversion (formats, zones, decimals, maps), the mapping checks.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/import/csv/csv_reader.hpp"
#include "engine/import/csv/encoding.hpp"
#include "engine/import/csv/mapping.hpp"
#include "engine/import/csv/row_conversion.hpp"

using namespace crm::import_csv;

namespace {
std::string write_temp(const std::string& name, const std::string& bytes) {
  auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}
std::vector<std::string> row(CsvReader& in) {
  REQUIRE(in.next());
  return {in.fields().begin(), in.fields().end()};
}
bool convert(const FieldSpec& f, const std::string& cell, Value& v, std::string* tz = nullptr) {
  FieldContext c;
  c.spec = &f;
  static const std::vector<const char*> statuses = {"paid", "cancelled", "refunded"};
  c.statuses = &statuses;
  if (tz) {
    std::string err;
    c.zone = crm::engine::TimeZone::load(*tz, err);
    c.write_naive = false;
  }
  std::string e, h;
  return convert_cell(cell, c, v, e, h);
}
}  // namespace

TEST_CASE("csv reader: BOM, quotes with delimiters, quotes and line breaks, CRLF, blank lines") {
  auto p = write_temp("crm_csv_reader.csv", "\xEF\xBB\xBF" "a,b,c\r\n1, \"x, \"\"y\"\"\" ,\"two\nlines\"\r\n\r\n3,,\n");
  CsvReader in(p, ',');
  CHECK(row(in) == std::vector<std::string>{"a", "b", "c"});
  CHECK(row(in) == std::vector<std::string>{"1", "x, \"y\"", "two\nlines"});
  CHECK(in.line() == 2);
  CHECK(row(in) == std::vector<std::string>{"3", "", ""});
  CHECK(in.line() == 5);
  CHECK_FALSE(in.next());
  std::remove(p.c_str());
}

TEST_CASE("csv reader: another delimiter; an unclosed quote names its line") {
  auto p = write_temp("crm_csv_reader2.csv", "a;b\n1;2,5\n\"open;3\n");
  CsvReader in(p, ';');
  row(in);
  CHECK(row(in) == std::vector<std::string>{"1", "2,5"});
  CHECK_THROWS_WITH_AS(in.next(), doctest::Contains(":3: a quoted field is not closed"), CsvError);
  std::remove(p.c_str());
}

TEST_CASE("decoding: Shift_JIS (CP932) to UTF-8, invalid UTF-8 found") {
  Decoder sjis("Shift_JIS");
  size_t bad = 0;
  auto d = sjis.decode("\x8E\x52\x93\x63 \x89\xD4\x8E\x71", bad);  // 山田 花子
  REQUIRE(d);
  CHECK(*d == "山田 花子");
  Decoder utf8("utf-8");
  CHECK_FALSE(utf8.decode("ab\xFF", bad));
  CHECK(bad == 2);
  CHECK_THROWS_AS(Decoder("no-such-encoding"), std::invalid_argument);
}

TEST_CASE("time formats: loose digits, %z, %b, AM/PM, impossible dates") {
  auto t = parse_time_format("12/1/2010 8:26", "%m/%d/%Y %H:%M");
  REQUIRE(t);
  CHECK(format_timestamp(t->local_seconds, t->offset) == "2010-12-01T08:26:00");
  t = parse_time_format("2024-03-01 10:15:22 -0500", "%Y-%m-%d %H:%M:%S %z");
  REQUIRE(t);
  CHECK(format_timestamp(t->local_seconds, t->offset) == "2024-03-01T10:15:22-05:00");
  t = parse_time_format("5 March 2024 7:05 PM", "%d %b %Y %I:%M %p");
  REQUIRE(t);
  CHECK(format_timestamp(t->local_seconds, std::nullopt) == "2024-03-05T19:05:00");
  CHECK_FALSE(parse_time_format("2023-02-29", "%Y-%m-%d"));
  CHECK_FALSE(parse_time_format("2023-02-01x", "%Y-%m-%d"));
}

TEST_CASE("cells: decimals, maps, statuses, ids, zones") {
  FieldSpec money;
  money.kind = Kind::Real;
  money.decimal = ',';
  money.thousands = ".";
  money.strip = {"€"};
  Value v;
  REQUIRE(convert(money, "1.234,50€", v));
  CHECK(v.d == doctest::Approx(1234.5));
  CHECK_FALSE(convert(money, "12.5.0,1x", v));

  FieldSpec status;
  status.kind = Kind::Status;
  status.column = "Financial Status";
  status.map = {{"canceled", "cancelled"}};
  REQUIRE(convert(status, "Canceled", v));
  CHECK(v.s == "cancelled");
  CHECK_FALSE(convert(status, "pending", v));

  FieldSpec id;
  id.kind = Kind::Ref;
  id.prefix_offsets = {{"C", 1000000000}};
  REQUIRE(convert(id, "C536379", v));
  CHECK(v.i == 1000536379);
  REQUIRE(convert(id, "17850.0", v));
  CHECK(v.i == 17850);
  CHECK_FALSE(convert(id, "17850.5", v));

  FieldSpec at;
  at.kind = Kind::Time;
  at.formats = {"%Y/%m/%d %H:%M"};
  std::string tokyo = "Asia/Tokyo";
  REQUIRE(convert(at, "2024/01/02 09:30", v, &tokyo));
  CHECK(v.s == "2024-01-02T09:30:00+09:00");
  std::string ny = "America/New_York";
  REQUIRE(convert(at, "2024/07/02 09:30", v, &ny));
  CHECK(v.s == "2024-07-02T09:30:00-04:00");
}

TEST_CASE("mapping: unknown keys and missing required fields are errors naming them") {
  CHECK_THROWS_WITH_AS(parse_mapping_json(R"({"orders": {"id": "a", "customer_id": "b", "ordered_at": "c", "totl": "d"}})", "m.json"),
                       doctest::Contains("[orders]: unknown field 'totl'"), MappingError);
  CHECK_THROWS_WITH_AS(parse_mapping_json(R"({"orders": {"id": "a", "customer_id": "b"}})", "m.json"),
                       doctest::Contains("needs ordered_at"), MappingError);
  CHECK_THROWS_WITH_AS(parse_mapping_json(R"({"customers": {"id": "a", "attributes": {"x": {"column": "x", "type": "BLOB; DROP"}}}})", "m.json"),
                       doctest::Contains("type must be"), MappingError);
  auto m = parse_mapping_json(R"({"timezone": "UTC", "orders": {"id": {"column": "Name", "strip_prefix": "#"}, "customer_id": {"column": "Email", "by": "email"}, "ordered_at": "Created at"}})", "m.json");
  REQUIRE(m.tables.size() == 1);
  CHECK(m.tables[0].files == std::vector<std::string>{"*orders*"});
  CHECK(m.tables[0].field("customer_id")->by == "email");
}
