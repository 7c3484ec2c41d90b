// Uri: a parsed SIP/SIPS/TEL (or other scheme) URI held by value.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::proxy::sip {

// For schemes other than sip, sips and tel, everything after "scheme:" is kept whole in
// user (opaque); escapes are never decoded, so to_string() gives back what was parsed.
struct Uri {
  std::string scheme;   // "sip", "sips", "tel", or another scheme, lower case
  std::string user;     // without password; may hold escapes as received
  std::string password;
  std::string host;     // IPv6 references keep their brackets: "[2001:db8::1]"
  std::uint16_t port = 0;  // 0 when absent
  std::string params;   // ";"-separated, without the leading ';' (as received)
  std::string headers;  // after '?', as received

  static std::optional<Uri> parse(std::string_view text);
  std::string to_string() const;
  bool is_sip() const { return scheme == "sip" || scheme == "sips"; }
  // Value of a URI parameter (";name=value"); "" for a parameter without value.
  std::optional<std::string> param(std::string_view name) const;
  bool has_param(std::string_view name) const { return param(name).has_value(); }
  void set_param(std::string_view name, std::string_view value);
  void remove_param(std::string_view name);
  // Host without IPv6 brackets.
  std::string host_bare() const;
};

}  // namespace strowger::proxy::sip
