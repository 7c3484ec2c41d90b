// DNS response parser tests: record types, TTLs, CNAME chains, negative answers, bad input.
#include "proxy/dns/answer.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/dns/dns_wire.h"

namespace strowger::proxy::dns {
namespace {

using namespace testing;  // NOLINT: the wire builders
constexpr std::uint16_t kA = 1, kCname = 5, kSoa = 6, kAaaa = 28, kSrv = 33, kNaptr = 35;

Answer parse(const Bytes& b, std::string_view qname, RrType type) {
  return parse_answer(std::span<const std::uint8_t>(b.data(), b.size()), qname, type);
}

TEST(ParseAnswer, AddressesWithSmallestTtl) {
  Bytes b = response(1, 0, question("h.test", kA),
                     {{"h.test", kA, 120, rdata_a("192.0.2.1")},
                      {"H.Test", kA, 60, rdata_a("192.0.2.2")},
                      {"other.test", kA, 5, rdata_a("192.0.2.3")}});
  Answer a = parse(b, "h.test", RrType::kA);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_EQ(a.addresses.size(), 2u);
  EXPECT_EQ(a.addresses[0].ip(), "192.0.2.1");
  EXPECT_EQ(a.addresses[1].ip(), "192.0.2.2");
  EXPECT_EQ(a.ttl_s, 60u);
}

TEST(ParseAnswer, Aaaa) {
  Bytes b =
      response(1, 0, question("h.test", kAaaa), {{"h.test", kAaaa, 30, rdata_aaaa("2001:db8::7")}});
  Answer a = parse(b, "h.test", RrType::kAaaa);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].ip(), "2001:db8::7");
  EXPECT_EQ(a.addresses[0].family(), AF_INET6);
}

TEST(ParseAnswer, SrvWithGlueForTargetsOnly) {
  const std::string q = "_sip._udp.d.test";
  Bytes b = response(1, 0, question(q, kSrv),
                     {{q, kSrv, 300, rdata_srv(10, 60, 5060, "Pbx.D.Test.")},
                      {q, kSrv, 300, rdata_srv(20, 0, 5070, "")}},
                     {},
                     {{"pbx.d.test", kA, 100, rdata_a("192.0.2.9")},
                      {"pbx.d.test", kAaaa, 300, rdata_aaaa("2001:db8::9")},
                      {"stranger.test", kA, 1, rdata_a("192.0.2.66")}});
  Answer a = parse(b, q, RrType::kSrv);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_EQ(a.srv.size(), 2u);
  EXPECT_EQ(a.srv[0].priority, 10);
  EXPECT_EQ(a.srv[0].weight, 60);
  EXPECT_EQ(a.srv[0].port, 5060);
  EXPECT_EQ(a.srv[0].target, "pbx.d.test");
  EXPECT_EQ(a.srv[1].target, "");
  ASSERT_EQ(a.glue.size(), 2u);
  EXPECT_EQ(a.glue[0].addr.ip(), "192.0.2.9");
  EXPECT_EQ(a.glue[1].addr.ip(), "2001:db8::9");
  EXPECT_EQ(a.ttl_s, 100u);  // glue TTL counts, the stranger's does not
}

TEST(ParseAnswer, Naptr) {
  Bytes b = response(
      1, 0, question("d.test", kNaptr),
      {{"d.test", kNaptr, 900, rdata_naptr(10, 20, "S", "SIP+D2T", "", "_sip._tcp.d.test")}});
  Answer a = parse(b, "d.test", RrType::kNaptr);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_EQ(a.naptr.size(), 1u);
  EXPECT_EQ(a.naptr[0].order, 10);
  EXPECT_EQ(a.naptr[0].preference, 20);
  EXPECT_EQ(a.naptr[0].flags, "S");
  EXPECT_EQ(a.naptr[0].service, "SIP+D2T");
  EXPECT_EQ(a.naptr[0].regexp, "");
  EXPECT_EQ(a.naptr[0].replacement, "_sip._tcp.d.test");
  EXPECT_EQ(a.ttl_s, 900u);
}

TEST(ParseAnswer, FollowsCnameChain) {
  Bytes b = response(1, 0, question("www.test", kA),
                     {{"www.test", kCname, 50, encode_name("web.test")},
                      {"web.test", kCname, 500, encode_name("real.test")},
                      {"real.test", kA, 300, rdata_a("192.0.2.4")}});
  Answer a = parse(b, "www.test", RrType::kA);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].ip(), "192.0.2.4");
  EXPECT_EQ(a.ttl_s, 50u);
}

TEST(ParseAnswer, CnameLoopEndsAsNoData) {
  Bytes b = response(1, 0, question("a.test", kA),
                     {{"a.test", kCname, 50, encode_name("b.test")},
                      {"b.test", kCname, 50, encode_name("a.test")}});
  EXPECT_EQ(parse(b, "a.test", RrType::kA).status, AnswerStatus::kNoData);
}

TEST(ParseAnswer, NegativeAnswersTakeTtlFromSoa) {
  const WireRecord soa{"test", kSoa, 600, rdata_soa(45)};
  Answer nx = parse(response(1, 3, question("x.test", kA), {}, {soa}), "x.test", RrType::kA);
  EXPECT_EQ(nx.status, AnswerStatus::kNxDomain);
  EXPECT_EQ(nx.ttl_s, 45u);
  const WireRecord soa2{"test", kSoa, 20, rdata_soa(45)};
  Answer nodata = parse(response(1, 0, question("x.test", kA), {}, {soa2}), "x.test", RrType::kA);
  EXPECT_EQ(nodata.status, AnswerStatus::kNoData);
  EXPECT_EQ(nodata.ttl_s, 20u);
  Answer bare = parse(response(1, 0, question("x.test", kA), {}), "x.test", RrType::kA);
  EXPECT_EQ(bare.status, AnswerStatus::kNoData);
  EXPECT_FALSE(bare.ttl_s.has_value());
}

TEST(ParseAnswer, ErrorRcodesAreServerFailures) {
  for (std::uint8_t rcode : {1, 2, 4, 5}) {
    Bytes b = response(1, rcode, question("x.test", kA), {{"x.test", kA, 1, rdata_a("192.0.2.1")}});
    EXPECT_EQ(parse(b, "x.test", RrType::kA).status, AnswerStatus::kServerFailure) << int(rcode);
  }
}

TEST(ParseAnswer, CompressedNames) {
  // Answer owner is a pointer to the question name; SRV target points into it too.
  Bytes b = response(1, 0, question("_sip._udp.c.test", kSrv), {});
  b[7] = 1;  // ancount
  const Bytes rr = {
      0xC0, 0x0C, 0, kSrv, 0, 1, 0,    0,    0,    60,
      0,    8,    0, 1,    0, 2, 0x13, 0xC4, 0xC0, 0x16};  // target -> "c.test" at offset 12 + 10
  b.insert(b.end(), rr.begin(), rr.end());
  Answer a = parse(b, "_sip._udp.c.test", RrType::kSrv);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_EQ(a.srv.size(), 1u);
  EXPECT_EQ(a.srv[0].port, 5060);
  EXPECT_EQ(a.srv[0].target, "c.test");
}

TEST(ParseAnswer, PointerLoopIsRejected) {
  Bytes b = response(1, 0, question("l.test", kA), {});
  b[7] = 1;
  const std::size_t self = b.size();
  b.push_back(0xC0);
  b.push_back(static_cast<std::uint8_t>(self));  // points at itself
  for (int i = 0; i < 14; ++i) b.push_back(0);
  EXPECT_EQ(parse(b, "l.test", RrType::kA).status, AnswerStatus::kServerFailure);
}

TEST(ParseAnswer, TruncatedInputIsRejectedAtEveryLength) {
  Bytes full =
      response(1, 0, question("t.test", kNaptr),
               {{"t.test", kNaptr, 60, rdata_naptr(1, 1, "s", "SIP+D2U", "", "_sip._udp.t.test")}});
  ASSERT_EQ(parse(full, "t.test", RrType::kNaptr).status, AnswerStatus::kOk);
  for (std::size_t n = 0; n < full.size(); ++n) {
    Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(parse(cut, "t.test", RrType::kNaptr).status, AnswerStatus::kOk) << n;
  }
}

TEST(ParseAnswer, RdlengthBeyondMessageIsRejected) {
  Bytes b = response(1, 0, question("r.test", kA), {{"r.test", kA, 60, rdata_a("192.0.2.1")}});
  b[b.size() - 5] = 0x40;  // rdlength high byte
  EXPECT_EQ(parse(b, "r.test", RrType::kA).status, AnswerStatus::kServerFailure);
}

TEST(ParseAnswer, QueriesAreNotResponses) {
  Bytes b = response(1, 0, question("q.test", kA), {{"q.test", kA, 60, rdata_a("192.0.2.1")}});
  b[2] &= 0x7F;  // clear QR
  EXPECT_EQ(parse(b, "q.test", RrType::kA).status, AnswerStatus::kServerFailure);
}

TEST(ParseAnswer, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  Bytes base =
      response(7, 0, question("f.test", kSrv),
               {{"f.test", kSrv, 60, rdata_srv(1, 2, 3, "t.f.test")},
                {"f.test", kCname, 60, encode_name("g.test")}},
               {{"test", kSoa, 60, rdata_soa(5)}}, {{"t.f.test", kA, 60, rdata_a("192.0.2.1")}});
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b = base;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    for (RrType t : {RrType::kSrv, RrType::kA, RrType::kNaptr}) {
      Answer a = parse(b, "f.test", t);
      if (a.status == AnswerStatus::kOk) ++ok;
      EXPECT_LE(a.srv.size() + a.addresses.size() + a.naptr.size(), 64u);
    }
  }
  EXPECT_GT(ok, 0);  // the mutations do not all hit fatal bytes
}

TEST(NormalizeName, AcceptsHostNamesOnly) {
  EXPECT_EQ(normalize_name("Example.COM."), "example.com");
  EXPECT_EQ(normalize_name("_sip._udp.a-b.test"), "_sip._udp.a-b.test");
  EXPECT_FALSE(normalize_name(""));
  EXPECT_FALSE(normalize_name("."));
  EXPECT_FALSE(normalize_name("a..b"));
  EXPECT_FALSE(normalize_name(".a"));
  EXPECT_FALSE(normalize_name("a b"));
  EXPECT_FALSE(normalize_name(std::string_view("a\0b", 3)));
  EXPECT_FALSE(normalize_name(std::string(64, 'a') + ".test"));
  EXPECT_TRUE(normalize_name(std::string(63, 'a') + ".test"));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  EXPECT_FALSE(normalize_name(long_name + "test"));
}

}  // namespace
}  // namespace strowger::proxy::dns
