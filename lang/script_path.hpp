// Where a script named on the command line may point when it is itself a symbolic link: inside
// its own folder, the current folder or a stdlib folder, as an import must (docs/hardening.md).
// Shared by the loader (check, run, ... and the API) and `crm fmt`, which reads files itself.
#pragma once
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace crm::lang {

// The real path of `path` when it is a symlink whose target lies outside its own folder, the
// current folder and `stdlib_dirs` (each with what is below it); "" otherwise (not a symlink,
// or pointing inside). A `x.crm -> /etc/passwd` planted in a campaigns folder is then refused
// before it is read, so no line of that file reaches a diagnostic.
inline std::string symlink_outside(const std::string& path, const std::vector<std::string>& stdlib_dirs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_symlink(fs::path(path), ec)) return "";
  auto real = [](const fs::path& p) {
    std::error_code e;
    fs::path r = fs::weakly_canonical(p, e);
    if (e) r = fs::absolute(p, e).lexically_normal();
    return r.string();
  };
  auto under = [](const std::string& file, std::string dir) {
    if (dir.empty()) return false;
    if (dir.back() != '/') dir += '/';
    return file.rfind(dir, 0) == 0;
  };
  std::string target = real(path);
  fs::path parent = fs::path(path).parent_path();
  if (under(target, real(parent.empty() ? fs::path(".") : parent)) || under(target, real(".")))
    return "";
  for (const auto& dir : stdlib_dirs)
    if (under(target, real(dir))) return "";
  return target;
}

}  // namespace crm::lang
