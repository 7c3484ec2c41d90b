// MediaPair: the two legs of one media stream as a worker owns it, and the per-packet
// decisions (latching, strict-source, rtcp-mux demux, where to forward). No I/O here.
#pragma once
#include <cstdint>

#include "rtprelay/media/media_types.h"
#include "rtprelay/media/port_pool.h"

namespace strowger::rtprelay::media {

class MediaPair;

enum Component : std::uint8_t { kRtp = 0, kRtcp = 1 };

// epoll's data.ptr (io_uring's user_data) for one socket: which pair, side and component.
struct SocketTag {
  MediaPair* pair = nullptr;
  std::uint8_t side = 0;
  Component component = kRtp;
  bool armed = false;  // io_uring: a multishot receive is outstanding on fd
  int fd = -1;
};

// What was learned from the packets arriving on one socket.
struct Learned {
  Endpoint source;         // latched peer (symmetric RTP); first source for asymmetric streams
  bool confirmed = false;  // fixed; changes only with media-handover or new SDP
};

struct PairSide {
  PortPair ports;
  SideParams params;
  Endpoint expected_rtcp;  // params.expected_rtcp, or derived from the RTP address
  Learned learned[2];      // per component
  SideCounters counters;
  SocketTag tags[2];

  // Where RTP / RTCP for this side's peer goes now; unset = unknown yet.
  const Endpoint& rtp_peer() const;
  const Endpoint& rtcp_peer() const;
};

// Result of on_packet: send the packet out of fd to dest, counting it on out.
struct Route {
  int fd = -1;
  const Endpoint* dest = nullptr;
  PairSide* out = nullptr;
};

struct LearningConfig {
  // rtpengine's `endpoint-learning=delayed`: a peer is confirmed only by a packet arriving
  // this long after the last signalling; until then the latch follows the latest source.
  std::int64_t confirm_delay_ms = 3000;
};

class MediaPair {
 public:
  MediaPair(PairId id, PortPair a, PortPair b, const SideParams& pa, const SideParams& pb,
            const PairOptions& options, std::int64_t now_ms);

  PairId id() const { return id_; }
  PairSide& side(int i) { return sides_[i]; }
  const PairSide& side(int i) const { return sides_[i]; }

  // New SDP for one side (answer, re-INVITE). A changed address forgets what was learned.
  void update(int side, const SideParams& params, std::int64_t now_ms);
  void set_timeout(std::int64_t timeout_ms) { options_.timeout_ms = timeout_ms; }

  // A packet arrived on the socket tagged (side, component) from src. Returns false when it is
  // dropped (counted), true with route filled when it must be forwarded.
  bool on_packet(int side, Component component, const std::uint8_t* data, std::size_t len,
                 const Endpoint& src, std::int64_t now_ms, const LearningConfig& learning,
                 Route* route);

  // Timed out at now_ms and not reported yet (the caller reports once per idle period).
  bool timed_out(std::int64_t now_ms) const {
    return options_.timeout_ms > 0 && !timeout_reported_ &&
           now_ms - activity_ms_ >= options_.timeout_ms;
  }
  void mark_timeout_reported() { timeout_reported_ = true; }

  PairStats stats() const;
  bool closed() const { return closed_; }
  void mark_closed() { closed_ = true; }

  // io_uring operations still referencing this pair (armed receives, sends in flight): a closed
  // pair is freed, and its sockets closed, only once none is left.
  void hold() { ++inflight_; }
  void release() { --inflight_; }
  bool busy() const { return inflight_ != 0; }

 private:
  bool accept_source(PairSide& s, Component c, bool stray_rtcp, const Endpoint& src,
                     std::int64_t now_ms, const LearningConfig& learning);

  PairId id_;
  PairSide sides_[2];
  PairOptions options_;
  std::int64_t created_ms_;
  std::int64_t last_signal_ms_;
  std::int64_t activity_ms_;  // creation, last update or last packet
  std::int64_t last_packet_ms_ = 0;
  bool timeout_reported_ = false;
  bool closed_ = false;
  std::uint32_t inflight_ = 0;
};

}  // namespace strowger::rtprelay::media
