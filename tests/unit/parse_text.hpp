// Shared by the front-end unit tests: parse a source text as file "t.crm", keeping the file,
// the module and the diagnostics together.
#pragma once
#include <memory>
#include <string>

#include "lang/parser.hpp"

namespace crm::lang::testing {

struct Parsed {
  SourcePtr file;
  Module m;
  Diagnostics d;
};

inline Parsed parse_text(const std::string& src) {
  Parsed p;
  p.file = std::make_shared<SourceFile>("t.crm", src);
  p.m = parse(p.file, p.d);
  return p;
}

}  // namespace crm::lang::testing
