// CookieCache: the replies sent recently, by request cookie, so that a retransmitted request
// (the proxy timed out waiting and sent the same cookie again) gets the same bytes back
// without the command running twice (an offer run twice would allocate ports twice).
#pragma once
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/timer_heap.h"

namespace strowger::rtprelay::control {

struct CookieCacheOptions {
  std::int64_t ttl_ms = 30'000;       // rtpengine keeps replies about 30 s
  std::size_t max_entries = 100'000;  // the oldest reply goes first past this
};

class CookieCache {
 public:
  CookieCache(const common::Clock& clock, CookieCacheOptions options);

  // The reply stored under `key` if it has not expired, else nullptr. Valid until the next
  // insert().
  const std::string* find(std::string_view key);
  // Stores (or replaces) the reply for `key`, dropping expired entries and, when full, the
  // oldest.
  void insert(std::string_view key, std::string reply);
  std::size_t size() const { return map_.size(); }
  const CookieCacheOptions& options() const { return options_; }

 private:
  struct Entry {
    std::string key;
    std::string reply;
    std::int64_t expires_ms;
  };
  void expire(std::int64_t now);

  const common::Clock& clock_;
  CookieCacheOptions options_;
  // Oldest first: with one TTL for all, insertion order is expiry order.
  std::list<Entry> entries_;
  std::unordered_map<std::string_view, std::list<Entry>::iterator> map_;
};

}  // namespace strowger::rtprelay::control
