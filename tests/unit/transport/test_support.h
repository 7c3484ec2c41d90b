// Test support for the transport tests: an event loop runner, a recording Receiver, plain sockets.
#pragma once
#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/transport/event_handles.h"
#include "proxy/transport/transport.h"

namespace strowger::proxy::transport::test {

struct EventBaseFree {
  void operator()(event_base* b) const { event_base_free(b); }
};
using EventBasePtr = std::unique_ptr<event_base, EventBaseFree>;

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs the loop until done() holds or timeout_ms passed; returns done().
inline bool run_until(event_base* base, const std::function<bool()>& done, int timeout_ms = 3000) {
  EventPtr tick(event_new(
      base, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr));
  timeval tv{0, 2000};
  evtimer_add(tick.get(), &tv);
  const std::int64_t deadline = now_ms() + timeout_ms;
  while (!done()) {
    if (now_ms() > deadline) return false;
    event_base_loop(base, EVLOOP_ONCE);
  }
  return true;
}

// Runs the loop for ms milliseconds.
inline void run_for(event_base* base, int ms) {
  run_until(
      base, [] { return false; }, ms);
}

struct Received {
  std::string bytes;
  Peer peer;
};

struct FramingError {
  std::string head;
  Peer peer;
  int status = 0;
};

class RecordingReceiver : public Receiver {
 public:
  void on_message(std::string_view bytes, const Peer& from) override {
    messages.push_back({std::string(bytes), from});
    if (message_hook) message_hook(bytes, from);
  }
  void on_framing_error(std::string_view head, const Peer& from, int status) override {
    framing_errors.push_back({std::string(head), from, status});
    if (framing_error_hook) framing_error_hook(head, from, status);
  }
  void on_connection_closed(std::uint64_t id) override { closed.push_back(id); }

  std::size_t closed_count(std::uint64_t id) const {
    std::size_t n = 0;
    for (auto c : closed) n += c == id;
    return n;
  }

  std::vector<Received> messages;
  std::vector<FramingError> framing_errors;
  std::vector<std::uint64_t> closed;
  std::function<void(std::string_view, const Peer&)> message_hook;
  std::function<void(std::string_view, const Peer&, int)> framing_error_hook;
};

inline Address loopback4(std::uint16_t port = 0) {
  return *Address::from_ip_port("127.0.0.1", port);
}

// True when ::1 can be bound here (some containers have no IPv6 loopback).
inline bool have_ipv6_loopback() {
  Fd fd(::socket(AF_INET6, SOCK_DGRAM, 0));
  if (!fd.valid()) return false;
  Address a = *Address::from_ip_port("::1", 0);
  return ::bind(fd.get(), a.sa(), a.len()) == 0;
}

inline Address local_address_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

inline void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A plain TCP client: blocking connect, then non-blocking reads driven by the test's loop.
class TcpClient {
 public:
  bool connect(const Address& to) {
    fd_.reset(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_.valid() || ::connect(fd_.get(), to.sa(), to.len()) != 0) return false;
    set_nonblocking(fd_.get());
    return true;
  }
  bool write(std::string_view bytes) {
    return ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads whatever is there; sets eof() when the server closed.
  void pump() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n > 0) {
        data_.append(buf, static_cast<std::size_t>(n));
      } else {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof_ = true;
        return;
      }
    }
  }
  const std::string& data() {
    pump();
    return data_;
  }
  bool eof() {
    pump();
    return eof_;
  }
  Address local() const { return local_address_of(fd_.get()); }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  Fd fd_;
  std::string data_;
  bool eof_ = false;
};

}  // namespace strowger::proxy::transport::test
