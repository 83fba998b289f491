// Text encodings of imported files: UTF-8 (checked), or any encoding iconv knows (Shift_JIS and
// its Windows form CP932 for Japanese shops, Latin-1, ...) converted to UTF-8 field by field.
#pragma once
#include <iconv.h>

#include <optional>
#include <string>
#include <string_view>

namespace crm::import_csv {

class Decoder {
 public:
  // `name` as in a mapping: "utf-8" (default), "shift_jis", "sjis", "cp932", "latin-1", or any
  // iconv name. Throws std::invalid_argument for an encoding iconv does not know.
  explicit Decoder(const std::string& name);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The field as UTF-8. ASCII and valid UTF-8 (for a UTF-8 file) are returned as they are, without
  // copying; otherwise the text is converted into a buffer owned by the decoder (valid until the
  // next call). nullopt when the bytes are not valid in the encoding; `bad_offset` is then the
  // byte offset of the first bad byte.
  std::optional<std::string_view> decode(std::string_view field, size_t& bad_offset);
  bool is_utf8() const { return cd_ == reinterpret_cast<iconv_t>(-1); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  iconv_t cd_ = reinterpret_cast<iconv_t>(-1);
  std::string out_;
};

// The offset of the first byte that is not valid UTF-8, or npos.
size_t invalid_utf8_at(std::string_view s);

}  // namespace crm::import_csv
