// Contact header values of a REGISTER as the registrar needs them: the URI and the header
// parameters (expires, q, +sip.instance, reg-id), plus small helpers for SIP tokens.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strowger::modules::registrar {

struct ContactValue {
  bool star = false;
  std::string uri;                                          // without < >
  std::vector<std::pair<std::string, std::string>> params;  // header params, names lower case
  std::optional<std::string> param(std::string_view name) const;
};

// One Contact value ("<sip:a@b>;expires=60", "sip:a@b;q=0.5", "*"); nullopt when malformed.
std::optional<ContactValue> parse_contact(std::string_view value);

// q=0.5 -> 500; nullopt when not a valid qvalue (RFC 3261 25.1).
std::optional<int> parse_q(std::string_view text);
// A delta-seconds number (clamped to 2^31-1); nullopt when not a number.
std::optional<std::int64_t> parse_seconds(std::string_view text);
// Whether a comma separated header (Supported, Require) lists a token, case-insensitive.
bool lists_token(const std::vector<std::string>& values, std::string_view token);
// 500 -> "0.5", 1000 -> "1.0".
std::string format_q(int q);
// Removes surrounding double quotes.
std::string unquote(std::string_view s);

}  // namespace strowger::modules::registrar
