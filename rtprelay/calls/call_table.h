// CallTable: rtpengine's call layer on the relay's control thread. It answers the ng commands
// (offer, answer, delete, query, list, statistics), owns the calls, drives the MediaEngine
// (ports, pairs, timeouts) and never touches a packet.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bencode.h"
#include "rtprelay/calls/call.h"
#include "rtprelay/calls/interfaces.h"
#include "rtprelay/calls/ng_options.h"
#include "rtprelay/control/ng_dispatcher.h"
#include "rtprelay/media/media_engine.h"

struct event_base;
struct event;

namespace strowger::rtprelay::calls {

struct CallOptions {
  std::int64_t media_timeout_ms = 60'000;      // rtpengine --timeout; 0 disables
  std::int64_t silent_timeout_ms = 3'600'000;  // --silent-timeout, while on hold
  std::int64_t delete_delay_ms = 30'000;       // default delete-delay
  std::int64_t stats_wait_ms = 1000;           // how long a query waits for the workers
  std::int64_t housekeeping_ms = 200;          // delete-delay granularity
};

// Counters of `statistics` and core.stats.
struct RelayCounters {
  std::uint64_t managed = 0;   // calls created
  std::uint64_t rejected = 0;  // offers refused
  std::uint64_t timeouts = 0;
  std::uint64_t silent_timeouts = 0;
  std::uint64_t regular_terminated = 0;  // ng delete
  std::uint64_t forced_terminated = 0;   // sipctl / shutdown
  // Of calls already gone; live ones are added from the workers when asked.
  std::uint64_t packets = 0, bytes = 0, errors = 0;
  double call_seconds = 0;  // summed durations of calls gone
};

class CallTable {
 public:
  // base: the control loop (delete-delay timer, engine events); both must outlive the table.
  CallTable(InterfaceSet& interfaces, media::MediaEngine& engine, event_base* base,
            CallOptions options);
  ~CallTable();  // closes every call (ports go back to their pools)
  CallTable(const CallTable&) = delete;
  CallTable& operator=(const CallTable&) = delete;

  // offer, answer, delete, query, list, statistics; recording commands refused.
  void register_commands(control::NgDispatcher& dispatcher);
  void set_ng_stats(const control::NgStats* stats) { ng_stats_ = stats; }

  void offer(const bencode::Dict& req, const control::Peer& from, bencode::Dict& reply);
  void answer(const bencode::Dict& req, const control::Peer& from, bencode::Dict& reply);
  void remove(const bencode::Dict& req, bencode::Dict& reply);
  void query(const bencode::Dict& req, bencode::Dict& reply);
  void list(const bencode::Dict& req, bencode::Dict& reply);
  void statistics(bencode::Dict& reply);

  // For sipctl: false for an unknown call-id.
  bool query_call(const std::string& call_id, bencode::Dict& out);
  bool force_delete(const std::string& call_id, bencode::Dict* stats);
  std::vector<std::string> call_ids(std::size_t limit) const;
  std::size_t size() const { return calls_.size(); }
  const RelayCounters& counters() const { return counters_; }

  // Deletes calls whose delete-delay is over (the housekeeping timer runs it).
  void run_housekeeping();
  // Closes every call now (shutdown).
  void close_all();

 private:
  enum class End { kDeleted, kTimeout, kSilentTimeout, kForced };
  using StatsMap = std::unordered_map<media::PairId, media::PairStats>;

  // Offer or answer from leg `sender`: allocates/updates streams and writes the SDP for the
  // other leg. The error-reason on failure.
  std::optional<std::string> negotiate(Call& call, int sender, const NgOptions& o, bool is_offer,
                                       std::string* sdp_out, std::vector<std::string>* warnings);
  std::optional<std::string> ensure_interfaces(Call& call, int sender, const NgOptions& o,
                                               std::optional<bool> sender_v6);
  std::int64_t timeout_for(const Stream& s) const;
  void finish(Call& call, End why, bencode::Dict* stats_out);
  void close_stream(Stream& s);
  StatsMap collect(const Call& call);
  StatsMap collect(const std::vector<media::PairId>& ids);
  void build_query(const Call& call, const StatsMap& stats, bencode::Dict& out) const;
  void on_timeout(media::PairId id);
  void process_timeouts();
  Call* find(const std::string& call_id);
  static void on_housekeeping(int, short, void* arg);

  InterfaceSet& interfaces_;
  media::MediaEngine& engine_;
  CallOptions options_;
  event* timer_ = nullptr;
  std::map<std::string, std::unique_ptr<Call>, std::less<>> calls_;
  std::unordered_map<media::PairId, std::string> pair_owner_;  // pair -> call-id
  std::vector<media::PairId> pending_timeouts_;
  int busy_ = 0;  // inside a command: timeouts wait until it is done
  RelayCounters counters_;
  const control::NgStats* ng_stats_ = nullptr;
  std::int64_t started_ms_ = 0;
  std::uint64_t last_rate_packets_ = 0, last_rate_bytes_ = 0, last_rate_errors_ = 0;
  std::int64_t last_rate_ms_ = 0;
};

}  // namespace strowger::rtprelay::calls
