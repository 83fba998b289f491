// The loader: resolves `import` declarations (SPEC §3) to files, parses each file once (by
// canonical path), reports missing files and import cycles, and orders modules imports-first.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "lang/check_context.hpp"
#include "lang/diagnostic_codes.hpp"
#include "lang/parser.hpp"
#include "lang/script_path.hpp"

namespace crm::lang::detail {

namespace fs = std::filesystem;

namespace {

// Import chains longer than this are refused: no real project nests imports this deep, and it
// bounds the loader's recursion.
constexpr size_t kMaxImportDepth = 64;

std::string canonical_key(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  if (ec) p = fs::absolute(fs::path(path), ec).lexically_normal();
  return p.string();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

class Loader {
 public:
  // The current folder's tree is allowed to imports too: a test in campaigns/nested/ may
  // import ../welcome.crm when crm runs in the project's folder.
  Loader(const CheckOptions& options, Diagnostics& diags) : options_(options), diags_(diags) { add_root_dir("./x"); }

  // A module known before loading (given as text): imports resolving to its path find it.
  void add_pending(Module m) {
    std::string key = m.file ? canonical_key(m.file->path()) : fmt::format("<module {}>", pending_.size());
    roots_.push_back(key);
    if (m.file) add_root_dir(m.file->path());
    pending_.emplace(key, std::move(m));
  }

  void load_roots() {
    for (const auto& key : roots_) {
      given_.insert(key);
      auto it = pending_.find(key);
      if (it != pending_.end()) visit(key, std::move(it->second));
    }
  }

  // Reads and parses a file named on the command line; false when it cannot be read.
  bool add_path(const std::string& path) {
    std::string key = canonical_key(path);
    if (pending_.count(key) || done_.count(key)) return true;
    // A script named on the command line that is itself a symbolic link must point inside its
    // own folder, the current folder or the stdlib (as an import must): a `x.crm -> /etc/passwd`
    // planted in a campaigns folder would otherwise show that file's text in a diagnostic.
    if (std::string real = options_.allow_imports_outside ? "" : symlink_outside(path, options_.stdlib_dirs);
        !real.empty()) {
      diags_.error(nullptr, {}, code::import_outside,
                   fmt::format("'{}' is a symbolic link to a file outside its folder and the current folder ('{}')",
                               path, real),
                   "name the file itself, or pass --allow-imports-outside to allow such a link");
      return false;
    }
    std::string error;
    SourcePtr src = read_source(path, error);
    if (!src) {
      diags_.error(nullptr, {}, code::io, error, "check the file name");
      return false;
    }
    Module m = parse(src, diags_);
    m.file = src;
    add_root_dir(path);
    roots_.push_back(key);
    pending_.emplace(key, std::move(m));
    return true;
  }

  LoadedModules finish() {
    LoadedModules out;
    std::map<std::string, size_t> index;
    for (auto& [key, m] : order_) {
      size_t i = out.modules.size();
      index[key] = i;
      // Imports come first, so the reach of every imported module is already known.
      std::vector<bool> reach(order_.size(), false);
      for (const auto& dep : edges_[key]) {
        auto it = index.find(dep);
        if (it == index.end()) continue;  // on an import cycle (reported)
        reach[it->second] = true;
        for (size_t j = 0; j < it->second; ++j)
          if (out.imports[it->second][j]) reach[j] = true;
      }
      out.imports.push_back(std::move(reach));
      out.given.push_back(given_.count(key) > 0);
      out.modules.push_back(std::move(m));
    }
    return out;
  }

 private:
  struct Frame {
    std::string key;
    std::string display;
  };

  void visit(const std::string& key, Module m) {
    pending_.erase(key);
    done_.insert(key);
    stack_.push_back({key, m.file ? fs::path(m.file->path()).filename().string() : key});
    for (const auto& item : m.items)
      if (auto* imp = std::get_if<Import>(&item.node)) import(m, *imp);
    stack_.pop_back();
    order_.emplace_back(key, std::move(m));
  }

  void import(const Module& from, const Import& imp) {
    std::string path = resolve(from, imp);
    if (path.empty()) return;
    std::string key = canonical_key(path);
    if (!inside_allowed(path, imp.path.rfind("std/", 0) == 0)) {
      diags_.error(from.file, imp.path_span, code::import_outside,
                   fmt::format("import '{}' reaches outside the script's folder ('{}')", imp.path, real_path(path)),
                   "imports are confined to the current folder, the script's folder (and below) and the standard "
                   "library; "
                   "pass --allow-imports-outside to allow others");
      return;
    }
    edges_[stack_.back().key].push_back(key);
    auto on_stack = std::find_if(stack_.begin(), stack_.end(), [&](const Frame& f) { return f.key == key; });
    if (on_stack != stack_.end()) {
      std::vector<std::string> chain;
      for (auto it = on_stack; it != stack_.end(); ++it) chain.push_back(it->display);
      chain.push_back(on_stack->display);
      diags_.error(from.file, imp.path_span, code::import_cycle, fmt::format("import cycle: {}", fmt::join(chain, " -> ")),
                   "move what both files need into a third file that both import");
      return;
    }
    if (done_.count(key)) return;
    if (stack_.size() >= kMaxImportDepth) {
      diags_.error(from.file, imp.path_span, code::import_depth,
                   fmt::format("imports nested more than {} files deep", kMaxImportDepth));
      return;
    }
    auto pending = pending_.find(key);
    if (pending != pending_.end()) {
      visit(key, std::move(pending->second));
      return;
    }
    std::string error;
    SourcePtr src = read_source(path, error);
    if (!src) {
      diags_.error(from.file, imp.path_span, code::import_not_found, fmt::format("cannot read module '{}'", imp.path),
                   error);
      return;
    }
    Module m = parse(src, diags_);
    m.file = src;
    visit(key, std::move(m));
  }

  // The path with every symlink resolved (the file an import really reads).
  static std::string real_path(const std::string& path) {
    std::error_code ec;
    fs::path p = fs::canonical(fs::path(path), ec);
    return ec ? canonical_key(path) : p.string();
  }

  static bool under(const std::string& file, const std::string& dir) {
    if (dir.empty()) return false;
    std::string d = dir.back() == '/' ? dir : dir + "/";
    return file.rfind(d, 0) == 0;
  }

  // Whether an import may read `path`: inside the current folder's tree or that of a file the
  // user named, or a
  // stdlib folder (std/ imports only), symlinks resolved; anything with allow_imports_outside.
  bool inside_allowed(const std::string& path, bool std_import) {
    if (options_.allow_imports_outside) return true;
    std::string real = real_path(path);
    if (std_import) {
      for (const auto& dir : options_.stdlib_dirs)
        if (under(real, real_path(dir))) return true;
      return false;
    }
    for (const auto& dir : root_dirs_)
      if (under(real, dir)) return true;
    return false;
  }

  // The folder a named file is in, as named (a symlinked script imports beside the link).
  void add_root_dir(const std::string& file) {
    fs::path parent = fs::path(file).parent_path();
    std::string dir = real_path(parent.empty() ? std::string(".") : parent.string());
    if (std::find(root_dirs_.begin(), root_dirs_.end(), dir) == root_dirs_.end()) root_dirs_.push_back(dir);
  }

  // The file an import names, or "" after reporting that none exists.
  std::string resolve(const Module& from, const Import& imp) {
    std::string name = imp.path;
    if (name.rfind("std/", 0) == 0) {
      std::string rel = name.substr(4);
      if (!ends_with(rel, ".crm")) rel += ".crm";
      for (const auto& dir : options_.stdlib_dirs) {
        fs::path p = fs::path(dir) / rel;
        if (is_file(p)) return p.lexically_normal().string();
      }
      std::vector<std::string> known;
      for (const auto& dir : options_.stdlib_dirs) {
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
          if (it->path().extension() == ".crm") known.push_back("std/" + it->path().stem().string());
      }
      std::sort(known.begin(), known.end());
      known.erase(std::unique(known.begin(), known.end()), known.end());
      std::string best = closest_match(name, known);
      std::string hint = !best.empty()       ? fmt::format("did you mean '{}'?", best)
                         : !known.empty()    ? fmt::format("the standard modules are: {}", fmt::join(known, ", "))
                         : options_.stdlib_dirs.empty() ? std::string("no standard library directory is configured")
                                                        : fmt::format("looked in: {}", fmt::join(options_.stdlib_dirs, ", "));
      diags_.error(from.file, imp.path_span, code::import_not_found, fmt::format("unknown standard module '{}'", name),
                   hint);
      return {};
    }
    if (!ends_with(name, ".crm")) name += ".crm";
    fs::path base = from.file ? fs::path(from.file->path()).parent_path() : fs::path();
    fs::path p = (base / name).lexically_normal();
    if (is_file(p)) return p.string();
    diags_.error(from.file, imp.path_span, code::import_not_found, fmt::format("cannot find module '{}'", imp.path),
                 fmt::format("looked for '{}' (imports are relative to the importing file's directory)", p.string()));
    return {};
  }

  const CheckOptions& options_;
  Diagnostics& diags_;
  std::vector<std::string> roots_;
  std::vector<std::string> root_dirs_;  // real folders of the files the user named
  std::map<std::string, Module> pending_;
  std::set<std::string> done_;
  std::set<std::string> given_;
  std::vector<Frame> stack_;
  std::vector<std::pair<std::string, Module>> order_;
  std::map<std::string, std::vector<std::string>> edges_;  // direct imports by module key
};

}  // namespace

LoadedModules load_modules(const std::vector<std::string>& paths, const CheckOptions& options, Diagnostics& diags) {
  Loader loader(options, diags);
  for (const auto& p : paths) loader.add_path(p);
  loader.load_roots();
  return loader.finish();
}

LoadedModules resolve_imports(std::vector<Module> roots, const CheckOptions& options, Diagnostics& diags) {
  Loader loader(options, diags);
  for (auto& m : roots) loader.add_pending(std::move(m));
  loader.load_roots();
  return loader.finish();
}

}  // namespace crm::lang::detail

namespace crm::lang {

CheckedProgram load_and_check(const std::vector<std::string>& paths, const CheckOptions& options, Diagnostics& diags) {
  auto loaded = detail::load_modules(paths, options, diags);
  return detail::check_loaded(std::move(loaded), options, diags);
}

CheckedProgram check(std::vector<Module> modules, const CheckOptions& options, Diagnostics& diags) {
  auto loaded = detail::resolve_imports(std::move(modules), options, diags);
  return detail::check_loaded(std::move(loaded), options, diags);
}

}  // namespace crm::lang
