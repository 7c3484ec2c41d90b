// Test helpers for the media path: "phones" as plain UDP sockets, and synchronous waits on the
// engine's event fd (the tests have no libevent loop of their own).
#pragma once
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "rtprelay/media/endpoint.h"
#include "rtprelay/media/media_engine.h"
#include "rtprelay/media/port_pool.h"

namespace strowger::rtprelay::media::test {

// The backend the suite runs on: STROWGER_MEDIA_BACKEND (CMake registers the suite once per
// backend), else auto. An io_uring run on a kernel without it runs on auto instead, and
// Backend.RunsTheBackendUnderTest reports the skip.
inline MediaBackend backend_under_test() {
  const char* env = std::getenv("STROWGER_MEDIA_BACKEND");
  auto b = parse_media_backend(env ? env : "auto");
  if (!b) return MediaBackend::kAuto;
  if (*b == MediaBackend::kIoUring && !MediaEngine::io_uring_supported())
    return MediaBackend::kAuto;
  return *b;
}

inline EngineConfig engine_config() {
  EngineConfig ec;
  ec.backend = backend_under_test();
  return ec;
}

// A port range unlikely to collide with other test binaries running at the same time.
inline std::uint16_t test_port_base(int slot) {
  return static_cast<std::uint16_t>(42000 + ((getpid() * 7 + slot * 613) % 40) * 500);
}

class Phone {
 public:
  // Binds ip:port (port 0 = ephemeral).
  explicit Phone(const char* ip = "127.0.0.1", std::uint16_t port = 0) {
    auto at = Endpoint::parse(ip, port);
    fd_ = ::socket(at->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (at->is_v6()) {
      int one = 1;
      setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    ok_ = ::bind(fd_, at->sa(), at->len()) == 0;
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    local_ = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  }
  ~Phone() { ::close(fd_); }
  Phone(const Phone&) = delete;
  Phone& operator=(const Phone&) = delete;
  bool ok() const { return ok_; }
  const Endpoint& local() const { return local_; }

  bool send(const Endpoint& to, const std::vector<std::uint8_t>& data) {
    return ::sendto(fd_, data.data(), data.size(), 0, to.sa(), to.len()) ==
           static_cast<ssize_t>(data.size());
  }
  // Next datagram within timeout_ms, with its source.
  std::optional<std::vector<std::uint8_t>> recv(int timeout_ms = 1000, Endpoint* from = nullptr) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    std::vector<std::uint8_t> buf(4096);
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    if (from) *from = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    return buf;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  Endpoint local_;
};

// An RTP packet (version 2, PT 0) carrying seq and a marker byte in the payload.
inline std::vector<std::uint8_t> rtp_packet(std::uint16_t seq, std::uint8_t tag = 0,
                                            std::size_t size = 172) {
  std::vector<std::uint8_t> p(size, 0);
  p[0] = 0x80;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  p[12] = tag;
  return p;
}

// An RTCP sender report header (PT 200).
inline std::vector<std::uint8_t> rtcp_packet(std::uint8_t tag = 0) {
  std::vector<std::uint8_t> p(28, 0);
  p[0] = 0x80;
  p[1] = 200;
  p[3] = 6;
  p[8] = tag;
  return p;
}

// Drains the engine until pred() holds or timeout_ms passes.
template <typename Pred>
bool wait_until(MediaEngine& engine, Pred pred, int timeout_ms = 2000) {
  for (int waited = 0; waited <= timeout_ms; waited += 5) {
    engine.drain();
    if (pred()) return true;
    pollfd p{engine.event_fd(), POLLIN, 0};
    ::poll(&p, 1, 5);
  }
  engine.drain();
  return pred();
}

inline std::optional<PairStats> query_sync(MediaEngine& engine, PairId id) {
  bool done = false;
  std::optional<PairStats> out;
  engine.query(id, [&](std::optional<PairStats> s) {
    out = std::move(s);
    done = true;
  });
  wait_until(engine, [&] { return done; });
  return out;
}

inline SideParams side_at(const Endpoint& rtp, bool mux = false, StreamFlags flags = {}) {
  SideParams p;
  p.expected_rtp = rtp;
  p.rtcp_mux = mux;
  p.flags = flags;
  return p;
}

}  // namespace strowger::rtprelay::media::test
