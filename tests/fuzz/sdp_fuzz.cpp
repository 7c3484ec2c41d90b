// libFuzzer target for rtprelay/sdp: parse any bytes, then rewrite what parses with fixed
// plans (plain relay, WebRTC-style mux + ICE replace, reject-all) and re-parse the output.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rtprelay/sdp/rewrite.h"

namespace sdp = strowger::rtprelay::sdp;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

sdp::RewritePlan make_plan(const sdp::SessionDescription& sd, int variant) {
  sdp::RewritePlan plan;
  plan.session.replace_origin = variant != 2;
  plan.session.replace_session_connection = variant == 0;
  plan.session.bump_version = variant == 1;
  plan.session.ice_lite = variant == 1;
  for (std::size_t i = 0; i < sd.media.size(); i++) {
    sdp::MediaPlan m;
    m.address = (i % 2) ? "2001:db8::1" : "203.0.113.1";
    m.rtp_port = static_cast<uint16_t>(30000 + 2 * i);
    m.rtcp_port = static_cast<uint16_t>(30001 + 2 * i);
    if (variant == 1) {
      m.rtcp = sdp::RtcpMode::kMux;
      m.ice = sdp::IceMode::kReplace;
      m.ice_ufrag = "ufrag";
      m.ice_pwd = "pwdpwdpwdpwdpwdpwdpwdpwd";
      m.candidates.push_back({"1", 1, 2130706431, m.address, m.rtp_port});
      m.proto = "UDP/TLS/RTP/SAVPF";
      m.replace_zero_address = true;
    } else if (variant == 0) {
      m.ice = sdp::IceMode::kRemove;
      m.strip_attributes = {"fingerprint", "setup"};
      m.rtcp_attribute = sdp::RtcpAttribute::kFull;
    } else {
      m.reject = i % 2 == 1;
      m.rtcp = sdp::RtcpMode::kMuxOffered;
    }
    plan.media.push_back(std::move(m));
  }
  return plan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = sdp::parse(text);
  if (!parsed.ok()) {
    check(!parsed.error().message.empty());
    return 0;
  }
  const sdp::SessionDescription& sd = *parsed;
  check(!sd.media.empty() && sd.origin.line >= 0);
  for (const sdp::Media& m : sd.media) {
    check(m.first_line >= 0 && m.first_line <= m.last_line);
    check(static_cast<std::size_t>(m.last_line) < sd.lines.size());
    check(m.rejected() || m.effective_address.has_value());
  }
  std::size_t longest = 0;
  for (const sdp::Line& l : sd.lines) longest = std::max<std::size_t>(longest, l.end - l.begin);
  bool near_limits = sd.lines.size() + 8 * sd.media.size() + 8 > sdp::kMaxLines ||
                     longest + 64 > sdp::kMaxLineBytes || size + 8192 > sdp::kMaxSdpBytes;
  for (int variant = 0; variant < 3; variant++) {
    auto out = sdp::rewrite(sd, make_plan(sd, variant));
    check(out.ok());
    // Our own output must parse again with the same sections, unless the input sat so close
    // to a parser limit that the added lines push it over.
    if (near_limits) continue;
    {
      auto again = sdp::parse(*out);
      check(again.ok());
      check(again->media.size() == sd.media.size());
    }
  }
  return 0;
}
