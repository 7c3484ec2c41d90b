// ResponseContext: one proxied request's branches and the RFC 3261 16.7 response selection
// (best final response, 2xx from every branch, 6xx cancels the rest, serial and parallel forking).
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/dns/resolver.h"
#include "proxy/script/engine/program.h"
#include "proxy/sip/message.h"
#include "proxy/sip/uri.h"

namespace strowger::proxy::transaction {
class ServerTransaction;
class ClientTransaction;
}  // namespace strowger::proxy::transaction

namespace strowger::proxy::core {

// Preference of a final response when the proxy must pick one (lower is better; RFC 3261 16.7
// step 6): 6xx first, then the lowest class; within 4xx the ones a UAC can act upon.
int response_rank(int status);

class ResponseContext;

// What a routing script left on a transaction when it called t_relay (Kamailio keeps flags,
// AVPs and the t_on_* routes in the transaction); the program is the one the request started
// with, so a reload never changes the routes of a call in progress.
struct ScriptState {
  std::shared_ptr<const script::engine::Program> program;
  std::uint64_t flags = 0;
  std::uint64_t bflags = 0;
  std::map<std::string, std::vector<script::engine::Value>> avps;
  int failure_route = -1;
  int onreply_route = -1;
  int branch_route = -1;
  unsigned fr_timer_ms = 0;
  unsigned fr_inv_timer_ms = 0;
  std::string rr_params;                // record_route(";nat=yes")
  std::vector<std::string> rr_preset;  // record_route_preset: the values, as URIs
  int failure_runs = 0;
};

struct Branch {
  enum class State { kResolving, kCalling, kDone };
  ResponseContext* context = nullptr;
  int index = 0;
  State state = State::kResolving;
  sip::Uri target;                      // Request-URI of this branch
  std::optional<sip::Uri> next_hop;     // the script's $du: where to send instead of target
  std::vector<sip::Uri> path;           // Route headers put before the request's own
  std::uint64_t connection_id = 0;      // go out on this connection (a registered contact's)
  bool flow = false;                    // RFC 5626 flow: 430 when it is gone, never reconnect
  std::shared_ptr<const std::string> host;  // the host the hops were resolved from (TLS name)
  std::optional<sip::Message> prepared; // the request as branch_route left it
  std::vector<dns::Target> hops;        // resolved next hops, tried in order (RFC 3263 4.3)
  std::size_t hop = 0;
  transaction::ClientTransaction* ct = nullptr;
  int final_status = 0;
};

class ResponseContext {
 public:
  explicit ResponseContext(transaction::ServerTransaction* st) : st(st) {}

  // Records a branch's final (non-2xx) response; response is empty when the proxy made the
  // status up (timeout, transport failure). Returns true if it is the best so far.
  bool offer_final(int status, std::optional<sip::Message> response, int branch = 0);
  bool all_done() const;
  bool has_pending_branches() const;
  int best_status() const { return best_status_; }
  int best_branch() const { return best_branch_; }
  std::optional<sip::Message>& best_response() { return best_response_; }

  transaction::ServerTransaction* st;
  sip::Message* request = nullptr;  // the server transaction's request while st lives
  std::vector<std::unique_ptr<Branch>> branches;
  std::deque<sip::Uri> serial_pending;  // serial forking: targets not yet tried
  bool cancelled = false;
  bool forwarded_2xx = false;
  bool forwarded_final = false;
  bool record_route = false;
  bool starting = false;  // branches are being started: do not finish or free yet
  int inbound_listener = -1;
  std::string loop_tag;
  std::unique_ptr<ScriptState> script;  // null when no routing script handled the request

 private:
  int best_status_ = 0;
  int best_branch_ = 0;
  std::optional<sip::Message> best_response_;
};

}  // namespace strowger::proxy::core
