// rtpengine_manage's decision table (Kamailio 5.6) and the late-offer table.
#include "modules/rtprelay/manage.h"

#include <functional>

namespace strowger::modules::rtprelay {

ManageAction decide_manage(const ManageInput& in) {
  std::string_view m = in.method;
  if (m != "INVITE" && m != "ACK" && m != "CANCEL" && m != "BYE" && m != "UPDATE" && m != "PRACK")
    return ManageAction::kNone;
  if (m == "CANCEL" || m == "BYE") return ManageAction::kDelete;
  if (in.is_request) {
    if (!in.has_sdp) return m == "INVITE" ? ManageAction::kMarkLateOffer : ManageAction::kNone;
    if (m == "ACK" || m == "PRACK") return ManageAction::kAnswer;
    if (m == "INVITE" && in.failure_route) return ManageAction::kDelete;
    return ManageAction::kOffer;  // INVITE, UPDATE
  }
  if (in.status >= 300) return ManageAction::kDelete;
  if (!in.has_sdp) return ManageAction::kNone;
  if (m == "UPDATE") return ManageAction::kAnswer;
  if (m == "INVITE" && in.late_offer) return ManageAction::kOffer;
  return ManageAction::kAnswer;
}

std::string LateOfferTable::key(std::string_view call_id, std::uint32_t cseq) {
  std::string k(call_id);
  k += ' ';
  k += std::to_string(cseq);
  return k;
}

LateOfferTable::Shard& LateOfferTable::shard_for(std::string_view call_id) const {
  return shards_[std::hash<std::string_view>{}(call_id) % kShards];
}

void LateOfferTable::mark(std::string_view call_id, std::uint32_t cseq, std::int64_t now_ms) {
  Shard& s = shard_for(call_id);
  std::lock_guard lock(s.mu);
  s.since[key(call_id, cseq)] = now_ms;
}

bool LateOfferTable::contains(std::string_view call_id, std::uint32_t cseq,
                              std::int64_t now_ms) const {
  Shard& s = shard_for(call_id);
  std::lock_guard lock(s.mu);
  auto it = s.since.find(key(call_id, cseq));
  return it != s.since.end() && now_ms - it->second <= ttl_ms_;
}

void LateOfferTable::forget(std::string_view call_id, std::uint32_t cseq) {
  Shard& s = shard_for(call_id);
  std::lock_guard lock(s.mu);
  s.since.erase(key(call_id, cseq));
}

void LateOfferTable::expire(std::int64_t now_ms) {
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    std::erase_if(s.since, [&](const auto& kv) { return now_ms - kv.second > ttl_ms_; });
  }
}

std::size_t LateOfferTable::size() const {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.since.size();
  }
  return n;
}

}  // namespace strowger::modules::rtprelay
