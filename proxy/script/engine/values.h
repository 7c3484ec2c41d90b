// Value: what script expressions evaluate to (null, integer or string) with Kamailio's conversions.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::proxy::script::engine {

// Strings the script builds ('+', '+=', "format $x") stop here (the most a SIP message over
// UDP can carry): a loop doubling $var(x) would otherwise take all memory in ~30 iterations.
constexpr std::size_t kMaxBuiltString = 65535;

struct Value {
  enum class Kind : std::uint8_t { kNull, kInt, kStr };
  Kind kind = Kind::kNull;
  std::int64_t i = 0;
  std::string s;

  static Value null() { return {}; }
  static Value of(std::int64_t v) {
    Value r;
    r.kind = Kind::kInt;
    r.i = v;
    return r;
  }
  static Value of(std::string v) {
    Value r;
    r.kind = Kind::kStr;
    r.s = std::move(v);
    return r;
  }
  static Value of(std::string_view v) { return of(std::string(v)); }
  static Value of(const char* v) { return of(std::string(v)); }

  bool is_null() const { return kind == Kind::kNull; }
  bool is_int() const { return kind == Kind::kInt; }
  bool is_str() const { return kind == Kind::kStr; }

  // Kamailio's str2sint: optional sign then digits, the whole string. nullopt otherwise.
  std::optional<std::int64_t> as_int() const;
  std::int64_t to_int() const { return as_int().value_or(0); }  // null and non-numbers: 0
  std::string to_str() const;                                   // null: ""
  // Boolean context: an int is true when > 0 (negative is false, as return codes);
  // a string is true when numeric and > 0, or when not numeric and not empty; null is false.
  bool truthy() const;
  // For traces: 12, "text" (quoted, escaped) or $null.
  std::string repr() const;
};

std::optional<std::int64_t> parse_int(std::string_view s);

}  // namespace strowger::proxy::script::engine
