// Call state as the call layer keeps it: two legs (rtpengine's monologues, by tag) and one
// media stream per m= section, each stream one MediaEngine pair (side A = leg 0, B = leg 1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rtprelay/calls/interfaces.h"
#include "rtprelay/media/media_types.h"
#include "rtprelay/sdp/rewrite.h"

namespace strowger::rtprelay::calls {

// What one leg's SDP says about one m= section, and the relay port that leg sends to.
struct LegMedia {
  bool known = false;  // this leg has sent SDP for the stream
  std::string type;    // audio, video, ...
  std::string protocol;
  media::Endpoint advertised_rtp;  // from its SDP (or received-from / media-address)
  media::Endpoint advertised_rtcp;
  bool hold = false;  // sendonly / inactive / zero address: the silent timeout applies
  media::SideParams params;
  std::uint16_t local_port = 0;  // relay RTP port advertised to this leg (RTCP is +1)
};

struct Stream {
  media::PairId pair = 0;  // 0: rejected (port 0) or not negotiated: no ports held
  LegMedia leg[2];
  int offerer = 0;  // leg of the last offer
  sdp::RtcpMuxFlags offer_mux_flags;
  bool offerer_offered_mux = false;
  std::string offer_protocol;  // what the offerer wrote, restored in the answer
  bool timed_out = false;      // the engine reported it idle at timed_out_ms
  std::int64_t timed_out_ms = 0;
};

struct Leg {
  std::string tag;  // "" until the answer (or an in-dialogue offer) names it
  std::string label;
  std::string via_branch;
  std::int64_t created_s = 0;
  const LocalInterface* iface = nullptr;  // chosen with the first stream, kept after
};

struct Call {
  std::string call_id;
  std::int64_t created_s = 0;   // UNIX time
  std::int64_t created_ms = 0;  // monotonic
  std::int64_t last_signal_s = 0;
  Leg legs[2];
  std::vector<Stream> streams;    // by m= index
  std::int64_t delete_at_ms = 0;  // monotonic; 0 = no delete-delay pending
};

}  // namespace strowger::rtprelay::calls
