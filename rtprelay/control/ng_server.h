// NgServer: the ng control protocol on UDP and TCP listeners (IPv4 and IPv6, any number of
// addresses), on an event_base the caller owns and runs (the relay's control thread). Each
// request is answered through NgDispatcher, synchronously.
//
// UDP: one message per datagram, the reply goes back to the sender from the same socket.
// TCP: rtpengine's framing, "<cookie> <dict>" back to back with no length prefix (the dict is
// self-delimiting); input is parsed incrementally and bounded; a connection that sends
// something unframable gets an error reply (when a cookie was seen) and is closed.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/timer_heap.h"
#include "rtprelay/control/ng_dispatcher.h"

struct event_base;

namespace strowger::rtprelay::control {

struct NgServerOptions {
  // "host:port": "127.0.0.1:2223", "[::1]:2223", "0.0.0.0:2223", "[::]:2223". Port 0 picks a
  // free port (see udp_addresses()/tcp_addresses()). IPv6 sockets are IPv6-only, so "[::]" and
  // "0.0.0.0" can share a port.
  std::vector<std::string> udp;
  std::vector<std::string> tcp;
  NgDispatcherOptions dispatcher;
  // A TCP message (cookie, space and dict) longer than this is refused and the connection
  // closed.
  std::size_t max_tcp_message_bytes = 1u << 20;
  std::size_t max_tcp_clients = 128;  // further connections are closed at once
  int tcp_idle_timeout_ms = 300'000;  // a silent connection is closed after this
};

class NgServer {
 public:
  NgServer(event_base* base, NgServerOptions options, const common::Clock& clock);
  ~NgServer();  // closes every socket and connection
  NgServer(const NgServer&) = delete;
  NgServer& operator=(const NgServer&) = delete;

  void add_command(std::string command, Handler handler) {
    dispatcher_.add_command(std::move(command), std::move(handler));
  }
  // Binds every address and starts reading. The reason on failure (nothing is left open).
  std::optional<std::string> start();
  void stop();

  // Bound addresses, in the order of the options (with the real port when 0 was asked).
  std::vector<sockaddr_storage> udp_addresses() const;
  std::vector<sockaddr_storage> tcp_addresses() const;
  std::size_t tcp_clients() const;

  NgDispatcher& dispatcher() { return dispatcher_; }
  const NgStats& stats() const { return dispatcher_.stats(); }

 private:
  struct Sockets;  // libevent state (ng_server.cpp)

  event_base* base_;
  NgServerOptions options_;
  NgDispatcher dispatcher_;
  std::unique_ptr<Sockets> sockets_;
};

// Parses "host:port" / "[v6]:port" into a socket address; nullopt when malformed.
std::optional<sockaddr_storage> parse_host_port(const std::string& text, socklen_t* len);
std::uint16_t port_of(const sockaddr_storage& addr);

}  // namespace strowger::rtprelay::control
