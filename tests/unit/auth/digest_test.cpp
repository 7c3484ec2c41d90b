// Digest computation against the published examples (RFC 7616 3.9.1, RFC 2617 3.5) and the
// credentials parser on good and bad input.
#include "modules/auth/digest.h"

#include <gtest/gtest.h>

namespace strowger::modules::auth {
namespace {

TEST(Digest, Rfc7616Md5Example) {
  std::string ha1 =
      compute_ha1(Algorithm::kMd5, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(compute_response(Algorithm::kMd5, ha1, "GET", "/dir/index.html",
                             "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
                             "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth"),
            "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, Rfc7616Sha256Example) {
  std::string ha1 =
      compute_ha1(Algorithm::kSha256, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(compute_response(Algorithm::kSha256, ha1, "GET", "/dir/index.html",
                             "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
                             "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, Rfc2617Example) {
  std::string ha1 = compute_ha1(Algorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(compute_response(Algorithm::kMd5, ha1, "GET", "/dir/index.html",
                             "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth"),
            "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, ParsesTheRfc7616AuthorizationHeader) {
  auto c = parse_credentials(
      "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
      "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
      "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
      "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "Mufasa");
  EXPECT_EQ(c->realm, "http-auth@example.org");
  EXPECT_EQ(c->uri, "/dir/index.html");
  EXPECT_EQ(c->algorithm, "SHA-256");
  EXPECT_EQ(c->nc, "00000001");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  EXPECT_EQ(algorithm_from_name(c->algorithm), Algorithm::kSha256);
}

TEST(Digest, QuotedEscapesAndSipUris) {
  auto c = parse_credentials(
      "digest  username = \"a\\\"b\" ,realm=\"x\",uri=\"sip:bob@example.com;transport=udp\","
      "nonce=\"n\",response=\"r\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "a\"b");
  EXPECT_EQ(c->uri, "sip:bob@example.com;transport=udp");
}

TEST(Digest, RejectsMalformedValues) {
  for (const char* bad : {"", "Basic dXNlcjpwYXNz", "Digest", "Digest ", "Digest username",
                          "Digest username=\"unterminated", "Digest =x", "Digest a=b c=d",
                          "Digest a=\"x\\", "Digestusername=\"a\"", "Digest a=,"}) {
    EXPECT_FALSE(parse_credentials(bad)) << bad;
  }
  EXPECT_FALSE(parse_credentials("Digest username=\"" + std::string(5000, 'a') + "\""));
}

TEST(Digest, AlgorithmNames) {
  EXPECT_EQ(algorithm_from_name(""), Algorithm::kMd5);
  EXPECT_EQ(algorithm_from_name("md5"), Algorithm::kMd5);
  EXPECT_FALSE(algorithm_from_name("MD5-sess"));
  EXPECT_FALSE(algorithm_from_name("SHA-512-256"));
}

TEST(Digest, ChallengeValue) {
  ChallengeSpec spec;
  spec.realm = "ex\"ample";
  spec.nonce = "abc";
  spec.opaque = "o";
  spec.algorithm = Algorithm::kSha256;
  spec.stale = true;
  EXPECT_EQ(challenge_value(spec),
            "Digest realm=\"ex\\\"ample\", nonce=\"abc\", opaque=\"o\", algorithm=SHA-256, "
            "qop=\"auth\", stale=true");
  // What we send parses back.
  auto c = parse_credentials(challenge_value(spec));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->realm, "ex\"ample");
}

}  // namespace
}  // namespace strowger::modules::auth
