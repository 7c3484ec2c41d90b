// CookieCache: bounded, expiring map from request cookie to the reply bytes sent.
#include "rtprelay/control/cookie_cache.h"

#include <utility>

namespace strowger::rtprelay::control {

CookieCache::CookieCache(const common::Clock& clock, CookieCacheOptions options)
    : clock_(clock), options_(options) {
  if (options_.max_entries == 0) options_.max_entries = 1;
}

const std::string* CookieCache::find(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (it->second->expires_ms <= clock_.now_ms()) return nullptr;
  return &it->second->reply;
}

void CookieCache::expire(std::int64_t now) {
  while (!entries_.empty() && entries_.front().expires_ms <= now) {
    map_.erase(entries_.front().key);
    entries_.pop_front();
  }
}

void CookieCache::insert(std::string_view key, std::string reply) {
  std::int64_t now = clock_.now_ms();
  expire(now);
  if (auto it = map_.find(key); it != map_.end()) {
    auto old = it->second;
    map_.erase(it);
    entries_.erase(old);
  }
  while (map_.size() >= options_.max_entries) {
    map_.erase(entries_.front().key);
    entries_.pop_front();
  }
  entries_.push_back(Entry{std::string(key), std::move(reply), now + options_.ttl_ms});
  auto last = std::prev(entries_.end());
  map_.emplace(std::string_view(last->key), last);
}

}  // namespace strowger::rtprelay::control
