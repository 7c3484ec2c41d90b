// HTTP digest (RFC 7616 / RFC 2617) as SIP uses it: credentials parsing, HA1 and response
// computation, challenge header values.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "modules/auth/crypto.h"

namespace strowger::modules::auth {

// One Authorization / Proxy-Authorization value; fields absent in the header stay empty.
struct Credentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string algorithm;  // as sent ("MD5" when absent)
  std::string cnonce;
  std::string opaque;
  std::string qop;
  std::string nc;
};

// Parses `Digest k=v, k="v", ...`. nullopt when it is not a digest value or is malformed.
std::optional<Credentials> parse_credentials(std::string_view value);

// "MD5" / "SHA-256" (case-insensitive; empty is MD5); nullopt for anything else (-sess too).
std::optional<Algorithm> algorithm_from_name(std::string_view name);
std::string_view algorithm_name(Algorithm algorithm);

// H(username:realm:password).
std::string compute_ha1(Algorithm algorithm, std::string_view username, std::string_view realm,
                        std::string_view password);

// The expected response: with qop=auth H(HA1:nonce:nc:cnonce:qop:H(method:uri)), without qop
// (RFC 2069) H(HA1:nonce:H(method:uri)).
std::string compute_response(Algorithm algorithm, std::string_view ha1, std::string_view method,
                             std::string_view uri, std::string_view nonce, std::string_view nc,
                             std::string_view cnonce, std::string_view qop);

struct ChallengeSpec {
  std::string_view realm;
  std::string_view nonce;
  std::string_view opaque;
  Algorithm algorithm = Algorithm::kMd5;
  bool qop_auth = true;
  bool stale = false;
};
// `Digest realm="..", nonce="..", opaque="..", algorithm=MD5, qop="auth"[, stale=true]`.
std::string challenge_value(const ChallengeSpec& spec);

}  // namespace strowger::modules::auth
