// UdpTransport: binds per-worker SO_REUSEPORT sockets, drains them with recvmmsg, sends with
// sendto.
#include "proxy/transport/udp.h"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "proxy/transport/socket_setup.h"

namespace strowger::proxy::transport {
namespace {

// Many UAs keep NAT bindings open with "\r\n\r\n" or NUL bytes over UDP; they are not SIP.
bool is_keepalive(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != '\r' && p[i] != '\n' && p[i] != '\0' && p[i] != ' ') return false;
  }
  return true;
}

constexpr std::size_t kMaxDatagram = 65535;

}  // namespace

UdpTransport::UdpTransport(event_base* base, Receiver& receiver, int worker_index,
                           std::size_t max_message_size)
    : base_(base),
      receiver_(receiver),
      worker_index_(worker_index),
      max_message_size_(std::max<std::size_t>(max_message_size, 1)),
      slot_size_(std::min(max_message_size_, kMaxDatagram) + 1),
      slots_(new char[slot_size_ * kBatch]) {
  for (int i = 0; i < kBatch; ++i) {
    iov_[i].iov_base = slots_.get() + slot_size_ * i;
    iov_[i].iov_len = slot_size_;
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &names_[i];
  }
}

UdpTransport::~UdpTransport() = default;

std::optional<std::string> UdpTransport::listen(int listener_index, const Address& local) {
  std::string error;
  Fd fd = open_bound_socket(local, SOCK_DGRAM, &error);
  if (!fd.valid()) return error;
  const int rcv = grow_socket_buffer(fd.get(), SO_RCVBUF, kSocketBufferBytes);
  const int snd = grow_socket_buffer(fd.get(), SO_SNDBUF, kSocketBufferBytes);

  auto s = std::make_unique<Socket>();
  s->owner = this;
  s->listener = listener_index;
  s->local = socket_local_address(fd.get());
  s->readable.reset(
      event_new(base_, fd.get(), EV_READ | EV_PERSIST, &UdpTransport::on_readable, s.get()));
  if (!s->readable || event_add(s->readable.get(), nullptr) != 0) {
    return "udp " + local.to_string() + ": cannot register with the event loop";
  }
  s->fd = std::move(fd);
  LOG_DEBUG("worker %d: udp listening on %s (rcvbuf %d, sndbuf %d)", worker_index_,
            s->local.to_string().c_str(), rcv, snd);
  sockets_.push_back(std::move(s));
  return std::nullopt;
}

Address UdpTransport::local_address(int listener_index) const {
  for (const auto& s : sockets_) {
    if (s->listener == listener_index) return s->local;
  }
  return Address();
}

void UdpTransport::on_readable(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<Socket*>(arg);
  s->owner->drain(*s);
}

void UdpTransport::drain(Socket& s) {
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    for (int i = 0; i < kBatch; ++i) {
      msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs_[i].msg_hdr.msg_control = nullptr;
      msgs_[i].msg_hdr.msg_controllen = 0;
      msgs_[i].msg_hdr.msg_flags = 0;
    }
    const int n = recvmmsg(s.fd.get(), msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        LOG_DEBUG("worker %d: recvmmsg on %s: %s", worker_index_, s.local.to_string().c_str(),
                  std::strerror(errno));
      }
      return;
    }
    if (n == 0) return;
    ++counters_.receive_batches;
    for (int i = 0; i < n; ++i) {
      const msghdr& h = msgs_[i].msg_hdr;
      const std::size_t len = msgs_[i].msg_len;
      const char* data = static_cast<const char*>(iov_[i].iov_base);
      Address from =
          Address::from_sockaddr(static_cast<const sockaddr*>(h.msg_name), h.msg_namelen);
      if ((h.msg_flags & MSG_TRUNC) != 0 || len > max_message_size_) {
        ++counters_.received_oversize;
        LOG_DEBUG("worker %d: udp datagram from %s larger than %zu bytes dropped", worker_index_,
                  from.to_string().c_str(), max_message_size_);
        continue;
      }
      if (is_keepalive(data, len)) {
        ++counters_.received_keepalive;
        continue;
      }
      ++counters_.received;
      receiver_.on_message(std::string_view(data, len), Peer{Protocol::kUdp, from, s.listener, 0});
    }
    if (n < kBatch) return;
  }
}

const UdpTransport::Socket* UdpTransport::socket_for(const Peer& to) const {
  const int family = to.remote.family();
  if (to.listener >= 0) {
    for (const auto& s : sockets_) {
      if (s->listener == to.listener && s->local.family() == family) return s.get();
    }
  }
  for (const auto& s : sockets_) {
    if (s->local.family() == family) return s.get();
  }
  return nullptr;
}

std::uint64_t UdpTransport::send(const Peer& to, std::string_view bytes) {
  const Socket* s = to.remote.valid() ? socket_for(to) : nullptr;
  if (s == nullptr) {
    ++counters_.send_errors;
    LOG_DEBUG("worker %d: no udp socket to send to %s", worker_index_,
              to.remote.to_string().c_str());
    return 0;
  }
  for (;;) {
    const ssize_t r = ::sendto(s->fd.get(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                               to.remote.sa(), to.remote.len());
    if (r >= 0) {
      ++counters_.sent;
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      ++counters_.send_dropped;
    } else {
      ++counters_.send_errors;
      LOG_DEBUG("worker %d: udp sendto %s: %s", worker_index_, to.remote.to_string().c_str(),
                std::strerror(errno));
    }
    return 0;
  }
}

}  // namespace strowger::proxy::transport
