// ServerTransaction state machines (RFC 3261 17.2.1, 17.2.2; RFC 6026 Accepted state).
#include "proxy/transaction/server_transaction.h"

#include <algorithm>

#include "common/log.h"
#include "proxy/transaction/transaction_layer.h"

namespace strowger::proxy::transaction {
transport::Peer response_destination(const sip::Message& request, const transport::Peer& from) {
  transport::Peer to = from;
  if (transport::is_reliable(from.proto)) return to;  // same connection (or a new one to the source)
  std::optional<sip::Via> via = request.via(0);
  if (!via) return to;
  if (!via->maddr.empty()) {
    if (auto maddr = transport::Address::from_ip_port(via->maddr, via->port ? via->port : 5060)) {
      to.remote = *maddr;
      return to;
    }
  }
  if (via->has_rport) return to;  // source address and port (RFC 3581)
  to.remote.set_port(via->port ? via->port : 5060);
  return to;
}

ServerTransaction::ServerTransaction(TransactionLayer& layer, std::string key,
                                     sip::Message&& request, const transport::Peer& from)
    : layer_(layer),
      key_(std::move(key)),
      request_(std::move(request)),
      source_(from),
      reply_to_(response_destination(request_, from)),
      invite_(request_.method() == sip::Method::kInvite),
      state_(invite_ ? State::kProceeding : State::kTrying),
      local_tag_(layer.new_tag()) {}

ServerTransaction::~ServerTransaction() = default;

void ServerTransaction::transmit(std::string_view bytes) {
  if (layer_.sender().send(reply_to_, bytes) == 0) {
    LOG_DEBUG("server transaction %s: response could not be sent to %s", key_.c_str(),
              reply_to_.remote.to_string().c_str());
  }
}

void ServerTransaction::send_response(std::string_view bytes, int status) {
  if (state_ == State::kTerminated || state_ == State::kConfirmed) return;
  if (state_ == State::kCompleted) return;  // a final was sent; only retransmissions of it now
  if (state_ == State::kAccepted && !(status >= 200 && status < 300)) return;
  const TimerSettings& t = layer_.settings();
  const bool reliable = transport::is_reliable(reply_to_.proto);
  transmit(bytes);
  if (status < 200) {
    last_status_ = status;
    last_response_.assign(bytes);
    if (state_ == State::kTrying) state_ = State::kProceeding;
    return;
  }
  last_status_ = status;
  last_response_.assign(bytes);
  if (invite_ && status < 300) {
    if (state_ != State::kAccepted) {
      state_ = State::kAccepted;
      layer_.timers().arm(timer_l_, t.timer_b_ms());
    }
    return;
  }
  state_ = State::kCompleted;
  if (invite_) {
    if (!reliable) {
      g_interval_ms_ = t.t1_ms;
      layer_.timers().arm(timer_g_, g_interval_ms_);
    }
    layer_.timers().arm(timer_h_, t.timer_b_ms());
  } else {
    layer_.timers().arm(timer_j_, reliable ? 0 : t.timer_b_ms());
  }
}

void ServerTransaction::reply(int status, std::string_view reason, std::string_view extra_headers) {
  std::string bytes = request_.make_response(status, reason, status == 100 ? "" : local_tag_,
                                             extra_headers);
  send_response(bytes, status);
}

void ServerTransaction::on_retransmission() {
  // Proceeding and Completed resend the last response; Trying, Confirmed and Accepted absorb.
  if ((state_ == State::kProceeding || state_ == State::kCompleted) && !last_response_.empty()) {
    transmit(last_response_);
  }
}

void ServerTransaction::on_ack() {
  if (!invite_ || state_ != State::kCompleted) return;
  state_ = State::kConfirmed;
  layer_.timers().disarm(timer_g_);
  layer_.timers().disarm(timer_h_);
  layer_.timers().arm(timer_i_,
                      transport::is_reliable(reply_to_.proto) ? 0 : layer_.settings().t4_ms);
}

void ServerTransaction::on_timer(int kind) {
  const TimerSettings& t = layer_.settings();
  switch (kind) {
    case kTimerG:
      if (state_ != State::kCompleted) return;
      transmit(last_response_);
      g_interval_ms_ = std::min(2 * g_interval_ms_, t.t2_ms);
      layer_.timers().arm(timer_g_, g_interval_ms_);
      return;
    case kTimerH:  // no ACK came
      LOG_DEBUG("server transaction %s: timer H, no ACK for %d", key_.c_str(), last_status_);
      terminate();
      return;
    case kTimerI:
    case kTimerJ:
    case kTimerL:
      terminate();
      return;
    default:
      return;
  }
}

void ServerTransaction::terminate() {
  if (state_ == State::kTerminated) return;
  state_ = State::kTerminated;
  layer_.timers().disarm(timer_g_);
  layer_.timers().disarm(timer_h_);
  layer_.timers().disarm(timer_i_);
  layer_.timers().disarm(timer_j_);
  layer_.timers().disarm(timer_l_);
  layer_.server_terminated(*this);
}

}  // namespace strowger::proxy::transaction
