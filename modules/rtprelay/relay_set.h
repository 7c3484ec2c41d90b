// RelaySet: the relays a proxy drives (Kamailio's rtpengine_sock): every message of one call
// goes to the same relay, chosen by Call-ID (weighted rendezvous hashing); a relay that does
// not answer is marked down and the call's next relay in the same hash order is tried; a
// periodic ping brings a down relay back. With every relay down the request fails, so the
// script can answer 503.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bencode.h"
#include "common/result.h"
#include "modules/rtprelay/ng_client.h"

struct event_base;
struct event;

namespace strowger::modules::rtprelay {

// One relay as configured: "udp:127.0.0.1:2223", "udp:relay.example:2223=2",
// "udp6:[::1]:2223", "udp6:::1:2223", or "127.0.0.1:2223" (udp assumed). "=N" is the weight
// (1 to 1000, default 1): a relay of weight 2 gets about twice the calls of weight 1.
struct RelayUrl {
  std::string text;  // as configured, without the weight
  sockaddr_storage addr{};
  unsigned weight = 1;
};

// Host names are resolved here, once (blocking getaddrinfo: call it at startup).
common::Result<RelayUrl> parse_relay_url(std::string_view url);

struct RelaySetOptions {
  NgClientOptions client;         // retries of ordinary commands
  int ping_interval_ms = 10'000;  // how often relays marked down are pinged
  NgRetry ping_retry{1000, 1};    // a health-check ping's wait (one try)
};

struct RelayState {
  RelayUrl url;
  bool up = true;
  std::uint64_t requests = 0;  // commands sent to it (failovers included)
  std::uint64_t failures = 0;  // commands that timed out or could not be sent
};

// `relay` is the URL text of the relay that answered ("" when none did).
using RelayCallback =
    std::function<void(common::Result<bencode::Dict> reply, std::string_view relay)>;

class RelaySet {
 public:
  explicit RelaySet(event_base* base, RelaySetOptions options = {});
  // Pending requests are dropped without a callback.
  ~RelaySet();
  RelaySet(const RelaySet&) = delete;
  RelaySet& operator=(const RelaySet&) = delete;

  // Adds one relay URL; the reason when it is malformed.
  std::optional<std::string> add(std::string_view url);
  // Adds a space-separated list, as Kamailio's rtpengine_sock; nothing is added on error.
  std::optional<std::string> add_list(std::string_view urls);

  // Sends `request` for the call `call_id` to its relay; on timeout or send failure marks that
  // relay down and tries the call's next relay that is up. `done` runs exactly once, from the
  // event loop: with the reply (whatever its result), or Error{kNgNoRelay} when no relay is
  // up (or all that were tried failed), or Error{kNgBadReply}.
  void send(std::string_view call_id, bencode::Dict request, RelayCallback done);

  // Relay indexes in the order tried for `call_id` (up or not).
  std::vector<std::size_t> order_for(std::string_view call_id) const;
  const std::vector<RelayState>& relays() const { return relays_; }
  std::size_t up_count() const;
  // Pings every relay marked down now (the timer does it every ping_interval_ms).
  void check_now();
  // Marks a relay down or up by hand (sipctl; a relay the operator drains).
  void set_up(std::size_t index, bool up);

 private:
  struct Attempt;
  void try_next(std::shared_ptr<Attempt> a);
  static void on_ping_timer(int, short, void* arg);
  static void on_no_relay(int, short, void* arg);

  NgClient client_;
  RelaySetOptions options_;
  std::vector<RelayState> relays_;
  std::vector<std::uint64_t> ping_pending_;  // per relay: id of its ping in flight, 0 if none
  event* ping_timer_ = nullptr;
  event* no_relay_event_ = nullptr;  // made active to fail no_relay_ from the loop
  std::vector<std::shared_ptr<Attempt>> no_relay_;
};

}  // namespace strowger::modules::rtprelay
