// Host: what the routing script needs from the proxy core for one message (implemented per
// request).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/sip/message.h"
#include "sipproxy/script.h"

namespace strowger::proxy::script::engine {

struct Peer {
  std::string proto;  // lower case: "udp", "tcp", "tls", "ws", "wss", "sctp"
  std::string ip;     // IPv6 without brackets
  std::uint16_t port = 0;
};

enum class ReplyMode : std::uint8_t {
  kStateless,  // sl_send_reply, sl_reply_error
  kStateful,   // t_reply: creates the transaction when there is none
  kAuto,       // send_reply: stateful when a transaction exists, else stateless
};

// Everything t_relay() hands to the core. Route ids are indices into Program::routes (-1: none).
struct RelayRequest {
  std::string dst_uri;                // $du; empty: next hop from the Request-URI (or Route)
  std::vector<std::string> path;  // the Request-URI branch's Path (lookup of a contact with Path)
  std::uint64_t connection_id = 0;  // the Request-URI branch's connection (sipproxy::Branch)
  bool flow = false;
  std::vector<sipproxy::Branch> branches;  // additional branches (append_branch, lookup)
  int failure_route = -1;
  int onreply_route = -1;
  int branch_route = -1;
  unsigned fr_timer_ms = 0;  // t_set_fr; 0: the configured default
  unsigned fr_inv_timer_ms = 0;
  std::string proto;  // t_relay_to_udp etc.: forced transport; empty: from the URI/$du
  std::string host;   // t_relay("host", port): explicit next hop; empty otherwise
  std::uint16_t port = 0;
};

// forward(): stateless forwarding. Empty host: to $du, else the Request-URI.
struct ForwardRequest {
  std::string dst_uri;
  std::string host;
  std::uint16_t port = 0;
  std::string proto;
};

// Log levels as Kamailio's L_* (L_ALERT -5 ... L_DBG 3).
enum LogLevel : int {
  kLogAlert = -5,
  kLogBug = -4,
  kLogCrit = -3,
  kLogErr = -1,
  kLogWarn = 0,
  kLogNotice = 1,
  kLogInfo = 2,
  kLogDebug = 3
};

// Return values follow Kamailio's functions: > 0 true, < 0 false, 0 stops the script.
class Host {
 public:
  virtual ~Host() = default;

  virtual sip::Message& message() = 0;
  virtual Peer source() const = 0;  // $si $sp $proto
  virtual Peer local() const = 0;   // $Ri $Rp (the socket the message came in on)
  // True when host[:port] is one of ours (listen addresses, advertised addresses, aliases).
  // port 0 matches any of our ports.
  virtual bool is_myself(std::string_view host, std::uint16_t port) const = 0;

  virtual int reply(int code, std::string_view reason, ReplyMode mode) = 0;
  // A reply with extra header lines ("Name: value\r\n"...), for module functions (registrar
  // 200 with Contact, auth challenges).
  virtual int reply_with_headers(int code, std::string_view reason, std::string_view headers,
                                 ReplyMode mode) = 0;
  // sl_reply_error: answers with the last internal error (why t_relay failed); 500 without one.
  virtual int reply_error() { return reply(500, "Server Internal Error", ReplyMode::kStateless); }
  virtual int relay(const RelayRequest& request) = 0;
  virtual int forward_stateless(const ForwardRequest& request) = 0;
  virtual int record_route(std::string_view params) = 0;
  virtual int record_route_preset(std::string_view uri, std::string_view uri2) = 0;
  // rr's add_rr_param(";p=v"): before or after record_route(), the Record-Route gets it.
  virtual int add_rr_param(std::string_view param) = 0;

  virtual int t_newtran() = 0;
  virtual int t_check_trans() = 0;     // Kamailio: for CANCEL/ACK, and retransmissions
  virtual int t_precheck_trans() = 0;  // 1 when another process handles this request
  virtual int t_is_canceled() = 0;
  // In failure_route / onreply_route: the reply being handled (0 when none), its branch.
  virtual int transaction_reply_code() const = 0;
  virtual int transaction_branch_index() const = 0;
  // t_is_branch_route(): the script runs in a branch_route.
  virtual bool in_branch_route() const { return false; }
  virtual int worker() const { return 0; }
  // The connection the message arrived on (0: UDP or none).
  virtual std::uint64_t connection_id() const { return 0; }

  virtual void log(int level, std::string_view text) = 0;
};

}  // namespace strowger::proxy::script::engine
