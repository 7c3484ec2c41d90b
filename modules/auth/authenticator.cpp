// Digest verification with Kamailio's codes, challenge generation, identity checks.
#include "modules/auth/authenticator.h"

#include <cstring>

#include "common/log.h"
#include "modules/auth/digest.h"

namespace strowger::modules::auth {
namespace {

bool parse_nc(std::string_view nc, std::uint32_t* out) {
  if (nc.size() != 8) return false;
  std::uint32_t v = 0;
  for (char c : nc) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  *out = v;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

Authenticator::Authenticator(AuthConfig config, std::string secret)
    : config_(std::move(config)),
      codec_(std::move(secret)),
      counts_(config_.nc_order),
      failures_(config_.failures),
      opaque_(to_hex(random_bytes(16))) {}

int Authenticator::check_nonce(const std::string& nonce, std::int64_t now_s,
                               NonceFields* out) const {
  // Not ours (another secret, a restart with a random secret) or too old: stale, so the UA
  // retries with the fresh nonce without asking its user.
  std::optional<NonceFields> f = codec_.verify(nonce);
  if (!f) return kNonceExpired;
  if (now_s - f->created_s > config_.nonce_expire_s) return kNonceExpired;
  if (f->created_s - now_s > config_.max_drift_s) return kNonceExpired;
  *out = *f;
  return kAuthOk;
}

AuthOutcome Authenticator::authorize(const AuthRequest& req, const SubscriberSet* subscribers,
                                     std::int64_t now_ms) {
  AuthOutcome out;
  std::optional<Credentials> cred;
  bool malformed = false;
  if (req.headers) {
    for (std::size_t i = 0; i < req.headers->size(); ++i) {
      auto c = parse_credentials((*req.headers)[i]);
      if (!c) {
        malformed = true;
        continue;
      }
      if (c->realm == req.realm) {
        cred = std::move(c);
        out.header_index = static_cast<int>(i);
        break;
      }
    }
  }
  if (!cred) {
    out.code = malformed ? kAuthError : kNoCredentials;
    return out;
  }
  out.username = cred->username;
  if (failures_.blocked(req.source_ip, now_ms)) {
    out.code = kInvalidPassword;  // refused unchecked while the source is blocked
    return out;
  }
  if (cred->username.empty() || cred->nonce.empty() || cred->uri.empty() ||
      cred->response.empty()) {
    out.code = kAuthError;
    return out;
  }
  std::optional<Algorithm> algorithm = algorithm_from_name(cred->algorithm);
  bool offered = false;
  if (algorithm)
    for (Algorithm a : config_.algorithms) offered = offered || a == *algorithm;
  if (!offered) {
    out.code = kAuthError;
    return out;
  }
  NonceFields nonce;
  if (int rc = check_nonce(cred->nonce, now_ms / 1000, &nonce); rc != kAuthOk) {
    out.code = rc;
    out.stale = true;
    return out;
  }
  std::uint32_t nc = 0;
  if (!cred->qop.empty()) {
    if (!iequals(cred->qop, "auth") || cred->cnonce.empty() || !parse_nc(cred->nc, &nc)) {
      out.code = kAuthError;
      return out;
    }
  }
  auto fail = [&](int code) {
    out.code = code;
    if (failures_.record_failure(req.source_ip, now_ms))
      LOG_NOTICE(
          "auth: %.*s blocked for %llds after more than %lld failed authentications in "
          "%llds (last user '%s')",
          static_cast<int>(req.source_ip.size()), req.source_ip.data(),
          static_cast<long long>(config_.failures.block_ms / 1000),
          static_cast<long long>(config_.failures.max_failures),
          static_cast<long long>(config_.failures.window_ms / 1000), cred->username.c_str());
    return out;
  };
  if (!subscribers) {
    out.code = kAuthError;
    return out;
  }
  std::string_view user = cred->username;
  std::string_view domain = req.realm;
  if (auto at = user.find('@'); at != std::string_view::npos) {
    domain = user.substr(at + 1);
    user = user.substr(0, at);
  }
  const Subscriber* s = subscribers->find(user, domain, config_.use_domain);
  if (!s) return fail(kInvalidUser);
  std::string ha1 = ha1_for(*s, *algorithm, cred->username, req.realm);
  if (ha1.empty()) {
    out.code = kAuthError;  // e.g. only an MD5 ha1 stored and the UA chose SHA-256
    return out;
  }
  std::string expected = compute_response(*algorithm, ha1, req.method, cred->uri, cred->nonce,
                                          cred->nc, cred->cnonce, cred->qop);
  std::string response = cred->response;
  for (char& c : response) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!constant_time_equal(expected, response)) return fail(kInvalidPassword);
  // Replay only after the password is right, so a wrong guess cannot burn a nonce count.
  NonceCountTable::Check check =
      cred->qop.empty() ? counts_.use_once(nonce) : counts_.use(nonce, nc);
  if (check == NonceCountTable::Check::kUnknown) {
    out.code = kNonceExpired;  // its slot went to a newer nonce: re-challenge silently
    out.stale = true;
    return out;
  }
  if (check == NonceCountTable::Check::kReused) {
    out.code = kNonceReused;
    return out;
  }
  out.code = kAuthOk;
  return out;
}

std::string Authenticator::challenge_headers(bool proxy, std::string_view realm, bool qop,
                                             bool stale, std::int64_t now_ms) {
  NonceFields f;
  f.created_s = now_ms / 1000;
  std::string tag = random_bytes(4);
  if (tag.size() == 4) std::memcpy(&f.tag, tag.data(), 4);
  f.serial = counts_.issue(f.tag);
  std::string nonce = codec_.make(f);
  std::string out;
  for (Algorithm a : config_.algorithms) {
    out += proxy ? "Proxy-Authenticate: " : "WWW-Authenticate: ";
    ChallengeSpec spec;
    spec.realm = realm;
    spec.nonce = nonce;
    spec.opaque = opaque_;
    spec.algorithm = a;
    spec.qop_auth = qop || config_.qop_auth;
    spec.stale = stale;
    out += challenge_value(spec);
    out += "\r\n";
  }
  return out;
}

int check_identity(std::string_view method, std::string_view auth_username, std::string_view realm,
                   const Identity& from, const Identity& to, const Identity& ruri,
                   std::int64_t flags, bool check_hosts) {
  if (!(flags & 1)) return kAuthOk;
  if (flags & 2) {
    for (std::string_view m : {"INVITE", "BYE", "PRACK", "UPDATE", "MESSAGE"})
      if (method == m) return kAuthOk;
  }
  std::string_view user = auth_username;
  if (auto at = user.find('@'); at != std::string_view::npos) user = user.substr(0, at);
  auto same = [&](const Identity& id) {
    if (id.user != user) return false;
    return !check_hosts || realm.empty() || iequals(id.host, realm);
  };
  if (!same(from)) return kUserMismatch;
  if (method == "REGISTER" || method == "PUBLISH") {
    if (!same(to)) return kUserMismatch;
  }
  if (method == "PUBLISH" && !same(ruri)) return kUserMismatch;
  return kAuthOk;
}

}  // namespace strowger::modules::auth
