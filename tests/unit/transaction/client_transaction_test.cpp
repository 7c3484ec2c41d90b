// Unit tests for the INVITE client transaction (RFC 3261 17.1.1 with RFC 6026), timer C (16.6)
// and CANCEL (9.1).
#include "proxy/transaction/client_transaction.h"

#include <gtest/gtest.h>

#include "tests/unit/transaction/test_support.h"

namespace strowger::proxy::transaction::test {
namespace {

using State = ClientTransaction::State;
using transport::Protocol;

TEST_F(ClientTest, InviteTimerARetransmitsUntilTimerB) {
  ClientTransaction& ct = start();
  EXPECT_TRUE(ct.is_invite());
  EXPECT_EQ(ct.branch(), branch_);
  EXPECT_EQ(ct.state(), State::kCalling);
  run_until(64 * kT1 - 1);
  // A doubles with no cap (RFC 3261 17.1.1.2).
  std::vector<std::int64_t> expected = {0, 500, 1500, 3500, 7500, 15500, 31500};
  EXPECT_EQ(sender_.times_of("INVITE "), expected);
  EXPECT_TRUE(user_.failures.empty());
  run_until(64 * kT1);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].first, &ct);
  EXPECT_EQ(user_.failures[0].second, 408);
  ASSERT_EQ(user_.clients_gone.size(), 1u);
  EXPECT_EQ(layer_.client_count(), 0u);
  EXPECT_EQ(layer_.stats().client_timeouts, 1u);
  EXPECT_EQ(heap_.size(), 0u);  // timer C went with it
}

TEST_F(ClientTest, InviteOverTcpIsNotRetransmitted) {
  ClientTransaction& ct = start("INVITE", Protocol::kTcp);
  EXPECT_EQ(ct.connection_id(), sender_.reliable_connection_id);
  run_until(64 * kT1);
  EXPECT_EQ(sender_.count_of("INVITE "), 1u);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].second, 408);
}

TEST_F(ClientTest, ProvisionalStopsTimersAAndB) {
  ClientTransaction& ct = start();
  run_until(700);
  respond(100);
  EXPECT_EQ(ct.state(), State::kProceeding);
  EXPECT_TRUE(user_.responses.empty());  // 100 is hop by hop
  respond(180, "t1");
  EXPECT_EQ(response_statuses(), std::vector<int>{180});
  EXPECT_EQ(user_.responses[0].ct, &ct);
  run_until(64 * kT1 + 1000);
  EXPECT_EQ(sender_.count_of("INVITE "), 2u);  // the first send and one retransmission at T1
  EXPECT_TRUE(user_.failures.empty());
  EXPECT_EQ(layer_.client_count(), 1u);
}

TEST_F(ClientTest, TimerCFiresAndIsResetByProvisionals) {
  ClientTransaction& ct = start();
  respond(100);  // stops B; C keeps running from the start
  advance(100000);
  respond(180, "t1");  // resets C to 100000 + 180000
  run_until(settings_.timer_c_ms + 1000);
  EXPECT_TRUE(user_.timer_c.empty());
  respond(100);  // 100 does not reset C (RFC 3261 16.7 step 2: only > 100)
  run_until(100000 + settings_.timer_c_ms - 1);
  EXPECT_TRUE(user_.timer_c.empty());
  run_until(100000 + settings_.timer_c_ms);
  ASSERT_EQ(user_.timer_c.size(), 1u);
  EXPECT_EQ(user_.timer_c[0], &ct);
  EXPECT_EQ(layer_.client_count(), 1u);  // the user decides (CANCEL or 408)
}

TEST_F(ClientTest, TimerCWithoutProvisionalUserAbandons) {
  settings_.timer_c_ms = 10000;
  TransactionLayer layer(heap_, sender_, user_, settings_, 1);
  std::string branch = layer.new_branch("x");
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 198.51.100.1:5060;branch=" + branch;
  ClientTransaction& ct =
      layer.start_client(parse(request_text(spec)), peer("192.0.2.20", 5060), nullptr);
  user_.on_timer_c_hook = [](ClientTransaction& c) { c.abandon(408); };
  clock_.advance(10000);
  heap_.run_due();
  ASSERT_EQ(user_.timer_c.size(), 1u);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].first, &ct);
  EXPECT_EQ(user_.failures[0].second, 408);
  layer.collect();
  EXPECT_EQ(layer.client_count(), 0u);
}

TEST_F(ClientTest, NonTwoHundredFinalIsAckedAndPassedUpOnce) {
  ClientTransaction& ct = start();
  respond(180, "callee");
  respond(486, "callee");
  EXPECT_EQ(ct.state(), State::kCompleted);
  EXPECT_EQ(ct.final_status(), 486);
  EXPECT_EQ(response_statuses(), (std::vector<int>{180, 486}));

  std::vector<Sent> acks = sent_with("ACK ");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].to.remote.to_string(), "192.0.2.20:5060");
  sip::Message ack = acks[0].message();
  EXPECT_EQ(ack.method(), sip::Method::kAck);
  EXPECT_EQ(ack.request_uri().to_string(), "sip:bob@192.0.2.20:5060;transport=udp");
  ASSERT_EQ(ack.via_count(), 1u);  // only our Via (RFC 3261 17.1.1.3)
  EXPECT_EQ(ack.via(0)->branch, branch_);
  EXPECT_EQ(ack.to_tag(), "callee");
  EXPECT_EQ(ack.from_tag(), "ft1");
  EXPECT_EQ(ack.call_id(), "call-1@192.0.2.10");
  EXPECT_EQ(ack.cseq(), 1u);
  EXPECT_EQ(ack.cseq_method(), sip::Method::kAck);
  std::vector<sip::Uri> routes = ack.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].to_string(), "sip:edge1.example.com;lr");
  EXPECT_EQ(routes[1].to_string(), "sip:edge2.example.com;lr");

  // A retransmitted final: the same ACK again, nothing new for the user.
  respond(486, "callee");
  acks = sent_with("ACK ");
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1].bytes, acks[0].bytes);
  EXPECT_EQ(response_statuses(), (std::vector<int>{180, 486}));

  // Timer D (>= 32 s on UDP) ends it.
  run_until(32000 - 1);
  EXPECT_TRUE(user_.clients_gone.empty());
  run_until(32000);
  ASSERT_EQ(user_.clients_gone.size(), 1u);
  EXPECT_TRUE(user_.failures.empty());
}

TEST_F(ClientTest, AckAndCancelCarryOnlyTheTopViaOfACombinedHeader) {
  branch_ = layer_.new_branch("t");
  via_ = "SIP/2.0/UDP 198.51.100.1:5060;branch=" + branch_;
  method_ = "INVITE";
  RequestSpec spec;
  spec.via = via_ + ", SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-uac1";
  ClientTransaction& ct =
      layer_.start_client(parse(request_text(spec)), peer("192.0.2.20", 5060), nullptr);
  respond(180, "x");
  ct.cancel();
  respond(487, "x");
  for (std::string_view prefix : {"ACK ", "CANCEL "}) {
    std::vector<Sent> s = sent_with(prefix);
    ASSERT_EQ(s.size(), 1u) << prefix;
    sip::Message m = s[0].message();
    EXPECT_EQ(m.via_count(), 1u) << prefix;
    EXPECT_EQ(m.via(0)->branch, branch_) << prefix;
    EXPECT_TRUE(m.routes().empty()) << prefix;
  }
}

TEST_F(ClientTest, FinalOverTcpEndsAtOnce) {
  start("INVITE", Protocol::kTcp);
  respond(404, "x");
  EXPECT_EQ(sender_.count_of("ACK "), 1u);
  EXPECT_EQ(sent_with("ACK ")[0].to.connection_id, sender_.reliable_connection_id);
  run_until(0);
  EXPECT_EQ(user_.clients_gone.size(), 1u);
}

TEST_F(ClientTest, TwoHundredMovesToAcceptedAndEveryTwoHundredGoesUp) {
  ClientTransaction& ct = start();
  respond(200, "fork1");
  EXPECT_EQ(ct.state(), State::kAccepted);
  respond(200, "fork1");  // retransmission
  respond(200, "fork2");  // another fork
  respond(486, "fork3");  // a non-2xx after a 2xx is dropped
  EXPECT_EQ(response_statuses(), (std::vector<int>{200, 200, 200}));
  EXPECT_EQ(user_.responses[2].to_tag, "fork2");
  EXPECT_EQ(sender_.count_of("ACK "), 0u);  // 2xx ACKs are end to end
  run_until(64 * kT1 - 1);
  EXPECT_EQ(sender_.count_of("INVITE "), 1u);
  EXPECT_TRUE(user_.clients_gone.empty());
  run_until(64 * kT1);  // timer M
  EXPECT_EQ(user_.clients_gone.size(), 1u);
  EXPECT_TRUE(user_.failures.empty());
}

TEST_F(ClientTest, CancelBeforeProvisionalWaitsForIt) {
  ClientTransaction& ct = start();
  ct.cancel();
  EXPECT_TRUE(ct.cancel_requested());
  run_until(400);
  EXPECT_EQ(sender_.count_of("CANCEL "), 0u);
  respond(100);
  std::vector<Sent> cancels = sent_with("CANCEL ");
  ASSERT_EQ(cancels.size(), 1u);
  sip::Message cancel = cancels[0].message();
  EXPECT_EQ(cancel.request_uri().to_string(), "sip:bob@192.0.2.20:5060;transport=udp");
  ASSERT_EQ(cancel.via_count(), 1u);
  EXPECT_EQ(cancel.via(0)->branch, branch_);
  EXPECT_EQ(cancel.cseq(), 1u);
  EXPECT_EQ(cancel.cseq_method(), sip::Method::kCancel);
  EXPECT_TRUE(cancel.to_tag().empty());  // To as in the request (RFC 3261 9.1)
  EXPECT_EQ(cancel.routes().size(), 2u);
  EXPECT_EQ(cancels[0].to.remote.to_string(), "192.0.2.20:5060");
  // A second cancel() does not send another CANCEL.
  ct.cancel();
  respond(180, "t");
  EXPECT_EQ(sender_.count_of("CANCEL "), 1u);
}

TEST_F(ClientTest, CancelAfterProvisionalIsSentAtOnceAndItsResponseStaysInside) {
  ClientTransaction& ct = start();
  respond(180, "callee");
  ct.cancel();
  ASSERT_EQ(sender_.count_of("CANCEL "), 1u);
  EXPECT_EQ(layer_.client_count(), 2u);  // the CANCEL is its own transaction
  respond(200, "callee", "CANCEL");
  EXPECT_EQ(response_statuses(), std::vector<int>{180});  // the CANCEL's 200 is ours
  EXPECT_TRUE(user_.stray_responses.empty());
  respond(487, "callee");
  EXPECT_EQ(response_statuses(), (std::vector<int>{180, 487}));
  EXPECT_EQ(sender_.count_of("ACK "), 1u);
  EXPECT_TRUE(user_.failures.empty());
}

TEST_F(ClientTest, CancelRetransmittedOverUdp) {
  ClientTransaction& ct = start();
  advance(100);
  respond(180, "callee");
  ct.cancel();
  run_until(100 + kT1 + 1);
  EXPECT_EQ(sender_.count_of("CANCEL "), 2u);  // timer E of the CANCEL
}

TEST_F(ClientTest, NoFinalAfterCancelFailsWith487) {
  ClientTransaction& ct = start();
  advance(1000);
  respond(180, "callee");
  ct.cancel();
  respond(200, "callee", "CANCEL");
  run_until(1000 + 64 * kT1 - 1);
  EXPECT_TRUE(user_.failures.empty());
  run_until(1000 + 64 * kT1);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].first, &ct);
  EXPECT_EQ(user_.failures[0].second, 487);
}

TEST_F(ClientTest, CancelAfterFinalSendsNothing) {
  ClientTransaction& ct = start();
  respond(486, "callee");
  ct.cancel();
  respond(180, "callee");
  EXPECT_EQ(sender_.count_of("CANCEL "), 0u);
  EXPECT_FALSE(ct.cancel_requested());
}

TEST_F(ClientTest, SendFailureIs503) {
  sender_.fail_next = 1;
  ClientTransaction& ct = start();
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].first, &ct);
  EXPECT_EQ(user_.failures[0].second, 503);
  EXPECT_EQ(ct.state(), State::kTerminated);
  layer_.collect();
  EXPECT_EQ(layer_.client_count(), 0u);
  EXPECT_EQ(heap_.size(), 0u);
}

TEST_F(ClientTest, RetransmissionFailureIs503) {
  start();
  sender_.fail_all = true;
  run_until(kT1);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].second, 503);
  EXPECT_EQ(heap_.size(), 0u);
}

TEST_F(ClientTest, AckSendFailureStillPassesTheFinalUpBeforeGone) {
  // The final arrived: a lost ACK is repaired by the peer's retransmission of the final; the user
  // must still get the response, and never after it was told the transaction is gone.
  ClientTransaction& ct = start();
  sender_.fail_next = 1;
  respond(486, "callee");
  ASSERT_EQ(response_statuses(), std::vector<int>{486});
  EXPECT_EQ(user_.responses[0].ct, &ct);
  EXPECT_TRUE(user_.failures.empty());
  // A retransmitted final gets its ACK this time.
  if (!user_.is_gone(&ct)) {
    respond(486, "callee");
    EXPECT_EQ(sender_.count_of("ACK "), 1u);
  }
  run_until(64 * kT1);
  EXPECT_EQ(user_.clients_gone.size(), 1u);
}

TEST_F(ClientTest, ConnectionClosedFailsReliableTransactions) {
  ClientTransaction& ct = start("INVITE", Protocol::kTcp);
  respond(180, "x");
  layer_.connection_closed(sender_.reliable_connection_id + 1);  // another connection
  EXPECT_TRUE(user_.failures.empty());
  layer_.connection_closed(sender_.reliable_connection_id);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].first, &ct);
  EXPECT_EQ(user_.failures[0].second, 503);
  layer_.collect();
  EXPECT_EQ(layer_.client_count(), 0u);
}

TEST_F(ClientTest, ConnectionClosedIgnoresUdp) {
  start();
  layer_.connection_closed(1);  // the FakeSender's UDP "connection" id
  EXPECT_TRUE(user_.failures.empty());
}

}  // namespace
}  // namespace strowger::proxy::transaction::test
