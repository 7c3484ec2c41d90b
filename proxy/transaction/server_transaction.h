// ServerTransaction: RFC 3261 17.2 INVITE and non-INVITE server transactions (with RFC 6026's
// Accepted state), owned by the TransactionLayer of one worker.
#pragma once
#include <cstdint>
#include <string>

#include "common/timer_heap.h"
#include "proxy/sip/message.h"
#include "proxy/transaction/types.h"

namespace strowger::proxy::transaction {

class TransactionLayer;

// RFC 3261 18.2.2 (+ RFC 3581): where the responses to a request go.
transport::Peer response_destination(const sip::Message& request, const transport::Peer& from);

class ServerTransaction final : public common::TimerClient {
 public:
  enum class State { kTrying, kProceeding, kCompleted, kConfirmed, kAccepted, kTerminated };

  ServerTransaction(TransactionLayer& layer, std::string key, sip::Message&& request,
                    const transport::Peer& from);
  ~ServerTransaction() override;

  bool is_invite() const { return invite_; }
  State state() const { return state_; }
  const std::string& key() const { return key_; }
  sip::Message& request() { return request_; }
  const transport::Peer& source() const { return source_; }
  int last_status() const { return last_status_; }
  bool final_sent() const { return last_status_ >= 200; }
  // The To tag the proxy uses in its own replies on this transaction.
  const std::string& local_tag() const { return local_tag_; }

  // Sends a response (already serialized, top Via = the requester's) and moves the state machine.
  // A final response after a final is only legal for 2xx to INVITE (forked 2xx, RFC 6026).
  void send_response(std::string_view bytes, int status);
  // Builds a reply from the request (RFC 3261 8.2.6) and sends it.
  void reply(int status, std::string_view reason, std::string_view extra_headers = {});

  // Called by the layer.
  void on_retransmission();
  void on_ack();
  void on_timer(int kind) override;

  void* user_data = nullptr;  // the transaction user's context

 private:
  enum TimerKind { kTimerG, kTimerH, kTimerI, kTimerJ, kTimerL };
  void terminate();
  void transmit(std::string_view bytes);

  TransactionLayer& layer_;
  std::string key_;
  sip::Message request_;
  transport::Peer source_;
  transport::Peer reply_to_;  // RFC 3261 18.2.2
  bool invite_;
  State state_;
  int last_status_ = 0;
  std::string last_response_;
  std::string local_tag_;
  int g_interval_ms_ = 0;
  common::Timer timer_g_{this, kTimerG};
  common::Timer timer_h_{this, kTimerH};
  common::Timer timer_i_{this, kTimerI};
  common::Timer timer_j_{this, kTimerJ};
  common::Timer timer_l_{this, kTimerL};
};

}  // namespace strowger::proxy::transaction
