// Authenticator with a fake clock: the whole challenge/response cycle, Kamailio's return
// codes, nonce expiry (stale), nc replay, the per-IP slowdown, and the identity check.
#include "modules/auth/authenticator.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "modules/auth/digest.h"

namespace strowger::modules::auth {
namespace {

constexpr std::int64_t kT0 = 1700000000000;  // ms

std::shared_ptr<const SubscriberSet> users() {
  auto set = parse_subscriber_yaml(
      "- {username: alice, domain: example.com, password: wonderland}\n"
      "- {username: bob, domain: example.com, ha1: " +
          compute_ha1(Algorithm::kMd5, "bob", "example.com", "builder") + ", ha1_sha256: " +
          compute_ha1(Algorithm::kSha256, "bob", "example.com", "builder") + "}\n",
      "t.yaml");
  EXPECT_TRUE(set.ok()) << set.error().message;
  return set.value();
}

struct Client {
  std::string user = "alice";
  std::string password = "wonderland";
  std::string realm = "example.com";
  Algorithm algorithm = Algorithm::kMd5;
  std::string nonce;
  unsigned nc = 0;

  // Takes the challenge line for its algorithm from the challenge headers.
  bool take(const std::string& headers) {
    std::string want = std::string("algorithm=") + std::string(algorithm_name(algorithm));
    std::size_t pos = 0;
    while (pos < headers.size()) {
      std::size_t end = headers.find("\r\n", pos);
      std::string line = headers.substr(pos, end - pos);
      pos = end + 2;
      if (line.find(want + ",") == std::string::npos) continue;
      auto c = parse_credentials(line.substr(line.find(':') + 2));
      if (!c) return false;
      nonce = c->nonce;
      nc = 0;
      return true;
    }
    return false;
  }
  std::string header(const std::string& method = "REGISTER", bool qop = true) {
    ++nc;
    char ncs[9];
    std::snprintf(ncs, sizeof ncs, "%08x", nc);
    std::string uri = "sip:example.com";
    std::string ha1 = compute_ha1(algorithm, user, realm, password);
    std::string resp = compute_response(algorithm, ha1, method, uri, nonce, qop ? ncs : "",
                                        qop ? "c0ffee" : "", qop ? "auth" : "");
    std::string h = "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                    "\", uri=\"" + uri + "\", response=\"" + resp +
                    "\", algorithm=" + std::string(algorithm_name(algorithm));
    if (qop) h += ", qop=auth, nc=" + std::string(ncs) + ", cnonce=\"c0ffee\"";
    return h;
  }
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() : auth_(config(), "test-secret"), subs_(users()) {}
  static AuthConfig config() {
    AuthConfig c;
    c.nonce_expire_s = 30;
    c.failures = FailureLimits{3, 60000, 120000, 1000};
    return c;
  }
  AuthOutcome check(const std::vector<std::string>& headers, std::int64_t now,
                    const char* ip = "192.0.2.1", const char* method = "REGISTER") {
    AuthRequest r;
    r.method = method;
    r.headers = &headers;
    r.realm = "example.com";
    r.source_ip = ip;
    return auth_.authorize(r, subs_.get(), now);
  }
  Authenticator auth_;
  std::shared_ptr<const SubscriberSet> subs_;
};

TEST_F(AuthenticatorTest, ChallengeOffersBothAlgorithmsWithOneNonce) {
  std::string h = auth_.challenge_headers(false, "example.com", false, false, kT0);
  EXPECT_EQ(h.rfind("WWW-Authenticate: Digest realm=\"example.com\", nonce=\"", 0), 0u);
  Client md5, sha;
  sha.algorithm = Algorithm::kSha256;
  ASSERT_TRUE(md5.take(h));
  ASSERT_TRUE(sha.take(h));
  EXPECT_EQ(md5.nonce, sha.nonce);
  EXPECT_NE(h.find("algorithm=MD5, qop=\"auth\"\r\n"), std::string::npos);
  EXPECT_NE(h.find("algorithm=SHA-256, qop=\"auth\"\r\n"), std::string::npos);
  EXPECT_EQ(h.find("stale"), std::string::npos);
  EXPECT_NE(auth_.challenge_headers(true, "r", false, true, kT0)
                .find("Proxy-Authenticate: Digest realm=\"r\""),
            std::string::npos);
}

TEST_F(AuthenticatorTest, Md5AndSha256Succeed) {
  for (Algorithm a : {Algorithm::kMd5, Algorithm::kSha256}) {
    for (const char* user : {"alice", "bob"}) {  // plain password and stored HA1s
      Client c;
      c.algorithm = a;
      c.user = user;
      c.password = c.user == "bob" ? "builder" : "wonderland";
      ASSERT_TRUE(c.take(auth_.challenge_headers(false, "example.com", true, false, kT0)));
      AuthOutcome out = check({c.header()}, kT0 + 1000);
      EXPECT_EQ(out.code, kAuthOk) << user << " " << algorithm_name(a);
      EXPECT_EQ(out.username, user);
      EXPECT_EQ(out.header_index, 0);
    }
  }
}

TEST_F(AuthenticatorTest, ReturnCodes) {
  EXPECT_EQ(check({}, kT0).code, kNoCredentials);
  Client c;
  ASSERT_TRUE(c.take(auth_.challenge_headers(false, "example.com", true, false, kT0)));
  // Credentials for another realm only: no credentials (for us).
  Client other = c;
  other.realm = "elsewhere.org";
  EXPECT_EQ(check({other.header()}, kT0).code, kNoCredentials);
  EXPECT_EQ(check({"Digest garbage"}, kT0).code, kAuthError);
  Client wrong = c;
  wrong.password = "guess";
  EXPECT_EQ(check({wrong.header()}, kT0).code, kInvalidPassword);
  Client nobody = c;
  nobody.user = "mallory";
  EXPECT_EQ(check({nobody.header()}, kT0).code, kInvalidUser);
  // Ours is picked among several, and its index is reported.
  AuthOutcome out = check({other.header(), c.header()}, kT0);
  EXPECT_EQ(out.code, kAuthOk);
  EXPECT_EQ(out.header_index, 1);
  // A method other than the one signed: invalid password.
  EXPECT_EQ(check({c.header("INVITE")}, kT0, "192.0.2.1", "REGISTER").code, kInvalidPassword);
}

TEST_F(AuthenticatorTest, ReplayedNonceCountIsRefused) {
  Client c;
  ASSERT_TRUE(c.take(auth_.challenge_headers(false, "example.com", true, false, kT0)));
  std::string first = c.header();  // nc=1
  EXPECT_EQ(check({first}, kT0).code, kAuthOk);
  EXPECT_EQ(check({first}, kT0).code, kNonceReused);
  std::string second = c.header();  // nc=2: the UA reuses its cached nonce
  EXPECT_EQ(check({second}, kT0 + 5000).code, kAuthOk);
  EXPECT_EQ(check({first}, kT0 + 5000).code, kNonceReused);
  // Without qop a nonce is good for one request.
  ASSERT_TRUE(c.take(auth_.challenge_headers(false, "example.com", true, false, kT0)));
  std::string once = c.header("REGISTER", false);
  EXPECT_EQ(check({once}, kT0).code, kAuthOk);
  EXPECT_EQ(check({once}, kT0).code, kNonceReused);
}

TEST_F(AuthenticatorTest, ExpiredForgedOrFutureNonceIsStale) {
  Client c;
  ASSERT_TRUE(c.take(auth_.challenge_headers(false, "example.com", true, false, kT0)));
  AuthOutcome out = check({c.header()}, kT0 + 31000);  // nonce_expire 30 s
  EXPECT_EQ(out.code, kNonceExpired);
  EXPECT_TRUE(out.stale);
  EXPECT_EQ(check({c.header()}, kT0 + 29000).code, kAuthOk);  // was not consumed by the stale try
  // A nonce made with another secret (another proxy, before a restart): stale, not an error.
  Authenticator other(config(), "other-secret");
  Client d;
  ASSERT_TRUE(d.take(other.challenge_headers(false, "example.com", true, false, kT0)));
  out = check({d.header()}, kT0);
  EXPECT_EQ(out.code, kNonceExpired);
  EXPECT_TRUE(out.stale);
  // From the future beyond the drift.
  ASSERT_TRUE(c.take(auth_.challenge_headers(false, "example.com", true, false, kT0 + 10000)));
  EXPECT_EQ(check({c.header()}, kT0).code, kNonceExpired);
}

TEST_F(AuthenticatorTest, RepeatedFailuresBlockTheSource) {
  Client good;
  ASSERT_TRUE(good.take(auth_.challenge_headers(false, "example.com", true, false, kT0)));
  Client bad = good;
  bad.password = "guess";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(check({bad.header()}, kT0 + i).code, kInvalidPassword);
  // Another source is not affected, and the good password still works here (3 allowed).
  EXPECT_EQ(check({good.header()}, kT0 + 10).code, kAuthOk);
  EXPECT_EQ(check({bad.header()}, kT0 + 11).code, kInvalidPassword);  // 4th: blocked now
  EXPECT_TRUE(auth_.failures().blocked("192.0.2.1", kT0 + 12));
  // While blocked even the right password is refused, unchecked (nc not consumed).
  std::string right = good.header();
  EXPECT_EQ(check({right}, kT0 + 1000).code, kInvalidPassword);
  EXPECT_EQ(check({good.header()}, kT0 + 1000, "192.0.2.2").code, kAuthOk);
  // After block_time (120 s) the source may try again.
  ASSERT_TRUE(good.take(auth_.challenge_headers(false, "example.com", true, false, kT0 + 121000)));
  EXPECT_EQ(check({good.header()}, kT0 + 121000).code, kAuthOk);
  EXPECT_FALSE(auth_.failures().blocked("192.0.2.1", kT0 + 121000));
}

TEST(FailureLimiter, WindowAndExpiry) {
  FailureLimiter l(FailureLimits{2, 1000, 5000, 100});
  EXPECT_FALSE(l.record_failure("a", 0));
  EXPECT_FALSE(l.record_failure("a", 10));
  EXPECT_FALSE(l.record_failure("a", 1500));  // a new window
  EXPECT_FALSE(l.record_failure("a", 1600));
  EXPECT_TRUE(l.record_failure("a", 1700));  // third in the window: blocked, logged once
  EXPECT_FALSE(l.record_failure("a", 1800));
  EXPECT_TRUE(l.blocked("a", 6699));
  EXPECT_FALSE(l.blocked("a", 6700));
  EXPECT_EQ(l.expire(6000), 0u);
  EXPECT_EQ(l.expire(7700), 1u);
  EXPECT_EQ(l.size(), 0u);
  FailureLimiter off(FailureLimits{0, 1000, 5000, 100});
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(off.record_failure("a", i));
  EXPECT_FALSE(off.blocked("a", 100));
}

TEST(Identity, KamailioFlags) {
  Identity alice{"alice", "example.com"}, bob{"bob", "example.com"};
  EXPECT_EQ(check_identity("REGISTER", "alice", "example.com", alice, bob, bob, 0, true), kAuthOk);
  EXPECT_EQ(check_identity("REGISTER", "alice", "example.com", alice, bob, bob, 1, true),
            kUserMismatch);
  EXPECT_EQ(check_identity("REGISTER", "alice", "example.com", alice, alice, bob, 1, true),
            kAuthOk);
  EXPECT_EQ(check_identity("INVITE", "alice", "example.com", alice, bob, bob, 1, true), kAuthOk);
  EXPECT_EQ(check_identity("INVITE", "alice", "example.com", bob, bob, bob, 1, true),
            kUserMismatch);
  EXPECT_EQ(check_identity("INVITE", "alice", "example.com", bob, bob, bob, 3, true), kAuthOk);
  EXPECT_EQ(check_identity("PUBLISH", "alice", "example.com", alice, alice, bob, 1, true),
            kUserMismatch);
  EXPECT_EQ(check_identity("INVITE", "alice@example.com", "example.com", alice, bob, bob, 1, true),
            kAuthOk);
  Identity spoof{"alice", "evil.org"};
  EXPECT_EQ(check_identity("INVITE", "alice", "example.com", spoof, bob, bob, 1, true),
            kUserMismatch);
  EXPECT_EQ(check_identity("INVITE", "alice", "example.com", spoof, bob, bob, 1, false), kAuthOk);
}

}  // namespace
}  // namespace strowger::modules::auth
