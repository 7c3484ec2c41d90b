// Unit tests for the server transactions (RFC 3261 17.2 with RFC 6026) and the response
// destination rules (RFC 3261 18.2.2, RFC 3581).
#include "proxy/transaction/server_transaction.h"

#include <gtest/gtest.h>

#include "tests/unit/transaction/test_support.h"

namespace strowger::proxy::transaction::test {
namespace {

using State = ServerTransaction::State;
using transport::Protocol;

class ServerInvite : public TransactionTest {
 protected:
  // An INVITE from a UDP client; returns its server transaction.
  ServerTransaction& invite(const transport::Peer& from = peer("192.0.2.10", 5060)) {
    receive_request(spec_, from);
    EXPECT_EQ(user_.requests.size(), 1u);
    return *user_.requests.back();
  }
  void send_ack() {
    RequestSpec ack = spec_;
    ack.method = "ACK";
    ack.to_tag = "totag";
    receive_request(ack, peer("192.0.2.10", 5060));
  }
  RequestSpec spec_;
};

TEST_F(ServerInvite, SendsTryingOnCreation) {
  ServerTransaction& st = invite();
  EXPECT_TRUE(st.is_invite());
  EXPECT_EQ(st.state(), State::kProceeding);
  ASSERT_EQ(sender_.sent.size(), 1u);
  sip::Message trying = sender_.sent[0].message();
  EXPECT_EQ(trying.status(), 100);
  EXPECT_EQ(trying.cseq_method(), sip::Method::kInvite);
  EXPECT_EQ(trying.via(0)->branch, "z9hG4bK-uac1");
  EXPECT_TRUE(trying.to_tag().empty());  // 100 carries no tag (RFC 3261 8.2.6.2)
  EXPECT_EQ(sender_.sent[0].to.remote.to_string(), "192.0.2.10:5060");
  EXPECT_EQ(user_.request_methods, std::vector<std::string>{"INVITE"});
  EXPECT_EQ(layer_.server_count(), 1u);
}

TEST_F(ServerInvite, RetransmissionResendsLastProvisional) {
  ServerTransaction& st = invite();
  receive_request(spec_, peer("192.0.2.10", 5060));
  ASSERT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(sender_.sent[1].message().status(), 100);

  st.reply(180, "Ringing");
  ASSERT_EQ(sender_.sent.size(), 3u);
  EXPECT_EQ(sender_.sent[2].message().status(), 180);
  EXPECT_EQ(sender_.sent[2].message().to_tag(), st.local_tag());
  receive_request(spec_, peer("192.0.2.10", 5060));
  ASSERT_EQ(sender_.sent.size(), 4u);
  EXPECT_EQ(sender_.sent[3].bytes, sender_.sent[2].bytes);
  EXPECT_EQ(user_.requests.size(), 1u);  // retransmissions never reach the user
  EXPECT_EQ(layer_.stats().retransmissions_absorbed, 2u);
}

TEST_F(ServerInvite, TimerGRetransmitsFinalUntilTimerH) {
  ServerTransaction& st = invite();
  sender_.sent.clear();
  st.reply(486, "Busy Here");
  EXPECT_EQ(st.state(), State::kCompleted);
  run_until(64 * kT1 + 1000);
  // Sent at 0, then G at T1, 2T1, 4T1, then every T2 until H (64*T1 = 32000).
  std::vector<std::int64_t> expected = {0,     500,   1500,  3500,  7500, 11500,
                                        15500, 19500, 23500, 27500, 31500};
  EXPECT_EQ(sender_.times_of("SIP/2.0 486"), expected);
  EXPECT_EQ(sender_.sent.size(), expected.size());
  ASSERT_EQ(user_.servers_gone.size(), 1u);
  EXPECT_EQ(user_.servers_gone[0], &st);
  EXPECT_EQ(layer_.server_count(), 0u);
  EXPECT_EQ(heap_.size(), 0u);
}

TEST_F(ServerInvite, AckStopsTimerGAndTimerITerminates) {
  ServerTransaction& st = invite();
  sender_.sent.clear();
  st.reply(486, "Busy Here");
  run_until(600);  // one G retransmission
  EXPECT_EQ(sender_.sent.size(), 2u);
  send_ack();
  EXPECT_EQ(st.state(), State::kConfirmed);
  EXPECT_TRUE(user_.stray_acks.empty());  // the ACK for a non-2xx stays in the transaction
  // Confirmed absorbs INVITE and ACK retransmissions.
  receive_request(spec_, peer("192.0.2.10", 5060));
  send_ack();
  EXPECT_EQ(sender_.sent.size(), 2u);
  EXPECT_TRUE(user_.stray_acks.empty());

  run_until(600 + kT4 - 1);
  EXPECT_TRUE(user_.servers_gone.empty());
  run_until(600 + kT4);
  EXPECT_EQ(sender_.sent.size(), 2u);  // no G after the ACK
  ASSERT_EQ(user_.servers_gone.size(), 1u);
  EXPECT_EQ(user_.servers_gone[0], &st);
  EXPECT_EQ(layer_.server_count(), 0u);
  EXPECT_EQ(heap_.size(), 0u);
}

TEST_F(ServerInvite, ReliableTransportHasNoTimerG) {
  spec_.via = "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-uac1";
  ServerTransaction& st = invite(peer("192.0.2.10", 40000, Protocol::kTcp, 9));
  ASSERT_EQ(sender_.sent.size(), 1u);
  EXPECT_EQ(sender_.sent[0].to.connection_id, 9u);  // back on the same connection
  EXPECT_EQ(sender_.sent[0].to.remote.to_string(), "192.0.2.10:40000");
  st.reply(486, "Busy Here");
  run_until(64 * kT1 - 1);
  EXPECT_EQ(sender_.count_of("SIP/2.0 486"), 1u);
  EXPECT_TRUE(user_.servers_gone.empty());
  run_until(64 * kT1);  // timer H still runs on TCP
  EXPECT_EQ(user_.servers_gone.size(), 1u);
}

TEST_F(ServerInvite, ReliableAckTerminatesAtOnce) {
  spec_.via = "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-uac1";
  ServerTransaction& st = invite(peer("192.0.2.10", 40000, Protocol::kTcp, 9));
  st.reply(603, "Decline");
  RequestSpec ack = spec_;
  ack.method = "ACK";
  receive_request(ack, peer("192.0.2.10", 40000, Protocol::kTcp, 9));
  run_until(0);  // timer I is 0 on reliable transports
  EXPECT_EQ(user_.servers_gone.size(), 1u);
}

TEST_F(ServerInvite, TwoHundredMovesToAcceptedRfc6026) {
  ServerTransaction& st = invite();
  st.reply(200, "OK");
  EXPECT_EQ(st.state(), State::kAccepted);
  const std::size_t sent = sender_.sent.size();
  // INVITE retransmissions are absorbed: the 2xx is retransmitted end to end, not by us.
  receive_request(spec_, peer("192.0.2.10", 5060));
  EXPECT_EQ(sender_.sent.size(), sent);
  EXPECT_EQ(user_.requests.size(), 1u);
  // Another 2xx (from another fork) still goes out; a non-2xx does not.
  std::string second = st.request().make_response(200, "OK", "othertag");
  st.send_response(second, 200);
  EXPECT_EQ(sender_.sent.size(), sent + 1);
  EXPECT_EQ(sender_.sent.back().bytes, second);
  st.reply(486, "Busy Here");
  st.reply(180, "Ringing");
  EXPECT_EQ(sender_.sent.size(), sent + 1);
  // The ACK for a 2xx is not the transaction's: it goes to the user.
  RequestSpec ack = spec_;
  ack.method = "ACK";
  ack.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ack2xx;rport";
  receive_request(ack, peer("192.0.2.10", 5060));
  EXPECT_EQ(user_.stray_acks, std::vector<std::string>{"z9hG4bK-ack2xx"});
  // Timer L terminates, and no 2xx was retransmitted by a timer in between.
  run_until(64 * kT1 - 1);
  EXPECT_TRUE(user_.servers_gone.empty());
  run_until(64 * kT1);
  EXPECT_EQ(user_.servers_gone.size(), 1u);
  EXPECT_EQ(sender_.sent.size(), sent + 1);
}

TEST_F(ServerInvite, AckWithSameBranchInAcceptedGoesToUser) {
  // RFC 6026 7.1: an ACK that reaches an Accepted transaction is passed to the TU.
  ServerTransaction& st = invite();
  st.reply(200, "OK");
  RequestSpec ack = spec_;
  ack.method = "ACK";
  receive_request(ack, peer("192.0.2.10", 5060));
  EXPECT_EQ(user_.stray_acks.size(), 1u);
  EXPECT_EQ(st.state(), State::kAccepted);
}

class ServerNonInvite : public TransactionTest {
 protected:
  ServerNonInvite() {
    spec_.method = "OPTIONS";
    spec_.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-opt1";
  }
  ServerTransaction& request(const transport::Peer& from = peer("192.0.2.10", 5060)) {
    receive_request(spec_, from);
    EXPECT_EQ(user_.requests.size(), 1u);
    return *user_.requests.back();
  }
  RequestSpec spec_;
};

TEST_F(ServerNonInvite, TryingAbsorbsRetransmissionsSilently) {
  ServerTransaction& st = request();
  EXPECT_FALSE(st.is_invite());
  EXPECT_EQ(st.state(), State::kTrying);
  EXPECT_TRUE(sender_.sent.empty());  // no automatic 100 for non-INVITE
  receive_request(spec_, peer("192.0.2.10", 5060));
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(user_.requests.size(), 1u);
}

TEST_F(ServerNonInvite, ProvisionalIsResentOnRetransmission) {
  ServerTransaction& st = request();
  st.reply(100, "Trying");
  EXPECT_EQ(st.state(), State::kProceeding);
  receive_request(spec_, peer("192.0.2.10", 5060));
  ASSERT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(sender_.sent[1].message().status(), 100);
}

TEST_F(ServerNonInvite, FinalCompletesAndTimerJTerminates) {
  ServerTransaction& st = request();
  st.reply(200, "OK");
  EXPECT_EQ(st.state(), State::kCompleted);
  receive_request(spec_, peer("192.0.2.10", 5060));
  ASSERT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(sender_.sent[1].bytes, sender_.sent[0].bytes);
  // A second final is not sent.
  st.reply(500, "Server Error");
  EXPECT_EQ(sender_.sent.size(), 2u);
  run_until(64 * kT1 - 1);
  EXPECT_TRUE(user_.servers_gone.empty());
  EXPECT_EQ(sender_.sent.size(), 2u);  // non-INVITE finals are never retransmitted by a timer
  run_until(64 * kT1);
  ASSERT_EQ(user_.servers_gone.size(), 1u);
  EXPECT_EQ(user_.servers_gone[0], &st);
  EXPECT_EQ(layer_.server_count(), 0u);
}

TEST_F(ServerNonInvite, TimerJIsZeroOnReliable) {
  spec_.via = "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-opt1";
  ServerTransaction& st = request(peer("192.0.2.10", 40000, Protocol::kTcp, 5));
  st.reply(200, "OK");
  run_until(0);
  EXPECT_EQ(user_.servers_gone.size(), 1u);
}

TEST_F(ServerNonInvite, ReplyFromOnRequestCallback) {
  // The user usually answers from inside on_request.
  user_.on_request_hook = [](ServerTransaction& st) { st.reply(404, "Not Found"); };
  request();
  ASSERT_EQ(sender_.sent.size(), 1u);
  EXPECT_EQ(sender_.sent[0].message().status(), 404);
  EXPECT_FALSE(sender_.sent[0].message().to_tag().empty());
}

// RFC 3261 18.2.2 / RFC 3581.
sip::Message request_with_via(std::string_view via) {
  RequestSpec spec;
  spec.via = std::string(via);
  return parse(request_text(spec));
}

TEST(ResponseDestination, RportGoesToSourceAddressAndPort) {
  sip::Message r = request_with_via("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1;rport");
  transport::Peer to = response_destination(r, peer("203.0.113.5", 40000));
  EXPECT_EQ(to.remote.to_string(), "203.0.113.5:40000");
  EXPECT_EQ(to.proto, Protocol::kUdp);
}

TEST(ResponseDestination, WithoutRportUsesSourceIpAndViaPort) {
  sip::Message r = request_with_via("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1");
  EXPECT_EQ(response_destination(r, peer("203.0.113.5", 40000)).remote.to_string(),
            "203.0.113.5:5062");
}

TEST(ResponseDestination, WithoutViaPortUses5060) {
  sip::Message r = request_with_via("SIP/2.0/UDP client.example.com;branch=z9hG4bK-1");
  EXPECT_EQ(response_destination(r, peer("203.0.113.5", 40000)).remote.to_string(),
            "203.0.113.5:5060");
}

TEST(ResponseDestination, Maddr) {
  sip::Message r =
      request_with_via("SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-1;maddr=198.51.100.7");
  EXPECT_EQ(response_destination(r, peer("203.0.113.5", 40000)).remote.to_string(),
            "198.51.100.7:5070");
  sip::Message r2 = request_with_via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;maddr=198.51.100.7");
  EXPECT_EQ(response_destination(r2, peer("203.0.113.5", 40000)).remote.to_string(),
            "198.51.100.7:5060");
}

TEST(ResponseDestination, Ipv6Source) {
  sip::Message r = request_with_via("SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK-1");
  EXPECT_EQ(response_destination(r, peer("2001:db8::2", 40000)).remote.to_string(),
            "[2001:db8::2]:5062");
}

TEST(ResponseDestination, ReliableStaysOnTheConnection) {
  sip::Message r = request_with_via("SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK-1");
  transport::Peer to = response_destination(r, peer("203.0.113.5", 40000, Protocol::kTcp, 77));
  EXPECT_EQ(to.remote.to_string(), "203.0.113.5:40000");
  EXPECT_EQ(to.connection_id, 77u);
  EXPECT_EQ(to.proto, Protocol::kTcp);
}

TEST_F(ServerInvite, ResponsesFollowViaPortWithoutRport) {
  spec_.via = "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-uac1";
  invite(peer("203.0.113.5", 40000));
  ASSERT_EQ(sender_.sent.size(), 1u);
  EXPECT_EQ(sender_.sent[0].to.remote.to_string(), "203.0.113.5:5062");
}

}  // namespace
}  // namespace strowger::proxy::transaction::test
