// The builtin tables, expanded from builtins.def.
#include "lang/builtins.hpp"

namespace crm::stdlib {
using lang::Type;
using lang::TypeKind;

namespace {
constexpr AttrInfo kAttributes[] = {
#define CRM_ATTRIBUTE(Id, Name, TypeExpr, Sc, Doc) {AttrId::Id, Name, TypeExpr, Scope::Sc, Doc},
#include "lang/builtins.def"
};
constexpr FuncInfo kFunctions[] = {
#define CRM_FUNCTION(Id, Name, Signature, Doc) {FuncId::Id, Name, Signature, Doc},
#include "lang/builtins.def"
};
}  // namespace

std::span<const AttrInfo> attributes() { return kAttributes; }
std::span<const FuncInfo> functions() { return kFunctions; }

const AttrInfo* find_attribute(std::string_view name) {
  for (const auto& a : kAttributes)
    if (a.name == name) return &a;
  return nullptr;
}

const FuncInfo* find_function(std::string_view name) {
  for (const auto& f : kFunctions)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace crm::stdlib
