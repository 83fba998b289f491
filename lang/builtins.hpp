// The builtin registry as enums and tables generated from builtins.def: lang/ uses names and
// types for checking, engine/ joins its implementations to the same ids.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lang/types.hpp"

namespace crm::stdlib {

enum class Scope { Customer, Order, Event };

enum class AttrId : int {
#define CRM_ATTRIBUTE(Id, Name, TypeExpr, Scope, Doc) Id,
#include "lang/builtins.def"
  Count_
};

enum class FuncId : int {
#define CRM_FUNCTION(Id, Name, Signature, Doc) Id,
#include "lang/builtins.def"
  Count_
};

// purchases_in(DAYS) / spent_in(DAYS): DAYS is an integer literal in 1..kMaxWindowDays.
constexpr int64_t kMaxWindowDays = 3650;
// The frame column of a windowed function: "purchases_in(30)", "spent_in(7)".
inline std::string window_column(std::string_view function, int64_t days) {
  return std::string(function) + "(" + std::to_string(days) + ")";
}

struct AttrInfo {
  AttrId id;
  std::string_view name;
  lang::Type type;
  Scope scope;
  std::string_view doc;
};

struct FuncInfo {
  FuncId id;
  std::string_view name;
  std::string_view signature;
  std::string_view doc;
};

std::span<const AttrInfo> attributes();
std::span<const FuncInfo> functions();
const AttrInfo* find_attribute(std::string_view name);  // nullptr when unknown
const FuncInfo* find_function(std::string_view name);

// docs/builtins.md: every attribute and function as a Markdown reference (builtins_doc.cpp).
std::string builtins_markdown();

}  // namespace crm::stdlib
