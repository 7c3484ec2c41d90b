// SDP rewrite: the plan the call layer fills in (addresses, ports, rtcp-mux, ICE, protocol,
// direction) and the function that applies it, copying every untouched line byte for byte.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "rtprelay/sdp/session_description.h"

namespace strowger::rtprelay::sdp {

// How RTCP is advertised for one media section.
enum class RtcpMode : uint8_t {
  kSeparate,    // a=rtcp:RTCP_PORT, no a=rtcp-mux (an existing one is removed)
  kMuxOffered,  // a=rtcp:RTCP_PORT + a=rtcp-mux: mux offered, separate port still open
  kMux,         // a=rtcp:RTP_PORT + a=rtcp-mux: mux in use (accepted, or ng "require")
};

enum class RtcpAttribute : uint8_t {
  kShort,  // a=rtcp:PORT (rtpengine's default); the address form is still used when needed
  kFull,   // a=rtcp:PORT IN IP4 ADDR (ng flag "full rtcp attribute")
  kOmit,   // no a=rtcp line (ng flag "no rtcp attribute"); an existing one is removed
};

enum class IceMode : uint8_t {
  kKeep,     // pass ICE attributes and candidates through untouched
  kRemove,   // ng ICE=remove: drop ice-*, candidate, remote-candidates, end-of-candidates
  kReplace,  // drop them, then advertise the relay's ufrag/pwd/candidates (ICE=force)
};

// One relay candidate, written as "a=candidate:F C UDP PRIO ADDR PORT typ host".
struct IceCandidate {
  std::string foundation;
  uint32_t component = 1;
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
};

struct MediaPlan {
  // true: the section goes out rejected (m= port 0; nothing else changes). A section that
  // came in with port 0 is always passed through untouched, whatever the plan says.
  bool reject = false;
  std::string address;  // IP literal to advertise (IPv4 or IPv6; family follows from it)
  uint16_t rtp_port = 0;
  uint16_t rtcp_port = 0;  // unused with RtcpMode::kMux
  RtcpMode rtcp = RtcpMode::kSeparate;
  RtcpAttribute rtcp_attribute = RtcpAttribute::kShort;
  IceMode ice = IceMode::kKeep;
  std::string ice_ufrag, ice_pwd;             // kReplace only
  std::vector<IceCandidate> candidates;       // kReplace only
  bool end_of_candidates = false;             // kReplace: add a=end-of-candidates
  std::optional<std::string> proto;           // new m= protocol (ng transport-protocol)
  std::optional<Direction> direction;         // forced direction; unset = rtpengine's default
  bool replace_zero_address = false;          // ng replace "zero address"
  std::vector<std::string> strip_attributes;  // attribute names to drop ("fingerprint", ...)
  std::vector<std::string> add_attributes;    // "name[:value]" lines appended (without a=)
};

struct SessionPlan {
  bool replace_origin = false;              // ng replace "origin": o= address
  bool replace_session_connection = false;  // ng replace "session-connection"
  bool bump_version = false;                // o= sess-version + 1
  bool replace_zero_address = false;        // also rewrite a session c= of 0.0.0.0 / ::
  std::string address;    // for o= and session c=; empty = the first non-rejected media's
  bool ice_lite = false;  // add a session-level a=ice-lite (relay is an ICE-lite agent)
  std::vector<std::string> strip_attributes;  // session-level attribute names to drop
  std::vector<std::string> add_attributes;    // appended after the last session-level line
};

struct RewritePlan {
  SessionPlan session;
  std::vector<MediaPlan> media;  // exactly one per m= section, in order
};

// Applies the plan to a parsed SDP and returns the new body. Rules (rtpengine's shape):
// - m=: port (the "/N" count is dropped) and, if asked, the protocol; formats kept as is.
// - c=: every non-rejected media's own c= is rewritten. The session c= is rewritten when
//   asked or when some non-rejected media has no c= of its own (it then carries that media's
//   address); a media whose address differs from what the session c= ends up saying gets a
//   c= line of its own after its m= (and i=) line. A c= of 0.0.0.0 / :: is kept unless
//   replace_zero_address.
// - direction: exactly one per media; rewritten in place, appended if absent. Unset
//   MediaPlan::direction means the sender's direction, with a zero address turning sendrecv
//   into sendonly and recvonly into inactive (rtpengine's hold handling).
// - a=rtcp / a=rtcp-mux per RtcpMode, in place when present, else appended (RTP protos only).
// - ICE per IceMode; session-level ICE lines go when no kept media still uses ICE.
// - Replaced lines keep their own line ending; inserted ones use the body's first ending.
// Errors: plan/media count mismatch, a bad address in the plan, a zero port for a stream.
common::Result<std::string> rewrite(const SessionDescription& sdp, const RewritePlan& plan);

// rtpengine's rtcp-mux policy as ng flags (the "rtcp-mux" list of an offer/answer).
struct RtcpMuxFlags {
  bool offer = false, require = false, demux = false, accept = false, reject = false;
};

// Offer from A going to B: what to advertise to B, given whether A's SDP offers rtcp-mux.
RtcpMode rtcp_mode_for_offer(const RtcpMuxFlags& flags, bool sdp_offers_mux);
// Answer from B going back to A: `offerer_offered_mux` is whether A's offer had rtcp-mux,
// `answer_has_mux` whether B's answer has it, `offer_flags` the flags of A's offer and
// `answer_flags` those of this answer. Without demux/accept/require, A gets what B chose.
RtcpMode rtcp_mode_for_answer(const RtcpMuxFlags& offer_flags, const RtcpMuxFlags& answer_flags,
                              bool offerer_offered_mux, bool answer_has_mux);

}  // namespace strowger::rtprelay::sdp
