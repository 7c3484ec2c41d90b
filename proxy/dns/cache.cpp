// Cache implementation: TTL expiry against the injected clock, expired-first eviction when full.
#include "proxy/dns/cache.h"

#include <algorithm>

namespace strowger::proxy::dns {

std::string Cache::key(std::string_view name, RrType type) {
  std::string k = std::to_string(static_cast<unsigned>(type));
  k.push_back('/');
  k.append(name);
  return k;
}

std::uint32_t Cache::lifetime_s(const Answer& answer) const {
  switch (answer.status) {
    case AnswerStatus::kOk:
      return std::min(answer.ttl_s.value_or(0), limits_.max_ttl_s);
    case AnswerStatus::kNoData:
    case AnswerStatus::kNxDomain:
      return std::min({answer.ttl_s.value_or(limits_.negative_ttl_s), limits_.negative_ttl_s,
                       limits_.max_ttl_s});
    case AnswerStatus::kServerFailure:
    case AnswerStatus::kTimeout:
      return 0;
  }
  return 0;
}

AnswerPtr Cache::find(std::string_view name, RrType type) const {
  auto it = entries_.find(key(name, type));
  if (it == entries_.end() || it->second.expires_ms <= clock_.now_ms()) return nullptr;
  return it->second.answer;
}

void Cache::put(std::string_view name, RrType type, AnswerPtr answer) {
  if (!answer) return;
  const std::uint32_t life = lifetime_s(*answer);
  std::string k = key(name, type);
  if (life == 0) {
    entries_.erase(k);  // a stale entry must not outlive a fresher answer that says "don't keep"
    return;
  }
  if (limits_.max_entries == 0) return;
  if (entries_.size() >= limits_.max_entries && !entries_.contains(k)) make_room();
  entries_[std::move(k)] = Entry{std::move(answer), clock_.now_ms() + std::int64_t{life} * 1000};
}

void Cache::make_room() {
  const std::int64_t now = clock_.now_ms();
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_ms <= now; });
  if (entries_.size() < limits_.max_entries) return;
  // Still full of live entries: drop a tenth, whichever the table lists first. Rare enough
  // (a cache sized for the deployment) that an LRU list is not worth its cost per hit.
  const std::size_t keep = limits_.max_entries - std::max<std::size_t>(1, limits_.max_entries / 10);
  while (entries_.size() > keep) entries_.erase(entries_.begin());
}

}  // namespace strowger::proxy::dns
