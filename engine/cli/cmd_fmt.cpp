// crm fmt [--check] [--stdout] FILE...: rewrites .crm files in their canonical layout
// (lang/formatter.cpp); a file is replaced by write-to-temp-then-rename, never half written.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "lang/diagnostic.hpp"
#include "lang/formatter.hpp"
#include "lang/parser.hpp"
#include "lang/script_path.hpp"

namespace crm::cli {

namespace {

constexpr const char* kHelp =
    "Usage: crm fmt [--check] [--stdout] FILE...\n\n"
    "Rewrites each .crm file in the canonical layout (2-space indentation, one clause per line,\n"
    "minimal parentheses, comments kept where they were). Only files that change are written,\n"
    "through a temporary file and a rename, so an interrupted run never loses a file.\n"
    "A file that does not parse is left untouched and its errors are printed.\n\n"
    "Options:\n"
    "  --check    write nothing; list the files that would change and exit 1 if any would\n"
    "  --stdout   print the formatted text instead of writing the files\n"
    "  --help     show this help\n\n"
    "Examples:\n"
    "  crm fmt campaigns/*.crm\n"
    "  crm fmt --check campaigns/*.crm      # in CI: fails when a file is not formatted\n\n"
    "Exit codes: 0 ok (or, with --check, every file already formatted), 1 a file does not parse,\n"
    "cannot be written or (with --check) would change, 2 usage error.\n";

bool use_color() { return stderr_is_tty() && std::getenv("NO_COLOR") == nullptr; }

// Writes `text` to `path` atomically: a temporary file in the same directory, flushed, given
// the original file's permissions, then renamed over it. Throws nothing; returns an error text.
std::string write_atomically(const std::string& path, const std::string& text) {
  std::error_code ec;
  std::filesystem::path target = std::filesystem::canonical(path, ec);  // write through symlinks
  if (ec) target = path;
  std::string tmp = target.string() + ".crmfmt.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) return fmt::format("cannot create a temporary file next to '{}': {}", path, std::strerror(errno));
  struct stat st {};
  if (stat(target.c_str(), &st) == 0) fchmod(fd, st.st_mode & 07777);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = fmt::format("cannot write '{}': {}", tmp, std::strerror(errno));
      close(fd);
      unlink(tmp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    std::string err = fmt::format("cannot write '{}': {}", tmp, std::strerror(errno));
    unlink(tmp.c_str());
    return err;
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    std::string err = fmt::format("cannot replace '{}': {}", path, std::strerror(errno));
    unlink(tmp.c_str());
    return err;
  }
  return {};
}

// Formats one file's text; on a parse error prints the diagnostics and returns false. Also
// refuses (with a message) output that would not parse back to the same program with the same
// comments, so a formatter bug can never damage a script.
bool format_file(const std::string& path, const lang::SourcePtr& src, std::string& out) {
  lang::Diagnostics diags;
  lang::Module module = lang::parse(src, diags);
  if (diags.has_errors()) {
    diags.sort();
    fmt::print(stderr, "{}", lang::render_all(diags, use_color()));
    return false;
  }
  out = lang::format_module(module);
  lang::Diagnostics again_diags;
  lang::Module again = lang::parse(std::make_shared<lang::SourceFile>(path, out), again_diags);
  if (again_diags.has_errors() || !lang::same_module(module, again) ||
      again.comments.size() != module.comments.size()) {
    fmt::print(stderr, "crm fmt: error: internal error: the formatted text of '{}' differs in meaning; "
               "file left unchanged (please report this)\n", path);
    return false;
  }
  return true;
}

}  // namespace

int cmd_fmt(const std::vector<std::string>& argv) {
  std::string error;
  auto args = parse_args(argv, {{"--check", "--stdout"}, {}}, error);
  if (!args) return usage_error("fmt", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("fmt", "no input files");
  const bool check = args->flag("--check"), to_stdout = args->flag("--stdout");
  if (check && to_stdout) return usage_error("fmt", "--check and --stdout cannot be combined");

  int status = kExitOk;
  for (const std::string& path : args->positional) {
    // A symlink out of its folder is neither shown nor rewritten (as check refuses it).
    if (std::string real = allow_imports_outside() ? "" : lang::symlink_outside(path, {}); !real.empty()) {
      fmt::print(stderr,
                 "crm fmt: error: '{}' is a symbolic link to a file outside its folder and the current folder ('{}')\n"
                 "help: name the file itself, or pass --allow-imports-outside to allow such a link\n",
                 path, real);
      status = kExitError;
      continue;
    }
    lang::SourcePtr src = lang::read_source(path, error);
    if (!src) {
      fmt::print(stderr, "crm fmt: error: {}\n", error);
      status = kExitError;
      continue;
    }
    std::string out;
    if (!format_file(path, src, out)) {
      status = kExitError;
      continue;
    }
    if (to_stdout) {
      fmt::print("{}", out);
      continue;
    }
    if (out == src->text()) continue;
    if (check) {
      fmt::print("would reformat: {}\n", path);
      status = kExitError;
      continue;
    }
    if (std::string err = write_atomically(path, out); !err.empty()) {
      fmt::print(stderr, "crm fmt: error: {}\n", err);
      status = kExitError;
    }
  }
  std::fflush(stdout);
  return status;
}

}  // namespace crm::cli
