// Parser tests: the model of a WebRTC and a plain SDP, and refusals with their reasons.
#include <gtest/gtest.h>

#include <string>

#include "rtprelay/sdp/session_description.h"

namespace strowger::rtprelay::sdp {
namespace {

const char kPlain[] =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 198.51.100.7\r\n"
    "s=Talk\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "a=recvonly\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtcp:49171 IN IP4 198.51.100.8\r\n"
    "a=ptime:20\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "m=video 5006/2 RTP/SAVP 97\r\n"
    "c=IN IP6 2001:db8::1\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
    "a=inactive\r\n";

TEST(SdpParse, PlainPhoneModel) {
  auto r = parse(kPlain);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SessionDescription& sd = *r;
  EXPECT_EQ(sd.origin.username, "alice");
  EXPECT_EQ(sd.origin.session_version, "2890844527");
  EXPECT_EQ(sd.origin.address, "198.51.100.7");
  EXPECT_EQ(sd.session_name, "Talk");
  ASSERT_TRUE(sd.connection);
  EXPECT_EQ(sd.connection->address.text, "198.51.100.7");
  EXPECT_EQ(sd.direction, Direction::kRecvOnly);
  EXPECT_EQ(sd.eol, "\r\n");
  ASSERT_EQ(sd.media.size(), 3u);

  const Media& a = sd.media[0];
  EXPECT_EQ(a.type, "audio");
  EXPECT_EQ(a.port, 49170);
  EXPECT_EQ(a.proto, "RTP/AVP");
  EXPECT_EQ(a.formats, (std::vector<std::string_view>{"0", "8", "101"}));
  EXPECT_FALSE(a.connection);
  EXPECT_EQ(a.effective_address->text, "198.51.100.7");
  ASSERT_TRUE(a.rtcp);
  EXPECT_EQ(a.rtcp->port, 49171);
  EXPECT_EQ(a.rtcp->address->text, "198.51.100.8");
  EXPECT_EQ(a.ptime, 20u);
  EXPECT_EQ(sd.effective_direction(a), Direction::kRecvOnly);
  EXPECT_EQ(a.first_line, 6);
  EXPECT_EQ(a.last_line, 9);
  EXPECT_TRUE(a.is_rtp());

  EXPECT_TRUE(sd.media[1].rejected());
  const Media& v = sd.media[2];
  EXPECT_EQ(v.port, 5006);
  EXPECT_EQ(v.port_count, 2);
  EXPECT_EQ(v.effective_address->family, AddressFamily::kIp6);
  EXPECT_EQ(v.cryptos.size(), 1u);
  EXPECT_EQ(sd.effective_direction(v), Direction::kInactive);
  EXPECT_EQ(sd.line_text(v.last_line), "a=inactive");
  EXPECT_EQ(sd.lines[v.last_line].attr, AttrKind::kDirection);
}

TEST(SdpParse, WebRtcAttributes) {
  const char sdp[] =
      "v=0\n"
      "o=- 4779000713447952953 2 IN IP4 127.0.0.1\n"
      "s=-\n"
      "t=0 0\n"
      "a=group:BUNDLE 0\n"
      "m=audio 55839 UDP/TLS/RTP/SAVPF 111\n"
      "c=IN IP4 0.0.0.0\n"
      "a=rtcp:9 IN IP4 0.0.0.0\n"
      "a=candidate:3802297132 1 udp 2122260223 192.0.2.3 55839 typ host generation 0\n"
      "a=candidate:1 1 udp 2122194687 4a1b2c3d-aaaa.local 55840 typ host\n"
      "a=end-of-candidates\n"
      "a=ice-ufrag:0PIq\n"
      "a=ice-pwd:i7ccvGPXLDO5JqMwbCUqMcyN\n"
      "a=ice-options:trickle\n"
      "a=fingerprint:sha-256 AB:50:70\n"
      "a=setup:actpass\n"
      "a=mid:0\n"
      "a=rtcp-mux\n";
  auto r = parse(sdp);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Media& m = r->media[0];
  EXPECT_EQ(r->eol, "\n");
  EXPECT_TRUE(m.rtcp_mux);
  EXPECT_TRUE(r->zero_address(m));
  EXPECT_EQ(m.rtcp->port, 9);
  EXPECT_TRUE(m.rtcp->address->zero);
  ASSERT_EQ(m.candidates.size(), 2u);
  EXPECT_EQ(m.candidates[0].priority, 2122260223u);
  EXPECT_EQ(m.candidates[0].address, "192.0.2.3");
  EXPECT_EQ(m.candidates[1].address, "4a1b2c3d-aaaa.local");
  EXPECT_TRUE(m.end_of_candidates);
  EXPECT_EQ(m.ice_ufrag, "0PIq");
  EXPECT_EQ(m.ice_pwd, "i7ccvGPXLDO5JqMwbCUqMcyN");
  EXPECT_EQ(m.ice_options, "trickle");
  EXPECT_EQ(m.fingerprints.size(), 1u);
  EXPECT_EQ(m.setup, "actpass");
  EXPECT_EQ(m.mid, "0");
  EXPECT_TRUE(m.has_ice());
}

TEST(SdpParse, LastLineWithoutEndingAndTrailingBlankLines) {
  auto r = parse(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 1000 RTP/AVP 0");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->lines.back().next, r->lines.back().end);
  auto b = parse(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 1000 RTP/AVP 0\r\n\r\n");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->lines.back().kind, LineKind::kBlank);
  EXPECT_EQ(b->media[0].last_line, 5);
}

struct Bad {
  const char* name;
  std::string sdp;
  int line;
  const char* reason;
};

const std::string kHead =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

class SdpParseError : public ::testing::TestWithParam<Bad> {};

TEST_P(SdpParseError, RefusedWithReason) {
  const Bad& b = GetParam();
  auto r = parse(b.sdp);
  ASSERT_FALSE(r.ok()) << b.name;
  EXPECT_EQ(r.error().code, b.line) << r.error().message;
  EXPECT_NE(r.error().message.find(b.reason), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Sdp, SdpParseError,
    ::testing::Values(
        Bad{"empty", "", 0, "empty SDP"},
        Bad{"no_version", "o=- 1 1 IN IP4 192.0.2.1\r\n", 1, "start with v=0"},
        Bad{"garbage", "GET / HTTP/1.1\r\nHost: x\r\n", 1, "start with v=0"},
        Bad{"no_origin", "v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n", 4,
            "m= before o="},
        Bad{"no_media", kHead, 0, "no m= line"},
        Bad{"origin_fields", "v=0\r\no=- 1 IN IP4 192.0.2.1\r\n", 2, "o= needs 6 fields"},
        Bad{"origin_version", "v=0\r\no=- 1 x IN IP4 192.0.2.1\r\n", 2, "must be numbers"},
        Bad{"bad_port", kHead + "m=audio 70000 RTP/AVP 0\r\n", 6, "bad m= port"},
        Bad{"port_letters", kHead + "m=audio 12a RTP/AVP 0\r\n", 6, "bad m= port"},
        Bad{"no_formats", kHead + "m=audio 1000 RTP/AVP\r\n", 6, "no formats"},
        Bad{"bad_c_address", kHead + "m=audio 1000 RTP/AVP 0\r\nc=IN IP4 300.1.1.1\r\n", 7,
            "bad c= address"},
        Bad{"c_hostname", kHead + "m=audio 1000 RTP/AVP 0\r\nc=IN IP4 pbx.example.com\r\n", 7,
            "bad c= address"},
        Bad{"c_family", kHead + "m=audio 1000 RTP/AVP 0\r\nc=IN IP6 192.0.2.1\r\n", 7,
            "bad c= address"},
        Bad{"no_connection",
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 1000 RTP/AVP 0\r\n", 5,
            "no c="},
        Bad{"two_c",
            kHead + "m=audio 1000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\n", 8,
            "second c="},
        Bad{"bad_rtcp", kHead + "m=audio 1000 RTP/AVP 0\r\na=rtcp:abc\r\n", 7, "bad a=rtcp port"},
        Bad{"bad_candidate", kHead + "m=audio 1000 RTP/AVP 0\r\na=candidate:1 1 udp\r\n", 7,
            "malformed a=candidate"},
        Bad{"not_a_line", kHead + "m=audio 1000 RTP/AVP 0\r\nhello\r\n", 7, "not a 'x=value'"},
        Bad{"inner_blank", kHead + "\r\nm=audio 1000 RTP/AVP 0\r\n", 7, "empty line inside"},
        Bad{"bare_cr", kHead + "m=audio 1000 RTP/AVP 0\ra=x\r\n", 6, "control character"},
        Bad{"cr_at_end", kHead + "m=audio 1000 RTP/AVP 0\r", 6, "control character"},
        Bad{"nul", kHead + std::string("m=audio 1000 RTP/AVP 0\0\r\n", 25), 6, "control character"},
        Bad{"too_big", kHead + std::string(70000, 'a'), 0, "larger than 64 KiB"},
        Bad{"line_too_long", kHead + "a=" + std::string(5000, 'x') + "\r\n", 6, "line too long"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SdpParse, TooManyMediaAndLines) {
  std::string many = kHead;
  for (int i = 0; i < 40; i++) many += "m=audio 1000 RTP/AVP 0\r\n";
  auto r = parse(many);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too many m="), std::string::npos);
  std::string lines = kHead + "m=audio 1000 RTP/AVP 0\r\n";
  for (int i = 0; i < 3000; i++) lines += "a=x\r\n";
  auto l = parse(lines);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().message, "too many lines");
}

TEST(SdpParse, AddressHelpers) {
  EXPECT_TRUE(parse_ip_any("0.0.0.0")->zero);
  EXPECT_TRUE(parse_ip_any("::")->zero);
  EXPECT_EQ(parse_ip_any("2001:db8::1")->family, AddressFamily::kIp6);
  EXPECT_FALSE(parse_ip_any("1.2.3"));
  EXPECT_FALSE(parse_ip_any(""));
  EXPECT_FALSE(parse_ip_any(std::string(100, '1')));
}

}  // namespace
}  // namespace strowger::rtprelay::sdp
