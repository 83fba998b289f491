// SourceFile: the text of one .crm file, with its line table for printing positions.
#include "lang/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "lang/parser.hpp"

namespace crm::lang {

SourceFile::SourceFile(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string SourceFile::stem() const {
  std::string s = path_;
  auto slash = s.find_last_of('/');
  if (slash != std::string::npos) s = s.substr(slash + 1);
  if (s.size() > 4 && s.compare(s.size() - 4, 4, ".crm") == 0) s.resize(s.size() - 4);
  return s;
}

LineCol SourceFile::line_col(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - line_starts_.begin());
  uint32_t start = line_starts_[line - 1];
  uint32_t col = 1;
  for (uint32_t i = start; i < offset; ++i)
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;  // count code points
  return {line, col};
}

std::string_view SourceFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  uint32_t start = line_starts_[line - 1];
  uint32_t end = line < line_starts_.size() ? line_starts_[line] - 1 : static_cast<uint32_t>(text_.size());
  std::string_view v(text_.data() + start, end - start);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

SourcePtr read_source(const std::string& path, std::string& error) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any file
  // that is not regular (a directory, /dev/zero, a socket), which could never end or be a script.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = "cannot open '" + path + "'";
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode)                         ? "a directory"
                       : S_ISFIFO(st.st_mode)                      ? "a pipe (FIFO)"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                      ? "a socket"
                                                                   : "not a regular file";
    ::close(fd);
    error = "'" + path + "' is " + what + ", not a script file (a script must be a regular file)";
    return nullptr;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxSourceBytes) {
    ::close(fd);
    error = "'" + path + "' is " + std::to_string(st.st_size) + " bytes, larger than the limit for a script (" +
            std::to_string(kMaxSourceBytes) + " bytes)";
    return nullptr;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::string text;
  char buf[65536];
  for (;;) {  // bounded even if the file grows while it is read
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      error = "cannot read '" + path + "'";
      return nullptr;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxSourceBytes) {
      ::close(fd);
      error = "'" + path + "' is larger than the limit for a script (" + std::to_string(kMaxSourceBytes) + " bytes)";
      return nullptr;
    }
  }
  ::close(fd);
  return std::make_shared<SourceFile>(path, std::move(text));
}

}  // namespace crm::lang
