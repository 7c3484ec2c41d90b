// NgOptions: the keys and flags of one ng offer/answer/delete, read the way rtpengine reads
// them (dashes, underscores and spaces alike in keys and flags; "key=value" flags as keys;
// "replace-", "rtcp-mux-", "SDES-" prefixes), with what the relay cannot do yet refused.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bencode.h"
#include "rtprelay/media/media_types.h"
#include "rtprelay/sdp/rewrite.h"

namespace strowger::rtprelay::calls {

namespace bencode = common::bencode;

struct NgOptions {
  std::string call_id, from_tag, to_tag, via_branch, label;
  std::optional<std::string> sdp;

  // Where the endpoint's media comes from: SDP by default ("trust address"), the SIP source
  // (`received from`) with "SIP source address", `media address` above both.
  bool sip_source = false;
  std::optional<std::string> media_address;
  std::optional<std::string> received_from;
  std::optional<bool> family_v6;       // `address family` IP4 / IP6
  std::vector<std::string> direction;  // interface names: [offerer's, receiver's]

  media::StreamFlags stream;  // strict source, asymmetric, media handover
  sdp::RtcpMuxFlags rtcp_mux;
  sdp::RtcpAttribute rtcp_attribute = sdp::RtcpAttribute::kShort;
  bool ice_remove = false;                        // ICE=remove or "reject ICE"
  std::optional<std::string> transport_protocol;  // RTP/AVP or RTP/AVPF
  bool accept_protocol = false;                   // transport-protocol=accept (answer)
  bool original_sendrecv = false;

  bool replace_origin = false;
  bool replace_session_connection = false;
  bool replace_zero_address = false;
  bool bump_version = false;

  bool fatal = false;                          // delete: unknown call is an error
  std::optional<std::int64_t> delete_delay_s;  // `delete delay` key or "delete-delay=N"

  std::vector<std::string> ignored;  // unknown flags, reported in `warning`
};

// Reads `req` into `out`. Returns the error-reason when the request is malformed or asks for
// something the relay cannot honour yet (ICE=force, DTLS, SDES, SRTP profiles, recording,
// codec manipulation); the message names what is not supported.
std::optional<std::string> read_options(const bencode::Dict& req, NgOptions* out);

// "ignored unknown flags: a, b" or "" when none.
std::string ignored_warning(const NgOptions& o);

}  // namespace strowger::rtprelay::calls
