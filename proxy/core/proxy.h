// Proxy: the RFC 3261 section 16 stateful proxy — request checks, route pre-processing,
// target selection, forwarding with forking, response selection, and stateless paths.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/core/local_addresses.h"
#include "proxy/core/response_context.h"
#include "proxy/dns/resolver.h"
#include "proxy/script/engine/host.h"
#include "proxy/script/engine/program.h"
#include "proxy/transaction/transaction_layer.h"

namespace strowger::proxy::core {

struct ProxyStats {
  std::uint64_t requests = 0;
  std::uint64_t responses = 0;
  std::uint64_t local_replies = 0;
  std::uint64_t stateless_replies = 0;
  std::uint64_t stateless_forwards = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t dropped = 0;
  std::uint64_t script_runs = 0;  // request_route, failure_route, onreply/branch/reply routes
};

class ScriptHost;

class Proxy final : public transaction::TransactionUser {
 public:
  Proxy(const config::ProxyConfig& config, const LocalAddresses& local, dns::Resolver& resolver,
        transaction::Sender& sender, int worker_index);
  ~Proxy() override;
  void attach(transaction::TransactionLayer& layer) { layer_ = &layer; }

  // Before the transaction layer: requests answered without state (OPTIONS to the proxy
  // itself, Kamailio's sl_send_reply). Returns true when the request was handled.
  bool handle_stateless(sip::Message& request, const transport::Peer& from);
  // Sends a reply to a request without creating a transaction.
  void reply_stateless(const sip::Message& request, const transport::Peer& from, int status,
                       std::string_view reason, std::string_view extra_headers = {});

  // The routing script; null: the built-in routing (YAML routes, then the Request-URI). Worker
  // thread only: a reload posts the new program to each worker, so a request never sees the
  // pointer change under it, and transactions keep the program they started with.
  void set_program(std::shared_ptr<const script::engine::Program> program) {
    program_ = std::move(program);
  }
  const std::shared_ptr<const script::engine::Program>& program() const { return program_; }

  // TransactionUser.
  void on_new_request(transaction::TransactionLayer& layer, sip::Message& request,
                      const transport::Peer& from) override;
  void on_request(transaction::ServerTransaction& st, sip::Message& request) override;
  void on_cancel(transaction::ServerTransaction& invite_st) override;
  void on_stray_ack(sip::Message& ack, const transport::Peer& from) override;
  void on_response(transaction::ClientTransaction& ct, sip::Message& response) override;
  void on_client_failure(transaction::ClientTransaction& ct, int status) override;
  void on_timer_c(transaction::ClientTransaction& ct) override;
  void on_stray_response(sip::Message& response, const transport::Peer& from) override;
  void on_server_gone(transaction::ServerTransaction& st) override;
  void on_client_gone(transaction::ClientTransaction& ct) override;

  const ProxyStats& stats() const { return stats_; }
  std::size_t context_count() const { return contexts_.size(); }

 private:
  // proxy.cpp: request checks and target selection.
  bool preprocess_routes(sip::Message& request);
  bool detect_loop(const sip::Message& request, std::string_view tag) const;
  std::string loop_tag(const sip::Message& request) const;
  // FNV-1a over s with a field separator: the proxy's hash for loop tags and stateless ids.
  static std::uint64_t hash_field(std::uint64_t h, std::string_view s);
  static constexpr std::uint64_t kHashSeed = 0xcbf29ce484222325ULL;

  friend class ScriptHost;

  // scripted.cpp: the routing script's phases and actions.
  void run_request_script(transaction::TransactionLayer* layer, sip::Message& request,
                          const transport::Peer& from);
  int script_relay(ScriptHost& host, const script::engine::RelayRequest& request);
  int script_forward(ScriptHost& host, const script::engine::ForwardRequest& request);
  // Returns true when the failure_route took the transaction over (new branches or a reply).
  bool run_failure_route(ResponseContext& ctx);
  // reply_route, then the transaction's onreply_route; false: drop this (provisional) response.
  bool run_reply_routes(ResponseContext* ctx, Branch* branch, sip::Message& response,
                        const transport::Peer& from);
  // false: the branch was dropped.
  bool run_branch_route(ResponseContext& ctx, Branch& branch);
  void fill_script_state(ScriptState& state, const ScriptHost& host);

  // forwarding.cpp: branches and responses.
  ResponseContext* new_context(transaction::ServerTransaction& st, sip::Message& request,
                               std::string loop_tag);
  void forward(transaction::ServerTransaction& st, sip::Message& request,
               std::vector<sip::Uri> targets, bool parallel, std::string loop_tag);
  // path: Route headers the branch gets first (a registration's Path, RFC 3327).
  void start_branch(ResponseContext& ctx, sip::Uri target,
                    std::optional<sip::Uri> next_hop = std::nullopt,
                    std::vector<sip::Uri> path = {}, std::uint64_t connection_id = 0,
                    bool flow = false);
  void resolved(ResponseContext* ctx, Branch* branch, std::vector<dns::Target> hops);
  void send_branch(ResponseContext& ctx, Branch& branch);
  void branch_final(ResponseContext& ctx, Branch& branch, int status,
                    std::optional<sip::Message> response);
  void finish_if_done(ResponseContext& ctx);
  void cancel_pending(ResponseContext& ctx);
  void maybe_release(ResponseContext* ctx);

  // stateless.cpp: forwarding without transactions (ACK for 2xx, stray 2xx responses).
  void forward_stateless_request(sip::Message& request, const transport::Peer& from);
  // next: the hop to send to (the script's $du or forward() target); none: Route or R-URI.
  void forward_stateless_to(sip::Message&& request, const transport::Peer& from,
                            std::optional<sip::Uri> next);
  void forward_stateless_response(sip::Message& response);
  std::string stateless_branch(const sip::Message& request) const;

  const config::ProxyConfig& config_;
  const LocalAddresses& local_;
  dns::Resolver& resolver_;
  transaction::Sender& sender_;
  transaction::TransactionLayer* layer_ = nullptr;
  int worker_index_;
  std::unordered_set<ResponseContext*> contexts_;
  ProxyStats stats_;
  std::shared_ptr<const script::engine::Program> program_;
  // Set in the destructor so DNS callbacks that fire during teardown do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace strowger::proxy::core
