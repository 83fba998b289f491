// A loaded .crm source file and offset -> line:column mapping.
// Positions everywhere in lang/ are byte offsets; they become line:col only when printed.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crm::lang {

// A half-open byte range [begin, end) in one source file.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct LineCol {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, counted in UTF-8 code points
};

class SourceFile {
 public:
  SourceFile(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  // The file name without directories and without the ".crm" extension ("welcome" for
  // "campaigns/welcome.crm"); unnamed rules are called "<stem>:<line>".
  std::string stem() const;
  LineCol line_col(uint32_t offset) const;
  // The text of 1-based line `line`, without its newline.
  std::string_view line_text(uint32_t line) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

using SourcePtr = std::shared_ptr<const SourceFile>;

// Reads a script file; returns nullptr and sets `error` when it cannot be read, is not a regular
// file (a directory, a device such as /dev/zero, a FIFO) or is larger than kMaxSourceBytes.
SourcePtr read_source(const std::string& path, std::string& error);

}  // namespace crm::lang
