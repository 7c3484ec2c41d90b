// NgDispatcher: answers one ng request without any socket: cookie cache, bencode decoding,
// dispatch by `command` to the handlers registered by name (`ping` built in), reply encoding.
// NgServer feeds it from UDP and TCP; tests and benchmarks may call it directly.
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/bencode.h"
#include "common/timer_heap.h"
#include "rtprelay/control/cookie_cache.h"
#include "rtprelay/control/ng_message.h"

namespace strowger::rtprelay::control {

enum class Transport { kUdp, kTcp };

// Who sent a request.
struct Peer {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  Transport transport = Transport::kUdp;
  // "127.0.0.1:5060" or "[::1]:5060".
  std::string to_string() const;
};

struct NgStats {
  std::uint64_t requests = 0;            // messages with a cookie (retransmissions included)
  std::uint64_t retransmissions = 0;     // answered from the cookie cache
  std::uint64_t errors = 0;              // replies with result=error (cache hits not counted)
  std::uint64_t dropped = 0;             // messages too short to hold a cookie, not answered
  std::uint64_t tcp_connections = 0;     // accepted
  std::uint64_t tcp_garbage_closed = 0;  // TCP connections closed on unframable input
};

// Runs on the control thread, synchronously. `reply` arrives as { result: ok }; the handler
// adds keys, or calls set_error(reply, reason). An exception escaping it becomes an error
// reply ("internal error ...").
using Handler =
    std::function<void(const bencode::Dict& request, const Peer& from, bencode::Dict& reply)>;

struct NgDispatcherOptions {
  CookieCacheOptions cookie_cache;
  bencode::DecodeLimits decode;  // for the request dictionary
};

class NgDispatcher {
 public:
  NgDispatcher(const common::Clock& clock, NgDispatcherOptions options);

  // Registers (or replaces) `command`, e.g. "offer", "delete", "start recording".
  void add_command(std::string command, Handler handler);

  // A whole message as one datagram carries it. The reply bytes, or nullopt when the message
  // is dropped (empty, or starting with a space). A message with no space at all that looks
  // like a cookie is answered with an error under that cookie.
  std::optional<std::string> handle_message(std::string_view message, const Peer& from);
  // A message already split (TCP framing does that itself).
  std::string handle(std::string_view cookie, std::string_view body, const Peer& from);

  // Counts one more dropped message (for transports that drop before handle_message()).
  void count_dropped() { ++stats_.dropped; }
  NgStats& stats() { return stats_; }
  const NgStats& stats() const { return stats_; }
  const CookieCache& cookie_cache() const { return cache_; }

 private:
  bencode::Dict run(std::string_view body, const Peer& from);

  NgDispatcherOptions options_;
  CookieCache cache_;
  std::map<std::string, Handler, std::less<>> handlers_;
  NgStats stats_;
};

}  // namespace strowger::rtprelay::control
