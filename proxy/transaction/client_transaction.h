// ClientTransaction: RFC 3261 17.1 INVITE and non-INVITE client transactions (with RFC 6026's
// Accepted state) and the proxy's timer C, owned by the TransactionLayer of one worker.
#pragma once
#include <cstdint>
#include <string>

#include "common/timer_heap.h"
#include "proxy/sip/message.h"
#include "proxy/transaction/types.h"

namespace strowger::proxy::transaction {

class TransactionLayer;

class ClientTransaction final : public common::TimerClient {
 public:
  enum class State { kCalling, kProceeding, kCompleted, kAccepted, kTerminated };

  // request must already carry the proxy's Via with branch on top.
  ClientTransaction(TransactionLayer& layer, std::string key, sip::Message&& request,
                    const transport::Peer& to, bool internal);
  ~ClientTransaction() override;

  // Per-transaction overrides of timer B/F and timer C (the script's t_set_fr); 0 keeps the
  // configured value. Before start().
  void set_timeouts(int final_ms, int timer_c_ms) {
    final_ms_ = final_ms;
    timer_c_ms_ = timer_c_ms;
  }
  void start();
  // RFC 3261 9.1: sends a CANCEL now if a provisional response came, else as soon as one does.
  void cancel();
  // Ends the transaction as if it had failed with status (timer C without a provisional: 408).
  void abandon(int status) { fail(status); }

  bool is_invite() const { return invite_; }
  State state() const { return state_; }
  const std::string& key() const { return key_; }
  const std::string& branch() const { return branch_; }
  sip::Message& request() { return request_; }
  const transport::Peer& destination() const { return to_; }
  std::uint64_t connection_id() const { return connection_id_; }
  bool provisional_received() const { return provisional_; }
  bool cancel_requested() const { return cancel_requested_; }
  int final_status() const { return final_status_; }

  // Called by the layer.
  void on_response(sip::Message& response);
  void on_transport_failure();
  void on_timer(int kind) override;

  void* user_data = nullptr;  // the transaction user's context

 private:
  enum TimerKind { kTimerA, kTimerB, kTimerC, kTimerD, kTimerE, kTimerF, kTimerK, kTimerM, kCancelWait };
  void terminate();
  void stop_timers();
  void fail(int status);
  void transmit(std::string_view bytes);
  void send_ack(sip::Message& response);
  void send_cancel();

  TransactionLayer& layer_;
  std::string key_;
  std::string branch_;
  sip::Message request_;
  transport::Peer to_;
  bool invite_;
  bool internal_;  // a CANCEL the layer made itself: its responses go nowhere
  State state_ = State::kCalling;
  std::uint64_t connection_id_ = 0;
  bool provisional_ = false;
  bool cancel_requested_ = false;
  bool cancel_sent_ = false;
  int final_status_ = 0;
  int retransmit_ms_ = 0;
  int final_ms_ = 0;    // 0: 64*T1
  int timer_c_ms_ = 0;  // 0: the configured timer C
  std::string ack_;  // the ACK sent for a non-2xx final, resent on retransmissions
  common::Timer timer_a_{this, kTimerA};  // A, or E for non-INVITE
  common::Timer timer_b_{this, kTimerB};  // B, or F for non-INVITE
  common::Timer timer_c_{this, kTimerC};
  common::Timer timer_d_{this, kTimerD};  // D, or K for non-INVITE
  common::Timer timer_m_{this, kTimerM};
  common::Timer cancel_wait_{this, kCancelWait};
};

}  // namespace strowger::proxy::transaction
