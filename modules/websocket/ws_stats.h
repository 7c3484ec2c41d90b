// WebSocket counters for ws.stats, sharded by worker (relaxed atomics on a cache line of their
// own: a worker never contends with another), and the per-worker log rate limit.
#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "modules/websocket/ws_handshake.h"

namespace strowger::modules::websocket {

enum class Counter {
  kSessionsOpened = 0,  // accepted connections
  kSessionsClosed,      // sessions destroyed (opened - closed = current)
  kHandshakeOk,
  kHandshakeFailed,
  kFramesIn,
  kFramesOut,
  kMessagesIn,
  kMessagesOut,
  kPingsIn,
  kPingsOut,
  kPongsIn,
  kPongsOut,
  kClosePeer,              // the client sent a close frame (we echoed it)
  kCloseProtocolError,     // we closed with 1002
  kCloseTooBig,            // we closed with 1009
  kCloseKeepaliveTimeout,  // no frame within keepalive_timeout after our ping
  kCloseConnectionGone,    // the core's connection went away while delivering a message
  kLogsSuppressed,         // rejected-handshake lines not logged (rate limit)
  kCount,
};

const char* counter_name(Counter c);

inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::kCount);
inline constexpr std::size_t kRejectCount = static_cast<std::size_t>(Reject::kCount);

struct StatsSnapshot {
  std::array<std::uint64_t, kCounterCount> counters{};
  std::array<std::uint64_t, kRejectCount> rejects{};  // handshake failures by reason
  std::uint64_t get(Counter c) const { return counters[static_cast<std::size_t>(c)]; }
  std::uint64_t get(Reject r) const { return rejects[static_cast<std::size_t>(r)]; }
};

class WsStats {
 public:
  // shards: one per worker; a shard index is taken modulo this count.
  explicit WsStats(std::size_t shards);

  void add(std::size_t shard, Counter c, std::uint64_t n = 1) {
    at(shard).counters[static_cast<std::size_t>(c)].fetch_add(n, std::memory_order_relaxed);
  }
  void add_reject(std::size_t shard, Reject r) {
    at(shard).rejects[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  // True when a rejected-handshake line may be logged now: at most per_second lines per shard
  // and second. *suppressed gets how many were refused since the last allowed line (to say so).
  bool allow_log(std::size_t shard, std::int64_t now_ms, int per_second, std::uint64_t* suppressed);

  StatsSnapshot sum() const;
  std::size_t shards() const { return count_; }

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<std::uint64_t>, kCounterCount> counters{};
    std::array<std::atomic<std::uint64_t>, kRejectCount> rejects{};
    std::atomic<std::int64_t> log_window_start{0};
    std::atomic<int> log_lines{0};
    std::atomic<std::uint64_t> log_suppressed{0};
  };
  Shard& at(std::size_t shard) { return shards_[shard % count_]; }

  std::size_t count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace strowger::modules::websocket
