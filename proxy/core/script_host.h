// ScriptHost: the routing script's view of the proxy core for one message in one phase
// (request_route, failure_route, branch_route, onreply_route, reply_route).
#pragma once
#include <string>

#include "proxy/script/engine/context.h"
#include "proxy/transport/address.h"

namespace strowger::proxy::transaction {
class ServerTransaction;
class TransactionLayer;
}  // namespace strowger::proxy::transaction

namespace strowger::proxy::core {

class Proxy;
class ResponseContext;
struct Branch;

enum class ScriptPhase { kRequest, kFailure, kBranch, kOnReply, kReply };

class ScriptHost final : public script::engine::Host {
 public:
  ScriptHost(Proxy& proxy, ScriptPhase phase, sip::Message& message, const transport::Peer& from)
      : proxy_(proxy), phase_(phase), message_(&message), from_(from) {}

  sip::Message& message() override { return *message_; }
  script::engine::Peer source() const override;
  script::engine::Peer local() const override;
  bool is_myself(std::string_view host, std::uint16_t port) const override;

  int reply(int code, std::string_view reason, script::engine::ReplyMode mode) override;
  int reply_with_headers(int code, std::string_view reason, std::string_view headers,
                         script::engine::ReplyMode mode) override;
  int worker() const override;
  std::uint64_t connection_id() const override { return from_.connection_id; }
  int reply_error() override;
  int relay(const script::engine::RelayRequest& request) override;
  int forward_stateless(const script::engine::ForwardRequest& request) override;
  int record_route(std::string_view params) override;
  int record_route_preset(std::string_view uri, std::string_view uri2) override;
  int add_rr_param(std::string_view param) override;

  int t_newtran() override;
  int t_check_trans() override;
  int t_precheck_trans() override { return -1; }  // a transaction's messages reach one worker
  int t_is_canceled() override;
  int transaction_reply_code() const override { return reply_code; }
  int transaction_branch_index() const override { return branch_index; }
  bool in_branch_route() const override { return phase_ == ScriptPhase::kBranch; }

  void log(int level, std::string_view text) override;

  ScriptPhase phase() const { return phase_; }
  const transport::Peer& from() const { return from_; }
  // Request phase: makes the server transaction (the message moves into it).
  transaction::ServerTransaction* ensure_transaction();

  // Set by the core before running the script.
  script::engine::ExecutionContext* exec = nullptr;
  transaction::TransactionLayer* layer = nullptr;  // request phase: to create the transaction
  transaction::ServerTransaction* st = nullptr;
  ResponseContext* ctx = nullptr;  // failure / branch / onreply phases
  int reply_code = 0;
  int branch_index = 0;

  // What the script did, for the core after the run.
  bool relayed = false;
  bool replied = false;
  bool record_route_set = false;
  std::string rr_params;
  std::string rr_added;  // add_rr_param(): kept apart so record_route(params) does not drop it
  std::vector<std::string> rr_preset;
  // Why the last t_relay failed, for sl_reply_error.
  int error_code = 500;
  std::string error_reason = "Server Internal Error";
  std::string error_headers;

 private:
  Proxy& proxy_;
  ScriptPhase phase_;
  sip::Message* message_;
  transport::Peer from_;
};

}  // namespace strowger::proxy::core
