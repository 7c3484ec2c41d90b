// Blocking Unix-socket JSON-RPC client: connect, write one line, read one line, with a deadline.
#include "tools/sipctl/rpc_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace strowger::tools::sipctl {
namespace {

// Answers are our daemons' own; the bound only stops a runaway peer from eating memory.
constexpr std::size_t kMaxAnswerBytes = 256u << 20;

common::Error errno_error(int err) {
  return common::Error{err, std::strerror(err)};
}

}  // namespace

common::Result<RpcConnection> RpcConnection::connect(const std::string& socket_path,
                                                     int timeout_ms) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return errno_error(ENAMETOOLONG);
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error(errno);
  timeval limit{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return errno_error(err);
  }
  return RpcConnection(fd);
}

RpcConnection::RpcConnection(RpcConnection&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), pending_(std::move(o.pending_)) {}

RpcConnection& RpcConnection::operator=(RpcConnection&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    pending_ = std::move(o.pending_);
  }
  return *this;
}

RpcConnection::~RpcConnection() {
  if (fd_ >= 0) ::close(fd_);
}

common::Result<std::string> RpcConnection::call(const std::string& request, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto wait = [&](short events) -> common::Result<bool> {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return common::Error{ETIMEDOUT, "no answer in time"};
      pollfd p{fd_, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return errno_error(errno);
    }
  };

  const std::string line = request + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    auto ready = wait(POLLOUT);
    if (!ready) return ready.error();
    ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno_error(errno);
    }
    sent += static_cast<std::size_t>(n);
  }

  for (;;) {
    auto newline = pending_.find('\n');
    if (newline != std::string::npos) {
      std::string answer = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      return answer;
    }
    if (pending_.size() > kMaxAnswerBytes) return common::Error{EMSGSIZE, "answer too large"};
    auto ready = wait(POLLIN);
    if (!ready) return ready.error();
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno_error(errno);
    }
    if (n == 0) {
      if (pending_.empty()) return common::Error{ECONNRESET, "connection closed without an answer"};
      return std::exchange(pending_, std::string());
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace strowger::tools::sipctl
