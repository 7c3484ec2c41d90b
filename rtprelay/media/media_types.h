// Value types shared by the call layer and the media workers: stream flags, side parameters,
// counters and the events a worker reports back to the control thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "rtprelay/media/endpoint.h"

namespace strowger::rtprelay::media {

// Largest datagram forwarded; a longer one is counted in dropped_bad (both backends).
inline constexpr std::size_t kMaxPacket = 2048;

// Identifies a media pair engine-wide; the low byte names the owning worker. 0 = none.
using PairId = std::uint64_t;

enum class SideIndex : std::uint8_t { kA = 0, kB = 1 };

// rtpengine's per-stream flags, as the ng `flags` list spells them.
struct StreamFlags {
  bool strict_source = false;   // once the peer is confirmed, drop packets from other sources
  bool asymmetric = false;      // never learn the source; always send to the SDP address
  bool media_handover = false;  // once confirmed, follow a new source address (e.g. a handover)
};

// What the SDP of one leg says; sent with create and again after an answer or re-INVITE.
struct SideParams {
  Endpoint expected_rtp;   // c= + m= port; unset until that leg's SDP is known
  Endpoint expected_rtcp;  // a=rtcp; unset = expected_rtp port + 1 (or the RTP port if muxed)
  bool rtcp_mux = false;   // RTCP travels on the RTP port (RFC 5761) on this leg
  StreamFlags flags;
};

struct PairOptions {
  // No packet on either side for this long -> a kTimeout event (rtpengine `timeout`, 60 s).
  // Counted from creation (or the last update), so a call that never gets media also ends.
  // 0 disables.
  std::int64_t timeout_ms = 60'000;
};

struct SideCounters {
  std::uint64_t rtp_packets = 0;  // received on this side's sockets (accepted)
  std::uint64_t rtp_bytes = 0;
  std::uint64_t rtcp_packets = 0;  // incl. RTCP demuxed from the RTP socket (rtcp-mux)
  std::uint64_t rtcp_bytes = 0;
  std::uint64_t sent_packets = 0;  // sent out of this side's sockets to this side's peer
  std::uint64_t sent_bytes = 0;
  std::uint64_t errors = 0;           // send_failures + dropped_strict (rtpengine's `errors`)
  std::uint64_t send_failures = 0;    // sendmmsg refused a packet towards this side's peer
  std::uint64_t dropped_strict = 0;   // from a source strict-source does not accept
  std::uint64_t dropped_no_peer = 0;  // received here, but the other leg's peer is unknown yet
  std::uint64_t dropped_bad = 0;      // truncated (larger than the worker's buffer) or empty
  std::int64_t last_packet_ms = 0;    // CLOCK_MONOTONIC ms of the last accepted packet; 0 = none
};

struct SideStats {
  Endpoint local_rtp;
  Endpoint rtp_peer;       // where RTP to this side goes now (latched, else expected)
  Endpoint rtcp_peer;      // where RTCP to this side goes now
  bool confirmed = false;  // the learned RTP peer is fixed (rtpengine "Confirmed peer address")
  SideCounters counters;
};

struct PairStats {
  PairId id = 0;
  SideStats a, b;
  std::int64_t created_ms = 0;      // CLOCK_MONOTONIC ms
  std::int64_t last_packet_ms = 0;  // either side; 0 = none yet
};

// How a worker waits for and moves packets. kIoUring: multishot recvmsg on every socket and
// sends queued as SQEs, one io_uring_enter per batch of packets from many sockets (Linux 6.0+).
// kEpoll: epoll_wait + recvmmsg + sendmmsg, works everywhere. kAuto: io_uring when this kernel
// (and its seccomp policy) passes a functional probe, else epoll.
enum class MediaBackend : std::uint8_t { kAuto, kIoUring, kEpoll };

// "auto", "io_uring", "epoll"; nullopt for anything else.
std::optional<MediaBackend> parse_media_backend(std::string_view s);
const char* media_backend_name(MediaBackend b);

// Monotonic clock in ms, the one every *_ms field above uses.
std::int64_t monotonic_ms();

}  // namespace strowger::rtprelay::media
