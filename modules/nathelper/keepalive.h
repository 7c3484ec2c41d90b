// Keepalive: nathelper's NAT pings. Every natping_interval the timer thread pings the bindings
// usrloc holds (NATed ones, or all), at the address the REGISTER came from: 4 zero bytes over
// UDP, or a stateless SIP request (sipping_from set) whose replies come back by Via branch
// prefix; with keepalive_timeout a binding that has not answered for that long is removed.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sipproxy/script.h"
#include "sipproxy/usrloc.h"

namespace strowger::modules::nathelper {

struct PingConfig {
  std::int64_t interval_s = 0;  // natping_interval; 0: no pings
  bool nated_only = false;      // ping_nated_only: only bindings flagged kFlagNat
  std::string sipping_from;     // "": 4-byte UDP pings; else a SIP request From this URI
  std::string sipping_method = "OPTIONS";
  std::int64_t keepalive_timeout_s = 0;  // 0: never remove (needs sipping_from)
  bool natping_tcp = false;  // also ping over TCP/TLS/WS connections (SIP ping, or CRLF CRLF)
};

struct PingStats {
  std::uint64_t rounds = 0;
  std::uint64_t udp_pings = 0;   // 4-byte pings sent
  std::uint64_t crlf_pings = 0;  // CRLF CRLF on connections
  std::uint64_t sip_pings = 0;   // SIP requests sent
  std::uint64_t replies = 0;     // replies matched to a binding
  std::uint64_t removed = 0;     // bindings removed for silence
  std::uint64_t send_failures = 0;
};

class Pinger {
 public:
  // Responses whose top Via branch starts with this are ours (ModuleHost::on_reply).
  static constexpr std::string_view kBranchPrefix = "z9hG4bK-nhping-";

  using SendFn =
      std::function<bool(const sipproxy::Peer& to, std::uint64_t connection, std::string bytes)>;
  using ListenFn = std::function<std::optional<sipproxy::Peer>(std::string_view proto)>;

  Pinger(PingConfig config, sipproxy::usrloc::Location& location, SendFn send, ListenFn listen);

  // One round over the table (the timer calls it every interval). Removes the bindings silent
  // for longer than keepalive_timeout first, then pings the rest.
  void run_round();
  // A response to one of our SIP pings: the binding it names answered. False when the reply is
  // not a well-formed answer to our ping (wrong From, method, extra Via...).
  bool on_reply(const sipproxy::Message& reply);

  void set_enabled(bool on) { enabled_.store(on); }
  bool enabled() const { return enabled_.load(); }
  PingStats stats() const;
  const PingConfig& config() const { return config_; }

  // The SIP ping for one binding (public for tests).
  std::optional<std::string> build_sip_ping(const sipproxy::usrloc::Binding& b,
                                            std::uint64_t counter) const;

 private:
  bool wanted(const sipproxy::usrloc::Binding& b) const;
  void ping(const sipproxy::usrloc::Binding& b);
  bool silent_too_long(const sipproxy::usrloc::Binding& b, std::int64_t now);

  const PingConfig config_;
  sipproxy::usrloc::Location& location_;
  SendFn send_;
  ListenFn listen_;
  std::atomic<bool> enabled_{true};
  std::atomic<std::uint64_t> counter_{0};

  // ruid -> when it last answered (or when we first pinged it); the timer thread and the
  // workers (replies) share it.
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> last_answer_;
  PingStats stats_;
};

}  // namespace strowger::modules::nathelper
