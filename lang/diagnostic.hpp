// Diagnostics: the one error/warning type of the front end, and its one renderer.
// User errors are values collected in a Diagnostics list, never exceptions.
#pragma once
#include <string>
#include <vector>

#include "lang/source.hpp"

namespace crm::lang {

enum class Severity { Error, Warning, Note };

struct Note {
  SourcePtr file;  // may be null for a note without a position
  Span span;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string code;     // stable machine-readable code, e.g. "E-unknown-name"
  SourcePtr file;       // may be null (e.g. a command-line problem)
  Span span;
  std::string message;  // "unknown attribute 'purchse_count'"
  std::string hint;     // "did you mean 'purchase_count'?" (rendered as "help: ...")
  std::vector<Note> notes;
};

class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  Diagnostic& error(SourcePtr file, Span span, std::string code, std::string message, std::string hint = {});
  Diagnostic& warning(SourcePtr file, Span span, std::string code, std::string message, std::string hint = {});

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  std::vector<Diagnostic>& items() { return items_; }
  // Sorts by file, then position, then severity; removes exact duplicates.
  void sort();
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
};

// Renders like a compiler:
//   file:line:col: error: message
//      12 |   when purchse_count == 1
//         |        ^~~~~~~~~~~~~
//   help: did you mean 'purchase_count'?
//   file:line:col: note: ...
std::string render(const Diagnostic& d, bool color = false);
std::string render_all(const Diagnostics& ds, bool color = false);

// "did you mean" support: the closest candidate by edit distance, or "" when none is close.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace crm::lang
