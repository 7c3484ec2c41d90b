// Cache: DNS answers per (name, type), kept for their TTL on the injected clock, bounded in size.
// Owned by one worker's Resolver; not thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/timer_heap.h"
#include "proxy/dns/answer.h"

namespace strowger::proxy::dns {

class Cache {
 public:
  struct Limits {
    std::uint32_t max_ttl_s = 300;      // positive answers live at most this long
    std::uint32_t negative_ttl_s = 30;  // NXDOMAIN/NODATA: the SOA's TTL capped by this, or this
    std::size_t max_entries = 10000;
  };

  Cache(const common::Clock& clock, Limits limits) : clock_(clock), limits_(limits) {}

  // The unexpired answer for (name, type), or nullptr.
  AnswerPtr find(std::string_view name, RrType type) const;
  // Keeps answer for as long as its TTL allows (capped by the limits). Timeouts and server
  // failures are not kept: the next lookup asks again.
  void put(std::string_view name, RrType type, AnswerPtr answer);
  std::size_t size() const { return entries_.size(); }
  // Seconds an answer would be kept.
  std::uint32_t lifetime_s(const Answer& answer) const;

 private:
  struct Entry {
    AnswerPtr answer;
    std::int64_t expires_ms = 0;
  };
  // "type/name": one string, so a lookup builds no more than one key.
  static std::string key(std::string_view name, RrType type);
  void make_room();

  const common::Clock& clock_;
  Limits limits_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace strowger::proxy::dns
