// TransactionLayer: one worker's server and client transaction tables, RFC 3261 17.1.3/17.2.3
// matching (with the RFC 2543 fallback), and the branch ids that say which worker owns them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/timer_heap.h"
#include "proxy/transaction/client_transaction.h"
#include "proxy/transaction/server_transaction.h"
#include "proxy/transaction/types.h"

namespace strowger::proxy::transaction {

struct TransactionStats {
  std::uint64_t server_created = 0;
  std::uint64_t client_created = 0;
  std::uint64_t retransmissions_absorbed = 0;
  std::uint64_t client_timeouts = 0;
  std::uint64_t stray_responses = 0;
};

class TransactionLayer {
 public:
  static constexpr std::string_view kMagicCookie = "z9hG4bK";

  TransactionLayer(common::TimerHeap& timers, Sender& sender, TransactionUser& user,
                   TimerSettings settings, int worker_index);
  ~TransactionLayer();

  // Inbound, from the worker (the message passed validation).
  void receive_request(sip::Message&& request, const transport::Peer& from);
  void receive_response(sip::Message&& response, const transport::Peer& from);
  void connection_closed(std::uint64_t connection_id);

  // For the transaction user: a new branch id owned by this worker. tag is folded in (the
  // proxy's loop-detection hash, RFC 3261 16.6 step 8).
  std::string new_branch(std::string_view tag);
  // The worker that owns a branch this proxy generated, or -1 when it is not one of ours.
  static int branch_worker(std::string_view branch);
  // The tag folded into one of our branches (empty when not ours).
  static std::string_view branch_tag(std::string_view branch);

  // Creates the server transaction for a request that matched none (from on_new_request);
  // an INVITE gets its 100 Trying at once.
  ServerTransaction& create_server(sip::Message&& request, const transport::Peer& from);
  // The server transaction a request belongs to (as_invite: the INVITE an ACK/CANCEL matches).
  ServerTransaction* find_server(const sip::Message& request, bool as_invite);

  // Starts a client transaction for request (our Via with a branch from new_branch on top).
  // final_ms / timer_c_ms: per-transaction timeouts (0: the configured ones).
  ClientTransaction& start_client(sip::Message&& request, const transport::Peer& to,
                                  void* user_data, int final_ms = 0, int timer_c_ms = 0);

  // Deletes terminated transactions. Called by the worker after each event, so no transaction
  // is destroyed while a call into it is on the stack.
  void collect();

  std::size_t server_count() const { return servers_.size(); }
  std::size_t client_count() const { return clients_.size(); }
  const TransactionStats& stats() const { return stats_; }
  const TimerSettings& settings() const { return settings_; }
  common::TimerHeap& timers() { return timers_; }
  Sender& sender() { return sender_; }
  TransactionUser& user() { return user_; }
  int worker_index() const { return worker_index_; }
  std::string new_tag();

  // Used by transactions.
  void server_terminated(ServerTransaction& st);
  void client_terminated(ClientTransaction& ct);
  ClientTransaction& start_internal_client(sip::Message&& request, const transport::Peer& to);
  void count_timeout() { ++stats_.client_timeouts; }

  // Matching keys (public for tests).
  static std::string server_key(const sip::Message& request, bool as_invite);
  static std::string client_key(std::string_view branch, std::string_view cseq_method);

 private:
  common::TimerHeap& timers_;
  Sender& sender_;
  TransactionUser& user_;
  TimerSettings settings_;
  int worker_index_;
  std::uint64_t counter_ = 0;
  std::uint64_t seed_;
  std::unordered_map<std::string, std::unique_ptr<ServerTransaction>> servers_;
  std::unordered_map<std::string, std::unique_ptr<ClientTransaction>> clients_;
  std::vector<std::unique_ptr<ServerTransaction>> dead_servers_;
  std::vector<std::unique_ptr<ClientTransaction>> dead_clients_;
  TransactionStats stats_;
};

}  // namespace strowger::proxy::transaction
