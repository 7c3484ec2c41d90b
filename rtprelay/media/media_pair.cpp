// MediaPair implementation: rtpengine's latching rules applied per received packet.
#include "rtprelay/media/media_pair.h"

#include <ctime>

#include "rtprelay/media/rtp_demux.h"

namespace strowger::rtprelay::media {

std::int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::optional<MediaBackend> parse_media_backend(std::string_view s) {
  if (s == "auto") return MediaBackend::kAuto;
  if (s == "io_uring") return MediaBackend::kIoUring;
  if (s == "epoll") return MediaBackend::kEpoll;
  return std::nullopt;
}

const char* media_backend_name(MediaBackend b) {
  switch (b) {
    case MediaBackend::kIoUring:
      return "io_uring";
    case MediaBackend::kEpoll:
      return "epoll";
    case MediaBackend::kAuto:
      break;
  }
  return "auto";
}

namespace {

Endpoint derive_rtcp(const SideParams& p) {
  if (p.expected_rtcp.is_set()) return p.expected_rtcp;
  if (!p.expected_rtp.is_set()) return Endpoint();
  if (p.rtcp_mux) return p.expected_rtp;
  return p.expected_rtp.with_port(static_cast<std::uint16_t>(p.expected_rtp.port() + 1));
}

}  // namespace

const Endpoint& PairSide::rtp_peer() const {
  if (params.flags.asymmetric || !learned[kRtp].source.is_set()) return params.expected_rtp;
  return learned[kRtp].source;
}

const Endpoint& PairSide::rtcp_peer() const {
  if (params.rtcp_mux) return rtp_peer();
  if (params.flags.asymmetric || !learned[kRtcp].source.is_set()) return expected_rtcp;
  return learned[kRtcp].source;
}

MediaPair::MediaPair(PairId id, PortPair a, PortPair b, const SideParams& pa, const SideParams& pb,
                     const PairOptions& options, std::int64_t now_ms)
    : id_(id),
      options_(options),
      created_ms_(now_ms),
      last_signal_ms_(now_ms),
      activity_ms_(now_ms) {
  sides_[0].ports = std::move(a);
  sides_[1].ports = std::move(b);
  const SideParams* params[2] = {&pa, &pb};
  for (int i = 0; i < 2; ++i) {
    PairSide& s = sides_[i];
    s.params = *params[i];
    s.expected_rtcp = derive_rtcp(s.params);
    s.tags[kRtp] = SocketTag{this, static_cast<std::uint8_t>(i), kRtp, false, s.ports.rtp_fd()};
    s.tags[kRtcp] = SocketTag{this, static_cast<std::uint8_t>(i), kRtcp, false, s.ports.rtcp_fd()};
  }
}

void MediaPair::update(int side, const SideParams& params, std::int64_t now_ms) {
  PairSide& s = sides_[side];
  bool moved = !(params.expected_rtp == s.params.expected_rtp) ||
               !(derive_rtcp(params) == s.expected_rtcp) ||
               params.flags.asymmetric != s.params.flags.asymmetric;
  s.params = params;
  s.expected_rtcp = derive_rtcp(params);
  if (moved) {
    // rtpengine resets the endpoint when the SDP names a new one; learning starts over.
    s.learned[kRtp] = Learned();
    s.learned[kRtcp] = Learned();
  }
  last_signal_ms_ = now_ms;
  activity_ms_ = now_ms;
  timeout_reported_ = false;
}

bool MediaPair::accept_source(PairSide& s, Component c, bool stray_rtcp, const Endpoint& src,
                              std::int64_t now_ms, const LearningConfig& learning) {
  Learned& l = s.learned[c];
  const StreamFlags& f = s.params.flags;
  if (f.asymmetric) {
    // Never learn where to send; remember the first source only so strict-source can apply.
    if (!l.source.is_set()) l.source = src;
    l.confirmed = true;
  }
  if (l.confirmed) {
    if (l.source == src) return true;
    if (f.media_handover && !f.asymmetric) {
      l.source = src;
      return true;
    }
    return !f.strict_source;  // without strict-source a stray source is forwarded, not learned
  }
  // A phone that sends RTCP to the RTP port (no mux) must not move the RTP latch there.
  if (stray_rtcp) return true;
  l.source = src;
  if (now_ms - last_signal_ms_ >= learning.confirm_delay_ms) l.confirmed = true;
  return true;
}

bool MediaPair::on_packet(int side, Component component, const std::uint8_t* data, std::size_t len,
                          const Endpoint& src, std::int64_t now_ms, const LearningConfig& learning,
                          Route* route) {
  PairSide& in = sides_[side];
  PairSide& out = sides_[side ^ 1];
  if (len == 0) {
    ++in.counters.dropped_bad;
    return false;
  }
  bool rtcp = component == kRtcp;
  bool stray_rtcp = false;
  if (!rtcp && looks_like_rtcp(data, len)) {
    if (in.params.rtcp_mux)
      rtcp = true;
    else
      stray_rtcp = true;
  }
  if (!accept_source(in, component, stray_rtcp, src, now_ms, learning)) {
    ++in.counters.dropped_strict;
    ++in.counters.errors;
    return false;
  }
  if (rtcp) {
    ++in.counters.rtcp_packets;
    in.counters.rtcp_bytes += len;
  } else {
    ++in.counters.rtp_packets;
    in.counters.rtp_bytes += len;
  }
  in.counters.last_packet_ms = now_ms;
  last_packet_ms_ = now_ms;
  activity_ms_ = now_ms;
  timeout_reported_ = false;

  if (!rtcp) {
    route->fd = out.ports.rtp_fd();
    route->dest = &out.rtp_peer();
  } else if (out.params.rtcp_mux) {
    route->fd = out.ports.rtp_fd();
    route->dest = &out.rtp_peer();
  } else {
    route->fd = out.ports.rtcp_fd();
    route->dest = &out.rtcp_peer();
  }
  route->out = &out;
  if (!route->dest->is_set() || route->fd < 0 ||
      route->dest->family() != out.ports.local_rtp().family()) {
    ++in.counters.dropped_no_peer;
    return false;
  }
  return true;
}

PairStats MediaPair::stats() const {
  PairStats st;
  st.id = id_;
  st.created_ms = created_ms_;
  st.last_packet_ms = last_packet_ms_;
  SideStats* out[2] = {&st.a, &st.b};
  for (int i = 0; i < 2; ++i) {
    const PairSide& s = sides_[i];
    out[i]->local_rtp = s.ports.local_rtp();
    out[i]->rtp_peer = s.rtp_peer();
    out[i]->rtcp_peer = s.rtcp_peer();
    out[i]->confirmed = s.learned[kRtp].confirmed;
    out[i]->counters = s.counters;
  }
  return st;
}

}  // namespace strowger::rtprelay::media
