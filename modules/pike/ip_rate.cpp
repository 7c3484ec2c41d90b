// IpRateTable: fixed windows of one sampling unit per source, the previous one remembered.
#include "modules/pike/ip_rate.h"

#include <algorithm>
#include <functional>

namespace strowger::modules::pike {

IpRateTable::Shard& IpRateTable::shard_of(std::string_view ip) {
  return shards_[std::hash<std::string_view>{}(ip) % kShards];
}

void IpRateTable::roll(Entry& e, std::int64_t now_ms) const {
  if (now_ms < e.window_start + limits_.unit_ms) return;
  const bool adjacent = now_ms < e.window_start + 2 * limits_.unit_ms;
  e.previous = adjacent ? e.current : 0;
  e.current = 0;
  e.window_start = now_ms - (now_ms - e.window_start) % limits_.unit_ms;
}

bool IpRateTable::hit(std::string_view ip, std::int64_t now_ms) {
  Shard& s = shard_of(ip);
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.entries.find(std::string(ip));
  if (it == s.entries.end()) {
    it = s.entries.emplace(std::string(ip), Entry{now_ms, 0, 0, now_ms}).first;
  }
  Entry& e = it->second;
  roll(e, now_ms);
  ++e.current;
  e.last_seen = now_ms;
  return e.current > limits_.density || e.previous > limits_.density;
}

std::size_t IpRateTable::expire(std::int64_t now_ms) {
  std::size_t removed = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mutex);
    for (auto it = s.entries.begin(); it != s.entries.end();) {
      if (now_ms - it->second.last_seen > limits_.forget_ms) {
        it = s.entries.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
  }
  return removed;
}

std::vector<SourceRate> IpRateTable::top(std::size_t limit, std::int64_t now_ms) const {
  std::vector<SourceRate> all;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mutex);
    for (const auto& [ip, entry] : s.entries) {
      Entry e = entry;
      roll(e, now_ms);
      all.push_back(
          {ip, e.current, e.previous, e.current > limits_.density || e.previous > limits_.density});
    }
  }
  std::sort(all.begin(), all.end(), [](const SourceRate& a, const SourceRate& b) {
    if (a.blocked != b.blocked) return a.blocked;
    return std::max(a.current, a.previous) > std::max(b.current, b.previous);
  });
  if (all.size() > limit) all.resize(limit);
  return all;
}

std::size_t IpRateTable::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mutex);
    n += s.entries.size();
  }
  return n;
}

}  // namespace strowger::modules::pike
