// PvRef: a parsed pseudo-variable reference ($ru, $var(x), $(hdr(Via)[0]{s.len})) and parsers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/script/source.h"

namespace strowger::proxy::script {

struct PvRef;

struct PvTransformParam {
  std::string text;           // literal parameter as written (leading blanks removed)
  std::unique_ptr<PvRef> pv;  // set when the parameter is a pseudo-variable
};

struct PvTransform {
  std::string name;  // "s.len", "uri.user", "param.value", ...
  std::vector<PvTransformParam> params;
};

enum class PvIndexKind : std::uint8_t { kNone, kInt, kAll, kAppend, kPv };

struct PvRef {
  std::string text;     // the whole reference as written
  std::string name;     // "ru", "var", "hdr", "T_reply_code", "?", "$" (a literal '$')
  std::string context;  // $<context>name (rare)
  bool has_inner = false;
  std::string inner;                // "x" in $var(x), "Via" in $hdr(Via); raw
  std::unique_ptr<PvRef> inner_pv;  // when the inner name is itself one pvar: $hdr($var(h))
  PvIndexKind index_kind = PvIndexKind::kNone;
  std::string index;                // raw index text
  std::int64_t index_value = 0;     // kInt
  std::unique_ptr<PvRef> index_pv;  // kPv
  std::vector<PvTransform> transforms;
  SourceLoc loc;  // of the token (nested references share it)
};

// Parses one pseudo-variable starting at text[0] == '$', with Kamailio's pv_parse_spec rules.
// Returns the number of characters used, or 0 with *error set.
std::size_t parse_pv(std::string_view text, PvRef* out, std::string* error);

// A format string ("from $fu to $(ru{uri.user})"): literal text and references, in order.
struct FormatPart {
  std::string text;           // literal text before `pv` (may be empty)
  std::unique_ptr<PvRef> pv;  // null for a trailing literal
};
// Splits `text` as Kamailio's pv_parse_format does: every '$' must start a valid reference
// ("$$" is a literal '$'). On failure returns false, *error and *error_offset set.
bool parse_format(std::string_view text, std::vector<FormatPart>* out, std::string* error,
                  std::size_t* error_offset);

// Writes a reference back as text in a normal form (for traces and tests).
std::string pv_to_string(const PvRef& pv);

}  // namespace strowger::proxy::script
