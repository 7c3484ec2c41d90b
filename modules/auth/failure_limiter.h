// FailureLimiter: authentication failures per source IP; a source over max_failures within
// failure_window is refused for block_time (no unlimited password guessing). Sharded.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace strowger::modules::auth {

struct FailureLimits {
  std::int64_t max_failures = 10;   // failures allowed per window; 0 disables the limiter
  std::int64_t window_ms = 60000;   // failure_window
  std::int64_t block_ms = 300000;   // block_time
  std::size_t max_sources = 65536;  // memory bound; beyond it new sources are not tracked
};

class FailureLimiter {
 public:
  explicit FailureLimiter(FailureLimits limits) : limits_(limits) {}

  // True while ip is blocked.
  bool blocked(std::string_view ip, std::int64_t now_ms);
  // Counts a failed authentication; true when this failure starts a block (log it once).
  bool record_failure(std::string_view ip, std::int64_t now_ms);
  // Forgets sources whose window and block are over; returns how many.
  std::size_t expire(std::int64_t now_ms);
  std::size_t size() const;
  const FailureLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::int64_t window_start = 0;
    std::int64_t failures = 0;
    std::int64_t blocked_until = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_of(std::string_view ip);

  FailureLimits limits_;
  std::array<Shard, kShards> shards_;
};

}  // namespace strowger::modules::auth
