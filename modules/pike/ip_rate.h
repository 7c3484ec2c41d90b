// IpRateTable: requests per source IP per sampling unit, sharded, for flood detection (pike).
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strowger::modules::pike {

struct RateLimits {
  std::int64_t unit_ms = 2000;      // sampling_time_unit
  std::int64_t density = 30;        // reqs_density_per_unit: more than this in a unit is a flood
  std::int64_t forget_ms = 120000;  // remove_latency: an idle source is forgotten after this
};

struct SourceRate {
  std::string ip;
  std::int64_t current = 0;   // requests in the current unit
  std::int64_t previous = 0;  // requests in the unit before
  bool blocked = false;
};

// Shared by every worker: one lock per shard, taken once per request.
class IpRateTable {
 public:
  explicit IpRateTable(RateLimits limits) : limits_(limits) {}

  // Counts a request from ip at now_ms; true when the source is flooding (this unit or the
  // one before went over the density), so it stays refused for at least a whole unit.
  bool hit(std::string_view ip, std::int64_t now_ms);
  // Drops sources idle for longer than forget_ms; returns how many.
  std::size_t expire(std::int64_t now_ms);
  // The busiest sources (blocked first), at most limit.
  std::vector<SourceRate> top(std::size_t limit, std::int64_t now_ms) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::int64_t window_start = 0;
    std::int64_t current = 0;
    std::int64_t previous = 0;
    std::int64_t last_seen = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
  };
  static constexpr std::size_t kShards = 32;
  void roll(Entry& e, std::int64_t now_ms) const;
  Shard& shard_of(std::string_view ip);

  RateLimits limits_;
  std::array<Shard, kShards> shards_;
};

}  // namespace strowger::modules::pike
