// All-or-nothing output files: a temporary file in the same folder, then rename(2), which
// replaces the target atomically on POSIX file systems.
#include "cli/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace crm::cli {
namespace {

std::string temp_path(const std::string& path) { return path + ".tmp-" + std::to_string(::getpid()); }

}  // namespace

bool can_write_beside(const std::string& path, std::string& error) {
  std::string tmp = temp_path(path);
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (!f) {
    error = std::strerror(errno);
    return false;
  }
  f.close();
  std::remove(tmp.c_str());
  return true;
}

bool write_file_atomically(const std::string& path, std::string_view content, std::string& error) {
  std::string tmp = temp_path(path);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (f) f.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (f) f.close();
    if (!f) {
      error = "the file could not be written completely";
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace crm::cli
