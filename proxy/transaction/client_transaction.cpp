// ClientTransaction state machines (RFC 3261 17.1.1, 17.1.2; RFC 6026 Accepted; 16.6/16.8 timer C;
// 9.1 CANCEL rules).
#include "proxy/transaction/client_transaction.h"

#include <algorithm>

#include "common/log.h"
#include "proxy/transaction/transaction_layer.h"

namespace strowger::proxy::transaction {
namespace {

// The parts an ACK or CANCEL copies from the request (RFC 3261 17.1.1.3, 9.1).
std::string hop_request(sip::Message& request, std::string_view method, std::string_view to) {
  std::string out;
  out.reserve(512);
  out.append(method).append(" ").append(request.request_uri().to_string()).append(" SIP/2.0\r\n");
  std::vector<std::string> vias = request.header_values("Via");
  if (!vias.empty()) out.append("Via: ").append(vias.front()).append("\r\n");
  for (const std::string& r : request.header_values("Route")) out.append("Route: ").append(r).append("\r\n");
  out.append("Max-Forwards: 70\r\n");
  std::vector<std::string> from = request.header_values("From");
  if (!from.empty()) out.append("From: ").append(from.front()).append("\r\n");
  out.append("To: ").append(to).append("\r\n");
  out.append("Call-ID: ").append(request.call_id()).append("\r\n");
  out.append("CSeq: ").append(std::to_string(request.cseq())).append(" ").append(method).append("\r\n");
  out.append("Content-Length: 0\r\n\r\n");
  return out;
}

}  // namespace

ClientTransaction::ClientTransaction(TransactionLayer& layer, std::string key,
                                     sip::Message&& request, const transport::Peer& to,
                                     bool internal)
    : layer_(layer),
      key_(std::move(key)),
      request_(std::move(request)),
      to_(to),
      invite_(request_.method() == sip::Method::kInvite),
      internal_(internal) {
  if (auto via = request_.via(0)) branch_ = via->branch;
}

ClientTransaction::~ClientTransaction() = default;

void ClientTransaction::transmit(std::string_view bytes) {
  std::uint64_t id = layer_.sender().send(to_, bytes);
  if (id == 0) {
    // Only a request still waiting for its final fails. A lost ACK is repaired when the peer
    // retransmits the final; failing then would end the transaction before the final goes up.
    if (state_ == State::kCalling || state_ == State::kProceeding) fail(503);
    return;
  }
  connection_id_ = id;
  if (transport::is_reliable(to_.proto)) to_.connection_id = id;
}

void ClientTransaction::start() {
  const TimerSettings& t = layer_.settings();
  const bool reliable = transport::is_reliable(to_.proto);
  retransmit_ms_ = t.t1_ms;
  if (!reliable) layer_.timers().arm(timer_a_, retransmit_ms_);
  layer_.timers().arm(timer_b_, final_ms_ ? final_ms_ : t.timer_b_ms());
  if (invite_ && !internal_) layer_.timers().arm(timer_c_, timer_c_ms_ ? timer_c_ms_ : t.timer_c_ms);
  transmit(request_.wire());
}

void ClientTransaction::on_timer(int kind) {
  const TimerSettings& t = layer_.settings();
  switch (kind) {
    case kTimerA:  // A (INVITE: doubles without cap) or E (non-INVITE: capped at T2)
      if (state_ != State::kCalling && !(state_ == State::kProceeding && !invite_)) return;
      transmit(request_.wire());
      if (state_ == State::kTerminated) return;
      retransmit_ms_ = invite_ ? 2 * retransmit_ms_
                               : (state_ == State::kProceeding ? t.t2_ms
                                                               : std::min(2 * retransmit_ms_, t.t2_ms));
      layer_.timers().arm(timer_a_, retransmit_ms_);
      return;
    case kTimerB:  // B or F: no final response
      layer_.count_timeout();
      fail(408);
      return;
    case kTimerC:
      if (state_ == State::kCalling || state_ == State::kProceeding) layer_.user().on_timer_c(*this);
      return;
    case kCancelWait:  // RFC 3261 9.1: no final response 64*T1 after the CANCEL
      if (state_ == State::kCalling || state_ == State::kProceeding) fail(487);
      return;
    case kTimerD:
    case kTimerM:
      terminate();
      return;
    default:
      return;
  }
}

void ClientTransaction::on_response(sip::Message& response) {
  const int status = response.status();
  const TimerSettings& t = layer_.settings();
  const bool reliable = transport::is_reliable(to_.proto);
  switch (state_) {
    case State::kCalling:
    case State::kProceeding:
      if (status < 200) {
        if (state_ == State::kCalling) {
          state_ = State::kProceeding;
          if (invite_) {
            layer_.timers().disarm(timer_a_);
            layer_.timers().disarm(timer_b_);
          } else if (!reliable) {
            retransmit_ms_ = t.t2_ms;
            layer_.timers().arm(timer_a_, retransmit_ms_);
          }
        }
        provisional_ = true;
        if (invite_ && status > 100 && !internal_) layer_.timers().arm(timer_c_, timer_c_ms_ ? timer_c_ms_ : t.timer_c_ms);
        if (cancel_requested_ && !cancel_sent_) send_cancel();
        if (status > 100 && !internal_) layer_.user().on_response(*this, response);
        return;
      }
      final_status_ = status;
      layer_.timers().disarm(timer_a_);
      layer_.timers().disarm(timer_b_);
      layer_.timers().disarm(timer_c_);
      layer_.timers().disarm(cancel_wait_);
      if (invite_ && status < 300) {
        state_ = State::kAccepted;
        layer_.timers().arm(timer_m_, t.timer_b_ms());
      } else if (invite_) {
        state_ = State::kCompleted;
        send_ack(response);
        layer_.timers().arm(timer_d_, reliable ? 0 : t.timer_d_ms());
      } else {
        state_ = State::kCompleted;
        layer_.timers().arm(timer_d_, reliable ? 0 : t.t4_ms);  // timer K
      }
      if (!internal_) layer_.user().on_response(*this, response);
      return;
    case State::kAccepted:  // RFC 6026: every 2xx goes up, the proxy forwards it
      if (status >= 200 && status < 300 && !internal_) layer_.user().on_response(*this, response);
      return;
    case State::kCompleted:
      if (invite_ && status >= 300 && !ack_.empty()) transmit(ack_);  // retransmitted final
      return;
    case State::kTerminated:
      return;
  }
}

void ClientTransaction::send_ack(sip::Message& response) {
  std::vector<std::string> to = response.header_values("To");
  ack_ = hop_request(request_, "ACK", to.empty() ? std::string() : to.front());
  transmit(ack_);
}

void ClientTransaction::cancel() {
  if (!invite_ || internal_ || cancel_requested_) return;
  if (state_ != State::kCalling && state_ != State::kProceeding) return;
  cancel_requested_ = true;
  layer_.timers().arm(cancel_wait_, layer_.settings().timer_b_ms());
  if (provisional_) send_cancel();
}

void ClientTransaction::send_cancel() {
  cancel_sent_ = true;
  std::vector<std::string> to = request_.header_values("To");
  std::string text = hop_request(request_, "CANCEL", to.empty() ? std::string() : to.front());
  auto cancel = sip::Message::parse(text);
  if (!cancel) {
    LOG_WARN("could not build CANCEL for %s: %s", branch_.c_str(), cancel.error().message.c_str());
    return;
  }
  layer_.start_internal_client(std::move(cancel.value()), to_);
}

void ClientTransaction::on_transport_failure() {
  if (state_ == State::kCalling || state_ == State::kProceeding) fail(503);
}

void ClientTransaction::fail(int status) {
  if (state_ == State::kTerminated) return;
  const bool pending = state_ == State::kCalling || state_ == State::kProceeding;
  stop_timers();
  state_ = State::kTerminated;
  if (pending) final_status_ = status;
  // The user hears of the failure while the transaction is still in the table; then it goes.
  if (pending && !internal_) layer_.user().on_client_failure(*this, status);
  layer_.client_terminated(*this);
}

void ClientTransaction::stop_timers() {
  layer_.timers().disarm(timer_a_);
  layer_.timers().disarm(timer_b_);
  layer_.timers().disarm(timer_c_);
  layer_.timers().disarm(timer_d_);
  layer_.timers().disarm(timer_m_);
  layer_.timers().disarm(cancel_wait_);
}

void ClientTransaction::terminate() {
  if (state_ == State::kTerminated) return;
  stop_timers();
  state_ = State::kTerminated;
  layer_.client_terminated(*this);
}

}  // namespace strowger::proxy::transaction
