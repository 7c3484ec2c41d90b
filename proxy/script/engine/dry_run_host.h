// DryRunHost: a Host that sends nothing and writes every action into the trace.
#pragma once
#include <string>
#include <vector>

#include "proxy/script/engine/context.h"

namespace strowger::proxy::script::engine {

class DryRunHost : public Host {
 public:
  DryRunHost(sip::Message msg, Peer source, Peer local, std::vector<std::string> aliases)
      : msg_(std::move(msg)),
        source_(std::move(source)),
        local_(std::move(local)),
        aliases_(std::move(aliases)) {}

  void set_trace(Trace* trace) { trace_ = trace; }
  const std::vector<std::string>& actions() const { return actions_; }
  bool sent_message() const { return forwarded_; }

  sip::Message& message() override { return msg_; }
  Peer source() const override { return source_; }
  Peer local() const override { return local_; }
  bool is_myself(std::string_view host, std::uint16_t port) const override;

  int reply(int code, std::string_view reason, ReplyMode mode) override;
  int reply_with_headers(int code, std::string_view reason, std::string_view headers,
                         ReplyMode mode) override;
  int relay(const RelayRequest& request) override;
  int forward_stateless(const ForwardRequest& request) override;
  int record_route(std::string_view params) override;
  int record_route_preset(std::string_view uri, std::string_view uri2) override;
  int add_rr_param(std::string_view param) override;
  int t_newtran() override;
  int t_check_trans() override;
  int t_precheck_trans() override { return -1; }  // no other process in a dry run
  int t_is_canceled() override { return -1; }
  int transaction_reply_code() const override { return 0; }
  int transaction_branch_index() const override { return 0; }
  void log(int level, std::string_view text) override;

  // Route names for the trace (set by the dry run from the program).
  const Program* program = nullptr;

 private:
  void action(std::string text);
  std::string next_hop(const std::string& du) const;

  sip::Message msg_;
  Peer source_;
  Peer local_;
  std::vector<std::string> aliases_;
  Trace* trace_ = nullptr;
  std::vector<std::string> actions_;
  bool transaction_ = false;
  bool forwarded_ = false;
};

}  // namespace strowger::proxy::script::engine
