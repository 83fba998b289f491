// The static types of SPEC §4: int, decimal, string, bool, date, lists of those, and null.
// Every value may also be null at run time; the checker tracks only the base type.
#pragma once
#include <cstdint>
#include <string>

namespace crm::lang {

enum class TypeKind : uint8_t {
  Error,    // already reported; compatible with everything to avoid cascades
  Null,     // the literal `null`
  Bool,
  Int,
  Decimal,
  String,
  Date,
  List,     // `elem` says of what
  Any,      // an event payload field whose type is only known at run time
};

struct Type {
  TypeKind kind = TypeKind::Error;
  TypeKind elem = TypeKind::Error;  // for List

  static constexpr Type error() { return {TypeKind::Error, TypeKind::Error}; }
  static constexpr Type null() { return {TypeKind::Null, TypeKind::Error}; }
  static constexpr Type boolean() { return {TypeKind::Bool, TypeKind::Error}; }
  static constexpr Type integer() { return {TypeKind::Int, TypeKind::Error}; }
  static constexpr Type decimal() { return {TypeKind::Decimal, TypeKind::Error}; }
  static constexpr Type string() { return {TypeKind::String, TypeKind::Error}; }
  static constexpr Type date() { return {TypeKind::Date, TypeKind::Error}; }
  static constexpr Type any() { return {TypeKind::Any, TypeKind::Error}; }
  static constexpr Type list(TypeKind e) { return {TypeKind::List, e}; }

  bool is_error() const { return kind == TypeKind::Error; }
  bool is_numeric() const { return kind == TypeKind::Int || kind == TypeKind::Decimal; }
  bool operator==(const Type&) const = default;
};

inline const char* kind_name(TypeKind k) {
  switch (k) {
    case TypeKind::Error: return "<error>";
    case TypeKind::Null: return "null";
    case TypeKind::Bool: return "bool";
    case TypeKind::Int: return "int";
    case TypeKind::Decimal: return "decimal";
    case TypeKind::String: return "string";
    case TypeKind::Date: return "date";
    case TypeKind::List: return "list";
    case TypeKind::Any: return "any";
  }
  return "?";
}

inline std::string type_name(Type t) {
  if (t.kind == TypeKind::List) return std::string("list<") + kind_name(t.elem) + ">";
  return kind_name(t.kind);
}

}  // namespace crm::lang
