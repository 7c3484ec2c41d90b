// Shared types of the transaction layer: timer settings, the sender below it, the user above it.
#pragma once
#include <cstdint>
#include <string_view>

#include "proxy/sip/message.h"
#include "proxy/transport/address.h"

namespace strowger::proxy::transaction {

struct TimerSettings {
  int t1_ms = 500;
  int t2_ms = 4000;
  int t4_ms = 5000;
  int timer_c_ms = 180000;
  int timer_b_ms() const { return 64 * t1_ms; }  // also F, H, J, L, M
  int timer_d_ms() const { return 64 * t1_ms > 32000 ? 64 * t1_ms : 32000; }
};

// Below the layer: puts serialized messages on the wire.
class Sender {
 public:
  virtual ~Sender() = default;
  // Returns the connection id used (1 for UDP), or 0 when the message could not be sent.
  virtual std::uint64_t send(const transport::Peer& to, std::string_view bytes) = 0;
};

class ServerTransaction;
class ClientTransaction;
class TransactionLayer;

// Above the layer: the proxy core (RFC 3261's "transaction user").
class TransactionUser {
 public:
  virtual ~TransactionUser() = default;
  // A request that matched no transaction (never ACK, never CANCEL). By default a server
  // transaction is created for it at once and on_request follows; a user that decides first
  // (the routing script: stateless replies need no transaction) overrides this and calls
  // layer.create_server() when it wants one.
  virtual void on_new_request(TransactionLayer& layer, sip::Message& request,
                              const transport::Peer& from);
  // A request that starts a new server transaction (never ACK).
  virtual void on_request(ServerTransaction& st, sip::Message& request) = 0;
  // A CANCEL that matched a pending INVITE server transaction. The layer has already answered
  // the CANCEL with 200.
  virtual void on_cancel(ServerTransaction& invite_st) = 0;
  // An ACK that matched no INVITE server transaction (an ACK for a 2xx): forwarded statelessly.
  virtual void on_stray_ack(sip::Message& ack, const transport::Peer& from) = 0;
  // A response for a client transaction that must go up: provisional (not 100), the first final,
  // and every 2xx (retransmitted 2xx of an INVITE too, RFC 6026).
  virtual void on_response(ClientTransaction& ct, sip::Message& response) = 0;
  // The client transaction ended without a response: 408 (timer B/F) or 503 (transport).
  virtual void on_client_failure(ClientTransaction& ct, int status) = 0;
  // Timer C fired on a proxied INVITE (RFC 3261 16.6 step 11).
  virtual void on_timer_c(ClientTransaction& ct) = 0;
  // A response that matched no client transaction.
  virtual void on_stray_response(sip::Message& response, const transport::Peer& from) = 0;
  // The transaction is about to be destroyed: drop every pointer to it.
  virtual void on_server_gone(ServerTransaction& st) = 0;
  virtual void on_client_gone(ClientTransaction& ct) = 0;
};

}  // namespace strowger::proxy::transaction
