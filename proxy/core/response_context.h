// ResponseContext: one proxied request's branches and the RFC 3261 16.7 response selection
// (best final response, 2xx from every branch, 6xx cancels the rest, serial and parallel forking).
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/dns/resolver.h"
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

struct Branch {
  enum class State { kResolving, kCalling, kDone };
  ResponseContext* context = nullptr;
  int index = 0;
  State state = State::kResolving;
  sip::Uri target;                      // Request-URI of this branch
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
  bool offer_final(int status, std::optional<sip::Message> response);
  bool all_done() const;
  bool has_pending_branches() const;
  int best_status() const { return best_status_; }
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

 private:
  int best_status_ = 0;
  std::optional<sip::Message> best_response_;
};

}  // namespace strowger::proxy::core
