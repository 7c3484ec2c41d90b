// Value conversions with Kamailio's rules (str2sint for strings, decimal for ints).
#include "proxy/script/engine/values.h"

#include <cstdio>

namespace strowger::proxy::script::engine {

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i == s.size()) return std::nullopt;
  std::uint64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (v > (1ULL << 62)) return std::nullopt;  // far beyond anything a script means
  }
  return neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
}

std::optional<std::int64_t> Value::as_int() const {
  switch (kind) {
    case Kind::kInt:
      return i;
    case Kind::kStr:
      return parse_int(s);
    case Kind::kNull:
      break;
  }
  return std::nullopt;
}

std::string Value::to_str() const {
  switch (kind) {
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kStr:
      return s;
    case Kind::kNull:
      break;
  }
  return {};
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::kInt:
      return i > 0;
    case Kind::kStr: {
      auto n = parse_int(s);
      return n ? *n > 0 : !s.empty();
    }
    case Kind::kNull:
      break;
  }
  return false;
}

std::string Value::repr() const {
  switch (kind) {
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kNull:
      return "$null";
    case Kind::kStr:
      break;
  }
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace strowger::proxy::script::engine
