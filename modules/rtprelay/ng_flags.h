// Kamailio rtpengine module's flags string ("replace-origin ICE=remove RTP/AVP via-branch=1
// direction=external ...") and the SIP facts of a message turned into the ng request
// dictionary, key for key as Kamailio's module builds it, so a migrated script drives the relay
// exactly as before.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bencode.h"
#include "common/result.h"

namespace strowger::modules::rtprelay {

enum class NgOp { kOffer, kAnswer, kDelete, kQuery };
std::string_view ng_op_name(NgOp op);

// What the request builder needs from the SIP message (filled by the module from
// sip::Message; plain data so the mapping is testable without the core).
struct MessageFacts {
  bool is_request = true;
  std::string call_id;
  std::string from_tag;
  std::string to_tag;
  std::vector<std::string> via_branches;  // top Via first
  std::string sdp;                        // the body (offer/answer)
  std::string source_ip;                  // $si, IPv6 without brackets
};

// Builds the ng dictionary for `op` (force-answer may turn an offer into an answer: `op` is
// updated). An error for a flag Kamailio refuses (via-branch without value, call-id= empty,
// force-answer outside an offer...) or a message without Call-ID / From tag, or an answer from
// the callee's side without To tag.
common::Result<common::bencode::Dict> build_ng_request(NgOp& op, std::string_view flags,
                                                       const MessageFacts& msg);

// Checks a constant flags string at script compile time (same rules, no message needed).
std::optional<std::string> check_flags(NgOp op, std::string_view flags);

}  // namespace strowger::modules::rtprelay
