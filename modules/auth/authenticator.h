// Authenticator: checks digest credentials against a SubscriberSet (nonce signature and age,
// nonce-count replay, per-IP failure limit) with Kamailio's return codes, and builds
// challenges. No SIP message here: the module glue hands in the header values.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "modules/auth/crypto.h"
#include "modules/auth/failure_limiter.h"
#include "modules/auth/nonce.h"
#include "modules/auth/subscribers.h"

namespace strowger::modules::auth {

// Kamailio's auth return codes (auth_db README, www_authenticate).
enum AuthCode : int {
  kAuthOk = 1,
  kAuthError = -1,
  kInvalidPassword = -2,
  kInvalidUser = -3,
  kNonceExpired = -4,
  kNoCredentials = -5,
  kNonceReused = -6,
  kUserMismatch = -8,
};

struct AuthConfig {
  std::vector<Algorithm> algorithms{Algorithm::kMd5, Algorithm::kSha256};  // challenge order
  bool qop_auth = true;  // offer qop="auth" even when the flags do not ask for it
  std::int64_t nonce_expire_s = 300;
  std::int64_t max_drift_s = 3;  // nonce_auth_max_drift: a nonce from the future
  bool use_domain = true;        // look subscribers up by (user, domain)
  std::size_t nc_order = 18;     // 2^18 tracked nonces
  FailureLimits failures;
};

struct AuthRequest {
  std::string_view method;
  const std::vector<std::string>* headers = nullptr;  // Authorization or Proxy-Authorization
  std::string_view realm;
  std::string_view source_ip;
};

struct AuthOutcome {
  int code = kAuthError;
  bool stale = false;     // the challenge that follows says stale=true
  int header_index = -1;  // the credentials checked (consume_credentials removes them)
  std::string username;   // as in the credentials
};

class Authenticator {
 public:
  Authenticator(AuthConfig config, std::string secret);

  AuthOutcome authorize(const AuthRequest& request, const SubscriberSet* subscribers,
                        std::int64_t now_ms);
  // "WWW-Authenticate: ...\r\n" (or Proxy-Authenticate), one line per configured algorithm,
  // all with one fresh nonce.
  std::string challenge_headers(bool proxy, std::string_view realm, bool qop, bool stale,
                                std::int64_t now_ms);

  FailureLimiter& failures() { return failures_; }
  const AuthConfig& config() const { return config_; }

 private:
  int check_nonce(const std::string& nonce, std::int64_t now_s, NonceFields* out) const;

  AuthConfig config_;
  NonceCodec codec_;
  NonceCountTable counts_;
  FailureLimiter failures_;
  std::string opaque_;
};

// auth_check's identity check (flags 1, and 2 to skip it for requests that may be anonymous):
// the authentication user must be the From user (and To for REGISTER, To and Request-URI for
// PUBLISH). Hosts are compared with the realm when non-empty. kAuthOk or kUserMismatch.
struct Identity {
  std::string_view user;
  std::string_view host;
};
int check_identity(std::string_view method, std::string_view auth_username, std::string_view realm,
                   const Identity& from, const Identity& to, const Identity& ruri,
                   std::int64_t flags, bool check_hosts);

}  // namespace strowger::modules::auth
