// PortPool: RTP/RTCP port pairs (RTP even, RTCP = RTP+1) on one local address, bound for real.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "rtprelay/media/endpoint.h"

namespace strowger::rtprelay::media {

class PortPool;

// Two bound, non-blocking UDP sockets; move-only. Destroying it closes both sockets and gives
// the ports back to the pool (from any thread).
class PortPair {
 public:
  PortPair() = default;
  PortPair(PortPool* pool, Endpoint local_rtp, int rtp_fd, int rtcp_fd);
  PortPair(PortPair&& o) noexcept { *this = std::move(o); }
  PortPair& operator=(PortPair&& o) noexcept;
  PortPair(const PortPair&) = delete;
  PortPair& operator=(const PortPair&) = delete;
  ~PortPair() { reset(); }

  bool valid() const { return rtp_fd_ >= 0; }
  int rtp_fd() const { return rtp_fd_; }
  int rtcp_fd() const { return rtcp_fd_; }
  std::uint16_t rtp_port() const { return local_rtp_.port(); }
  std::uint16_t rtcp_port() const { return static_cast<std::uint16_t>(local_rtp_.port() + 1); }
  const Endpoint& local_rtp() const { return local_rtp_; }
  Endpoint local_rtcp() const { return local_rtp_.with_port(rtcp_port()); }
  // Closes the sockets and releases the ports now.
  void reset();

 private:
  PortPool* pool_ = nullptr;
  Endpoint local_rtp_;
  int rtp_fd_ = -1;
  int rtcp_fd_ = -1;
};

struct PortPoolConfig {
  Endpoint local;  // address to bind (port ignored), IPv4 or IPv6
  std::uint16_t port_min = 30000;
  std::uint16_t port_max = 40000;  // inclusive; the last pair must fit below it
  int rcvbuf_bytes = 0;            // SO_RCVBUF for each socket; 0 keeps the kernel default
};

// One per local address. Thread-safe: allocate on the control thread, release from workers.
// A rotating cursor hands ports out in order and wraps, so a port just released is reused only
// after the whole range has cycled (stale packets of the old call do not reach the new one).
// rtcp-mux streams still get a pair, as rtpengine does, so the RTCP port stays reserved.
class PortPool {
 public:
  // Fails for an unset address or a range holding no even/odd pair.
  static common::Result<std::unique_ptr<PortPool>> create(const PortPoolConfig& config);
  PortPool(const PortPool&) = delete;
  PortPool& operator=(const PortPool&) = delete;

  // Binds the next free pair; ports bound by other programs are skipped. Error (code
  // EADDRNOTAVAIL) when every pair of the range is in use: never blocks or loops forever.
  common::Result<PortPair> allocate();

  const Endpoint& local() const { return config_.local; }
  std::size_t pairs_total() const { return in_use_.size(); }
  std::size_t pairs_in_use() const;
  bool in_use(std::uint16_t rtp_port) const;

 private:
  explicit PortPool(const PortPoolConfig& config);
  friend class PortPair;
  void release(std::uint16_t rtp_port);
  int bind_one(std::uint16_t port) const;

  PortPoolConfig config_;
  std::uint16_t first_ = 0;  // first even port of the range
  mutable std::mutex mu_;
  std::vector<bool> in_use_;  // index = (port - first_) / 2
  std::size_t cursor_ = 0;
  std::size_t used_ = 0;
};

}  // namespace strowger::rtprelay::media
