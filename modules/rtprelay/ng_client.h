// NgClient: sends ng commands to a relay (rtprelay or rtpengine) over UDP on a libevent base,
// under a fresh cookie each, retransmits with a doubling timeout, matches replies by cookie and
// calls back once with the reply dictionary or an error.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/bencode.h"
#include "common/result.h"

struct event_base;
struct event;

namespace strowger::modules::rtprelay {

namespace bencode = common::bencode;

// common::Error::code of a failed request.
enum NgErrorCode : int {
  kNgTimeout = 1,     // no reply after the last try
  kNgSendFailed = 2,  // the socket refused to send (no route, bad address...)
  kNgBadReply = 3,    // a reply carried our cookie but no bencoded dictionary
  kNgNoRelay = 4,     // RelaySet: every relay is down
};

struct NgRetry {
  int timeout_ms = 1000;  // wait after the first send; doubled after each retransmission
  int tries = 3;          // sends in all (the first included)
};

struct NgClientOptions {
  NgRetry retry;
};

// The reply dictionary whatever its `result` (an rtpengine `result: error` is a reply, not a
// failure), or an Error with an NgErrorCode.
using NgCallback = std::function<void(common::Result<bencode::Dict> reply)>;

class NgClient {
 public:
  explicit NgClient(event_base* base, NgClientOptions options = {});
  // Requests still pending are dropped without a callback.
  ~NgClient();
  NgClient(const NgClient&) = delete;
  NgClient& operator=(const NgClient&) = delete;

  // Sends `request` to `relay`. `done` runs exactly once, from the event loop (never from
  // inside send()), unless cancel() comes first. Do not destroy the client from a callback.
  // Returns an id for cancel().
  std::uint64_t send(const sockaddr_storage& relay, const bencode::Dict& request, NgCallback done,
                     std::optional<NgRetry> retry = std::nullopt);
  // Forgets a pending request; its callback will not run. False when it is no longer pending.
  bool cancel(std::uint64_t id);
  std::size_t pending() const { return by_cookie_.size(); }

 private:
  struct Request;
  struct Socket;

  Socket* socket_for(int family);
  void transmit(Request& r);
  void finish(Request& r, common::Result<bencode::Dict> result);
  static void on_timer(int, short, void* arg);
  static void on_readable(int fd, short, void* arg);

  event_base* base_;
  NgClientOptions options_;
  std::string cookie_prefix_;
  std::uint64_t next_id_ = 1;
  std::unique_ptr<Socket> v4_, v6_;
  std::unordered_map<std::string, std::unique_ptr<Request>> by_cookie_;
  std::unordered_map<std::uint64_t, std::string> cookie_by_id_;
};

}  // namespace strowger::modules::rtprelay
