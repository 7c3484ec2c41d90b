// rtprelay_manage(): which ng command a message calls for, as Kamailio's rtpengine_manage
// decides it, and the table that remembers INVITEs sent without SDP (late offer: the SDP in
// their 1xx/2xx is then an offer, not an answer).
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace strowger::modules::rtprelay {

enum class ManageAction {
  kNone,  // nothing to do (the function returns false, as Kamailio's)
  kOffer,
  kAnswer,
  kDelete,
  kMarkLateOffer,  // an INVITE without SDP: remember it; the function returns false
};

struct ManageInput {
  bool is_request = true;
  std::string_view method;  // of the request line, or the CSeq method of a reply
  int status = 0;           // replies
  bool has_sdp = false;
  bool failure_route = false;
  bool late_offer = false;  // reply: its INVITE was marked kMarkLateOffer
};

ManageAction decide_manage(const ManageInput& in);

// (Call-ID, CSeq) of INVITEs without SDP, until their final reply or `ttl_ms`. Sharded by
// Call-ID hash; shared by all workers (an INVITE and its reply may be on different workers).
class LateOfferTable {
 public:
  explicit LateOfferTable(std::int64_t ttl_ms = 300'000) : ttl_ms_(ttl_ms) {}
  void mark(std::string_view call_id, std::uint32_t cseq, std::int64_t now_ms);
  bool contains(std::string_view call_id, std::uint32_t cseq, std::int64_t now_ms) const;
  void forget(std::string_view call_id, std::uint32_t cseq);
  // Drops entries older than the ttl (the module timer calls it).
  void expire(std::int64_t now_ms);
  std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::int64_t> since;  // key -> marked at
  };
  static std::string key(std::string_view call_id, std::uint32_t cseq);
  Shard& shard_for(std::string_view call_id) const;
  std::int64_t ttl_ms_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace strowger::modules::rtprelay
