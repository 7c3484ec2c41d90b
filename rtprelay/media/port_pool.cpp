// PortPool implementation: cursor scan over even ports, binding both sockets of each pair.
#include "rtprelay/media/port_pool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace strowger::rtprelay::media {

PortPair::PortPair(PortPool* pool, Endpoint local_rtp, int rtp_fd, int rtcp_fd)
    : pool_(pool), local_rtp_(local_rtp), rtp_fd_(rtp_fd), rtcp_fd_(rtcp_fd) {}

PortPair& PortPair::operator=(PortPair&& o) noexcept {
  if (this != &o) {
    reset();
    pool_ = o.pool_;
    local_rtp_ = o.local_rtp_;
    rtp_fd_ = o.rtp_fd_;
    rtcp_fd_ = o.rtcp_fd_;
    o.pool_ = nullptr;
    o.rtp_fd_ = o.rtcp_fd_ = -1;
  }
  return *this;
}

void PortPair::reset() {
  if (rtp_fd_ < 0) return;
  ::close(rtp_fd_);
  if (rtcp_fd_ >= 0) ::close(rtcp_fd_);
  // Sockets first: the port must be bindable again once the pool says it is free.
  if (pool_ != nullptr) pool_->release(local_rtp_.port());
  rtp_fd_ = rtcp_fd_ = -1;
  pool_ = nullptr;
}

common::Result<std::unique_ptr<PortPool>> PortPool::create(const PortPoolConfig& config) {
  if (!config.local.is_set()) return common::Error{EINVAL, "port pool: no local address"};
  std::uint32_t first = config.port_min + (config.port_min % 2);
  if (first == 0) first = 2;
  if (config.port_max < first + 1)
    return common::Error{EINVAL, "port pool: range " + std::to_string(config.port_min) + "-" +
                                     std::to_string(config.port_max) + " holds no RTP/RTCP pair"};
  return std::unique_ptr<PortPool>(new PortPool(config));
}

PortPool::PortPool(const PortPoolConfig& config) : config_(config) {
  first_ = static_cast<std::uint16_t>(config.port_min + (config.port_min % 2));
  if (first_ == 0) first_ = 2;
  std::size_t pairs = (static_cast<std::size_t>(config.port_max) - first_ + 1) / 2;
  in_use_.assign(pairs, false);
}

int PortPool::bind_one(std::uint16_t port) const {
  int fd = ::socket(config_.local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (config_.local.is_v6()) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (config_.rcvbuf_bytes > 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &config_.rcvbuf_bytes, sizeof(config_.rcvbuf_bytes));
  Endpoint at = config_.local.with_port(port);
  if (::bind(fd, at.sa(), at.len()) != 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

common::Result<PortPair> PortPool::allocate() {
  std::lock_guard lock(mu_);
  int last_err = 0;
  for (std::size_t tried = 0; tried < in_use_.size(); ++tried) {
    std::size_t idx = cursor_;
    cursor_ = (cursor_ + 1) % in_use_.size();
    if (in_use_[idx]) continue;
    auto port = static_cast<std::uint16_t>(first_ + 2 * idx);
    int rtp = bind_one(port);
    if (rtp < 0) {
      last_err = -rtp;
      if (last_err != EADDRINUSE && last_err != EACCES)  // not a port problem: stop scanning
        return common::Error{last_err,
                             std::string("port pool: socket/bind: ") + std::strerror(last_err)};
      continue;
    }
    int rtcp = bind_one(static_cast<std::uint16_t>(port + 1));
    if (rtcp < 0) {
      ::close(rtp);
      last_err = -rtcp;
      continue;
    }
    in_use_[idx] = true;
    ++used_;
    return PortPair(this, config_.local.with_port(port), rtp, rtcp);
  }
  return common::Error{
      EADDRNOTAVAIL, "port pool " + config_.local.ip_string() + " " +
                         std::to_string(config_.port_min) + "-" + std::to_string(config_.port_max) +
                         " exhausted" +
                         (last_err ? std::string(" (") + std::strerror(last_err) + ")" : "")};
}

void PortPool::release(std::uint16_t rtp_port) {
  std::lock_guard lock(mu_);
  if (rtp_port < first_) return;
  std::size_t idx = (rtp_port - first_) / 2;
  if (idx < in_use_.size() && in_use_[idx]) {
    in_use_[idx] = false;
    --used_;
  }
}

std::size_t PortPool::pairs_in_use() const {
  std::lock_guard lock(mu_);
  return used_;
}

bool PortPool::in_use(std::uint16_t rtp_port) const {
  std::lock_guard lock(mu_);
  if (rtp_port < first_) return false;
  std::size_t idx = (rtp_port - first_) / 2;
  return idx < in_use_.size() && in_use_[idx];
}

}  // namespace strowger::rtprelay::media
