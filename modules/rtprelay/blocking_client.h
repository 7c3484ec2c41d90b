// The synchronous side of the relay module: the script needs the relay's SDP before it goes
// on (Kamailio's rtpengine module blocks its worker the same way), so each worker drives its
// own RelaySet on a private event_base and loops it until the reply, the failover or the
// last timeout. Relay health is shared by all workers (atomics) and restored by a ping probe
// on the module timer thread.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/bencode.h"
#include "common/result.h"
#include "modules/rtprelay/ng_client.h"
#include "modules/rtprelay/relay_set.h"

struct event_base;

namespace strowger::modules::rtprelay {

// Up/down per relay (index as in the configured list), shared across workers.
class RelayHealth {
 public:
  explicit RelayHealth(std::size_t relays);
  std::size_t size() const { return n_; }
  bool up(std::size_t i) const { return i < n_ && up_[i].load(std::memory_order_relaxed); }
  // True when this call changed the state.
  bool set(std::size_t i, bool up);
  std::size_t up_count() const;

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<bool>[]> up_;
};

struct BlockingOptions {
  std::string relays;  // "udp:127.0.0.1:2223=2 udp:10.0.0.2:2223"
  NgRetry retry;       // per relay: first wait, doubled on each of `tries` sends
};

// The longest a call() can block: every relay in turn times out after all its tries.
std::int64_t worst_case_ms(const NgRetry& retry, std::size_t relays);

class BlockingClient {
 public:
  // Parses the relay list (an error names the bad URL) and makes the private event_base.
  static common::Result<std::unique_ptr<BlockingClient>> create(
      const BlockingOptions& options, std::shared_ptr<RelayHealth> health);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Sends `request` to the relay of `call_id` and blocks until a reply (whatever its
  // `result`) or Error{kNgNoRelay} when every relay is down or timed out. Relays that timed
  // out are marked down in the shared health. `relay` gets the URL that answered.
  common::Result<common::bencode::Dict> call(std::string_view call_id,
                                             common::bencode::Dict request,
                                             std::string* relay = nullptr);
  const std::vector<RelayState>& relays() const { return set_->relays(); }

 private:
  BlockingClient() = default;
  event_base* base_ = nullptr;
  std::unique_ptr<RelaySet> set_;
  std::shared_ptr<RelayHealth> health_;
};

// Pings every relay marked down (one try of `timeout_ms` each, all at once) and marks up the
// ones answering `pong`. Blocks at most about timeout_ms. For the module timer thread.
class HealthProbe {
 public:
  static common::Result<std::unique_ptr<HealthProbe>> create(const std::string& relays,
                                                             std::shared_ptr<RelayHealth> health,
                                                             int timeout_ms);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;
  // Returns how many relays came back.
  int run_once();

 private:
  HealthProbe() = default;
  event_base* base_ = nullptr;
  std::unique_ptr<NgClient> client_;
  std::vector<RelayUrl> urls_;
  std::shared_ptr<RelayHealth> health_;
  int timeout_ms_ = 1000;
};

}  // namespace strowger::modules::rtprelay
