// Per-IP authentication failure counting and blocking.
#include "modules/auth/failure_limiter.h"

#include <functional>

namespace strowger::modules::auth {

FailureLimiter::Shard& FailureLimiter::shard_of(std::string_view ip) {
  return shards_[std::hash<std::string_view>{}(ip) % kShards];
}

bool FailureLimiter::blocked(std::string_view ip, std::int64_t now_ms) {
  if (limits_.max_failures <= 0) return false;
  Shard& s = shard_of(ip);
  std::lock_guard lock(s.mutex);
  auto it = s.entries.find(std::string(ip));
  return it != s.entries.end() && it->second.blocked_until > now_ms;
}

bool FailureLimiter::record_failure(std::string_view ip, std::int64_t now_ms) {
  if (limits_.max_failures <= 0) return false;
  Shard& s = shard_of(ip);
  std::lock_guard lock(s.mutex);
  auto it = s.entries.find(std::string(ip));
  if (it == s.entries.end()) {
    if (s.entries.size() >= limits_.max_sources / kShards + 1) return false;
    it = s.entries.emplace(std::string(ip), Entry{now_ms, 0, 0}).first;
  }
  Entry& e = it->second;
  if (e.blocked_until > now_ms) return false;  // already blocked (and logged)
  if (now_ms - e.window_start >= limits_.window_ms) {
    e.window_start = now_ms;
    e.failures = 0;
  }
  if (++e.failures <= limits_.max_failures) return false;
  e.blocked_until = now_ms + limits_.block_ms;
  e.failures = 0;
  e.window_start = e.blocked_until;  // counting starts afresh once the block is over
  return true;
}

std::size_t FailureLimiter::expire(std::int64_t now_ms) {
  std::size_t removed = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (auto it = s.entries.begin(); it != s.entries.end();) {
      const Entry& e = it->second;
      if (e.blocked_until <= now_ms && now_ms - e.window_start >= limits_.window_ms) {
        it = s.entries.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
  }
  return removed;
}

std::size_t FailureLimiter::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.entries.size();
  }
  return n;
}

}  // namespace strowger::modules::auth
