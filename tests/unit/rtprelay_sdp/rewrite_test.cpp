// Rewrite tests: untouched lines stay byte for byte, c= rules, endings, plan errors, and the
// rtcp-mux policy helpers.
#include "rtprelay/sdp/rewrite.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace strowger::rtprelay::sdp {
namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    std::size_t stop = nl == std::string::npos ? s.size() : nl + 1;
    out.push_back(s.substr(pos, stop - pos));  // with its ending
    pos = stop;
  }
  return out;
}

MediaPlan relay(std::string address, uint16_t port) {
  MediaPlan p;
  p.address = std::move(address);
  p.rtp_port = port;
  p.rtcp_port = static_cast<uint16_t>(port + 1);
  return p;
}

const char kTwoMedia[] =
    "v=0\r\n"
    "o=bob 1234 5678 IN IP4 198.51.100.20\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.20\r\n"
    "t=0 0\r\n"
    "m=audio 16384 RTP/AVP 18 0\r\n"
    "c=IN IP4 198.51.100.20\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=x-custom:keep  me\r\n"
    "a=sendrecv\r\n"
    "m=video 16386 RTP/AVP 99\r\n"
    "c=IN IP4 198.51.100.21\r\n"
    "a=rtpmap:99 H264/90000\r\n"
    "a=sendrecv\r\n";

TEST(SdpRewrite, UntouchedLinesAreIdentical) {
  auto sdp = parse(kTwoMedia);
  ASSERT_TRUE(sdp.ok());
  RewritePlan plan;
  plan.media = {relay("203.0.113.1", 30000), relay("203.0.113.1", 30002)};
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok()) << out.error().message;
  // Without replace flags, a session c= that no stream depends on is left alone, as is o=.
  std::set<std::string> changed = {"m=audio 16384 RTP/AVP 18 0\r\n", "c=IN IP4 198.51.100.20\r\n",
                                   "m=video 16386 RTP/AVP 99\r\n", "c=IN IP4 198.51.100.21\r\n"};
  std::vector<std::string> in_lines = lines_of(kTwoMedia), out_lines = lines_of(*out);
  std::set<std::string> out_set(out_lines.begin(), out_lines.end());
  for (std::size_t i = 0; i < in_lines.size(); i++) {
    if (changed.count(in_lines[i]) && i != 3) continue;
    EXPECT_TRUE(out_set.count(in_lines[i])) << "lost or altered: " << in_lines[i];
  }
  EXPECT_EQ(out_lines[3], "c=IN IP4 198.51.100.20\r\n");  // session c= untouched
  EXPECT_EQ(out_lines[5], "m=audio 30000 RTP/AVP 18 0\r\n");
  EXPECT_EQ(out_lines[6], "c=IN IP4 203.0.113.1\r\n");
  EXPECT_EQ(out_lines[9], "a=x-custom:keep  me\r\n");
  EXPECT_EQ(out_lines[11], "a=rtcp:30001\r\n");
  EXPECT_EQ(out_lines[12], "m=video 30002 RTP/AVP 99\r\n");
}

TEST(SdpRewrite, ReplaceSessionConnectionFlag) {
  auto sdp = parse(kTwoMedia);
  RewritePlan plan;
  plan.session.replace_session_connection = true;
  plan.media = {relay("203.0.113.1", 30000), relay("203.0.113.1", 30002)};
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(lines_of(*out)[3], "c=IN IP4 203.0.113.1\r\n");
}

TEST(SdpRewrite, UnterminatedLastLineStaysUnterminated) {
  const std::string in =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 1000 RTP/AVP 0";
  auto sdp = parse(in);
  ASSERT_TRUE(sdp.ok());
  RewritePlan plan;
  plan.media = {relay("203.0.113.1", 30000)};
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n"
            "m=audio 30000 RTP/AVP 0\r\na=sendrecv\r\na=rtcp:30001");
}

TEST(SdpRewrite, TrailingBlankLineStaysLast) {
  const std::string in =
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 1000 RTP/AVP 0\n\n";
  auto sdp = parse(in);
  ASSERT_TRUE(sdp.ok());
  RewritePlan plan;
  plan.media = {relay("203.0.113.1", 30000)};
  plan.media[0].rtcp_attribute = RtcpAttribute::kOmit;
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 203.0.113.1\nt=0 0\n"
            "m=audio 30000 RTP/AVP 0\na=sendrecv\n\n");
}

TEST(SdpRewrite, VersionBumpCarries) {
  const std::string in =
      "v=0\r\no=- 7 1999 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 1000 RTP/AVP 0\r\na=sendrecv\r\na=rtcp:1001\r\n";
  auto sdp = parse(in);
  RewritePlan plan;
  plan.session.bump_version = true;
  plan.media = {relay("203.0.113.1", 1000)};
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok());
  // Only o= changes: the c= is rewritten because the stream relies on it.
  EXPECT_EQ(*out,
            "v=0\r\no=- 7 2000 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n"
            "m=audio 1000 RTP/AVP 0\r\na=sendrecv\r\na=rtcp:1001\r\n");
}

TEST(SdpRewrite, PlanErrors) {
  auto sdp = parse(kTwoMedia);
  RewritePlan plan;
  plan.media = {relay("203.0.113.1", 30000)};
  EXPECT_FALSE(rewrite(*sdp, plan).ok());  // count mismatch
  plan.media = {relay("203.0.113.1", 30000), relay("not-an-ip", 30002)};
  auto bad = rewrite(*sdp, plan);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("media 1: bad relay address"), std::string::npos);
  plan.media = {relay("203.0.113.1", 0), relay("203.0.113.1", 30002)};
  EXPECT_FALSE(rewrite(*sdp, plan).ok());
  plan.media = {relay("0.0.0.0", 30000), relay("203.0.113.1", 30002)};
  EXPECT_FALSE(rewrite(*sdp, plan).ok());
  // Plan strings must not smuggle extra lines into the SDP.
  plan.media = {relay("203.0.113.1", 30000), relay("203.0.113.1", 30002)};
  plan.media[0].add_attributes = {"x\r\nc=IN IP4 6.6.6.6"};
  EXPECT_FALSE(rewrite(*sdp, plan).ok());
  plan.media[0].add_attributes.clear();
  plan.media[0].proto = "RTP/AVP\r\nx=1";
  EXPECT_FALSE(rewrite(*sdp, plan).ok());
  plan.media[0].proto.reset();
  plan.media[0].ice = IceMode::kReplace;
  EXPECT_FALSE(rewrite(*sdp, plan).ok());  // no ufrag/pwd
  plan.media[0].ice_ufrag = "u";
  plan.media[0].ice_pwd = "p w";
  EXPECT_FALSE(rewrite(*sdp, plan).ok());
  plan.media[0].ice_pwd = "pwd";
  EXPECT_TRUE(rewrite(*sdp, plan).ok());
  plan.session.address = "example.com";
  EXPECT_FALSE(rewrite(*sdp, plan).ok());
}

TEST(SdpRewrite, DuplicateDirectionAndRtcpLinesCollapse) {
  const std::string in =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 1000 RTP/AVP 0\r\na=sendrecv\r\na=rtcp:1001\r\na=sendonly\r\na=rtcp:1003\r\n"
      "a=rtcp-mux\r\na=rtcp-mux\r\n";
  auto sdp = parse(in);
  ASSERT_TRUE(sdp.ok());
  RewritePlan plan;
  plan.media = {relay("203.0.113.1", 2000)};
  plan.media[0].rtcp = RtcpMode::kMux;
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n"
            "m=audio 2000 RTP/AVP 0\r\na=sendonly\r\na=rtcp:2000\r\na=rtcp-mux\r\n");
}

TEST(SdpRewrite, NonRtpSectionGetsNoRtcp) {
  const std::string in =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=image 1000 udptl t38\r\na=T38FaxVersion:0\r\n";
  auto sdp = parse(in);
  ASSERT_TRUE(sdp.ok());
  RewritePlan plan;
  plan.media = {relay("203.0.113.1", 2000)};
  auto out = rewrite(*sdp, plan);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n"
            "m=image 2000 udptl t38\r\na=T38FaxVersion:0\r\na=sendrecv\r\n");
}

TEST(SdpRewrite, RtcpMuxPolicy) {
  RtcpMuxFlags none, offer, require, demux, accept, reject;
  offer.offer = true;
  require.require = true;
  demux.demux = true;
  accept.accept = true;
  reject.reject = true;
  EXPECT_EQ(rtcp_mode_for_offer(none, true), RtcpMode::kMuxOffered);
  EXPECT_EQ(rtcp_mode_for_offer(none, false), RtcpMode::kSeparate);
  EXPECT_EQ(rtcp_mode_for_offer(offer, false), RtcpMode::kMuxOffered);
  EXPECT_EQ(rtcp_mode_for_offer(require, false), RtcpMode::kMux);
  EXPECT_EQ(rtcp_mode_for_offer(demux, true), RtcpMode::kSeparate);
  EXPECT_EQ(rtcp_mode_for_offer(reject, true), RtcpMode::kSeparate);
  EXPECT_EQ(rtcp_mode_for_offer(accept, true), RtcpMode::kMuxOffered);

  EXPECT_EQ(rtcp_mode_for_answer(none, none, true, true), RtcpMode::kMux);
  EXPECT_EQ(rtcp_mode_for_answer(none, none, true, false), RtcpMode::kSeparate);
  EXPECT_EQ(rtcp_mode_for_answer(demux, none, true, false), RtcpMode::kMux);
  EXPECT_EQ(rtcp_mode_for_answer(none, accept, true, false), RtcpMode::kMux);
  EXPECT_EQ(rtcp_mode_for_answer(reject, none, true, true), RtcpMode::kSeparate);
  EXPECT_EQ(rtcp_mode_for_answer(none, none, false, true), RtcpMode::kSeparate);
}

}  // namespace
}  // namespace strowger::rtprelay::sdp
