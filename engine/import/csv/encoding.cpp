// Decoding (encoding.hpp): glibc iconv for non-UTF-8 files, a hand-written UTF-8 check otherwise.
#include "engine/import/csv/encoding.hpp"

#include <cerrno>
#include <stdexcept>

namespace crm::import_csv {

namespace {
std::string canonical(const std::string& name) {
  std::string n;
  for (char c : name)
    if (c != '-' && c != '_') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "utf8") return "UTF-8";
  // Japanese shops' "Shift_JIS" files are nearly always Windows' CP932 (NEC/IBM extensions,
  // ① and ㈱); CP932 is a superset, so both names read as CP932.
  if (n == "shiftjis" || n == "sjis" || n == "cp932" || n == "windows31j" || n == "ms932") return "CP932";
  if (n == "latin1" || n == "iso88591") return "ISO-8859-1";
  return name;
}
}  // namespace

size_t invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || c == 0xC0 || c == 0xC1 || i + len > n) return i;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

Decoder::Decoder(const std::string& name) : name_(canonical(name)) {
  if (name_ == "UTF-8") return;
  cd_ = iconv_open("UTF-8", name_.c_str());
  if (cd_ == reinterpret_cast<iconv_t>(-1))
    throw std::invalid_argument("unknown encoding '" + name + "' (use utf-8, shift_jis, cp932, latin-1 or an iconv name)");
}

Decoder::~Decoder() {
  if (!is_utf8()) iconv_close(cd_);
}

std::optional<std::string_view> Decoder::decode(std::string_view field, size_t& bad_offset) {
  bool ascii = true;
  for (char c : field)
    if (static_cast<unsigned char>(c) >= 0x80) { ascii = false; break; }
  if (ascii) return field;
  if (is_utf8()) {
    bad_offset = invalid_utf8_at(field);
    if (bad_offset != std::string_view::npos) return std::nullopt;
    return field;
  }
  out_.resize(field.size() * 3 + 4);  // a CP932 or Latin-1 byte never takes more than 3 in UTF-8
  char* in = const_cast<char*>(field.data());
  size_t in_left = field.size();
  char* out = out_.data();
  size_t out_left = out_.size();
  iconv(cd_, nullptr, nullptr, nullptr, nullptr);
  if (iconv(cd_, &in, &in_left, &out, &out_left) == static_cast<size_t>(-1)) {
    bad_offset = field.size() - in_left;
    return std::nullopt;
  }
  return std::string_view(out_.data(), out_.size() - out_left);
}

}  // namespace crm::import_csv
