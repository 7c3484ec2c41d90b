// CaresChannel: the one RAII wrapper of c-ares. Runs a channel's sockets and timeouts on a
// libevent base (ARES_OPT_SOCK_STATE_CB + ares_process_fd), so lookups never block the worker.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/transport/address.h"
#include "proxy/transport/event_handles.h"

struct ares_channeldata;

namespace strowger::proxy::dns {

class CaresChannel {
 public:
  struct Options {
    std::vector<std::string> servers;  // "ip", "ip:port", "[v6]:port"; empty = resolv.conf
    int timeout_ms = 2000;             // first try; c-ares doubles it on each later round
    int tries = 2;
  };
  enum class Outcome : std::uint8_t {
    kResponse,       // a response (NOERROR, NODATA or NXDOMAIN) is in the bytes
    kTimeout,        // no server answered (or none could be reached)
    kServerFailure,  // servers answered with an error, or the query could not be made
  };
  using QueryCallback = std::function<void(Outcome, std::span<const std::uint8_t> response)>;

  // nullptr when c-ares cannot be set up (e.g. a server that is not an IP address); *error says
  // why.
  static std::unique_ptr<CaresChannel> create(event_base* base, const Options& opts,
                                              std::string* error);
  // Queries still pending are dropped: their callbacks never run.
  ~CaresChannel();
  CaresChannel(const CaresChannel&) = delete;
  CaresChannel& operator=(const CaresChannel&) = delete;

  // Sends a class IN query. cb runs later from the event loop, never inside query() nor inside
  // c-ares' own processing, so it may start queries or destroy the channel.
  void query(const std::string& name, std::uint16_t type, QueryCallback cb);
  // The hosts file's addresses for name in one family (AF_INET/AF_INET6), port 0. Reads a
  // local file synchronously, as c-ares' "f" lookup does; callers cache the result.
  std::vector<transport::Address> hosts_lookup(const std::string& name, int family);
  // Queries sent whose callback has not run yet.
  std::size_t pending() const { return in_flight_ + completed_.size(); }

 private:
  struct Completion {
    QueryCallback cb;
    Outcome outcome;
    std::vector<std::uint8_t> response;
  };
  struct QueryContext;

  explicit CaresChannel(event_base* base) : base_(base) {}
  static void on_sock_state(void* data, int fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_socket_event(int fd, short what, void* arg);
  static void on_timeout(int fd, short what, void* arg);
  static void on_completed(int fd, short what, void* arg);
  void update_timer();
  void run_completed();

  event_base* base_;
  ares_channeldata* channel_ = nullptr;
  std::unordered_map<int, transport::EventPtr> socket_events_;
  transport::EventPtr timer_;
  transport::EventPtr completed_event_;
  std::deque<Completion> completed_;
  std::size_t in_flight_ = 0;
  // Flipped by the destructor so a callback that destroyed us stops the dispatch loop.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace strowger::proxy::dns
