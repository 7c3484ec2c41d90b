// Unit tests for the TransactionLayer: request and response matching (RFC 3261 17.1.3, 17.2.3,
// RFC 2543 fallback), CANCEL and ACK handling, branch ids and collection of dead transactions.
#include "proxy/transaction/transaction_layer.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/transaction/test_support.h"

namespace strowger::proxy::transaction::test {
namespace {

using transport::Protocol;

class LayerTest : public TransactionTest {
 protected:
  transport::Peer client_ = peer("192.0.2.10", 5060);
};

TEST_F(LayerTest, SameBranchSentByAndMethodIsARetransmission) {
  RequestSpec spec;
  receive_request(spec, client_);
  receive_request(spec, client_);
  EXPECT_EQ(user_.requests.size(), 1u);
  EXPECT_EQ(layer_.server_count(), 1u);
  EXPECT_EQ(layer_.stats().server_created, 1u);
  EXPECT_EQ(layer_.stats().retransmissions_absorbed, 1u);

  // Same branch, other sent-by: another transaction (17.2.3).
  RequestSpec other_host = spec;
  other_host.via = "SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bK-uac1;rport";
  receive_request(other_host, peer("192.0.2.11", 5060));
  RequestSpec other_port = spec;
  other_port.via = "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-uac1;rport";
  receive_request(other_port, client_);
  // Same branch and sent-by, other method (not CANCEL/ACK): another transaction too.
  RequestSpec other_method = spec;
  other_method.method = "BYE";
  receive_request(other_method, client_);
  // Other branch.
  RequestSpec other_branch = spec;
  other_branch.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-uac2;rport";
  receive_request(other_branch, client_);
  EXPECT_EQ(user_.requests.size(), 5u);
  EXPECT_EQ(layer_.server_count(), 5u);
  std::set<ServerTransaction*> distinct(user_.requests.begin(), user_.requests.end());
  EXPECT_EQ(distinct.size(), 5u);
}

TEST_F(LayerTest, AckForNonTwoHundredIsAbsorbedByTheInvite) {
  RequestSpec spec;
  receive_request(spec, client_);
  ServerTransaction& st = *user_.requests[0];
  st.reply(404, "Not Found");
  RequestSpec ack = spec;
  ack.method = "ACK";
  ack.to_tag = st.local_tag();
  receive_request(ack, client_);
  EXPECT_EQ(st.state(), ServerTransaction::State::kConfirmed);
  EXPECT_TRUE(user_.stray_acks.empty());
  EXPECT_EQ(user_.requests.size(), 1u);  // never a new transaction for an ACK
}

TEST_F(LayerTest, AckWithAnotherBranchIsStray) {
  RequestSpec spec;
  receive_request(spec, client_);
  user_.requests[0]->reply(200, "OK");
  RequestSpec ack = spec;
  ack.method = "ACK";
  ack.to_tag = "x";
  ack.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ack1;rport";
  receive_request(ack, client_);
  EXPECT_EQ(user_.stray_acks, std::vector<std::string>{"z9hG4bK-ack1"});
  EXPECT_EQ(layer_.server_count(), 1u);
  // And an ACK that matches nothing at all.
  ack.via = "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-ack2";
  receive_request(ack, client_);
  EXPECT_EQ(user_.stray_acks.size(), 2u);
  EXPECT_EQ(layer_.server_count(), 1u);
}

TEST_F(LayerTest, CancelMatchingAnInviteIsAnsweredAndReported) {
  RequestSpec spec;
  receive_request(spec, client_);
  ServerTransaction& invite = *user_.requests[0];
  sender_.sent.clear();
  RequestSpec cancel = spec;
  cancel.method = "CANCEL";
  receive_request(cancel, client_);
  ASSERT_EQ(sender_.sent.size(), 1u);
  sip::Message ok = sender_.sent[0].message();
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.cseq_method(), sip::Method::kCancel);
  EXPECT_EQ(ok.via(0)->branch, "z9hG4bK-uac1");
  ASSERT_EQ(user_.cancels.size(), 1u);
  EXPECT_EQ(user_.cancels[0], &invite);
  EXPECT_EQ(user_.requests.size(), 1u);  // CANCEL is not a new request for the user
  // A retransmitted CANCEL gets the 200 again, and the user hears of it once.
  receive_request(cancel, client_);
  EXPECT_EQ(sender_.count_of("SIP/2.0 200"), 2u);
  EXPECT_EQ(user_.cancels.size(), 1u);
  // The INVITE's transaction is still there for the user to answer 487.
  invite.reply(487, "Request Terminated");
  EXPECT_EQ(sender_.count_of("SIP/2.0 487"), 1u);
}

TEST_F(LayerTest, CancelAfterFinalIsAnsweredButNotReported) {
  RequestSpec spec;
  receive_request(spec, client_);
  user_.requests[0]->reply(486, "Busy Here");
  RequestSpec cancel = spec;
  cancel.method = "CANCEL";
  receive_request(cancel, client_);
  EXPECT_EQ(sender_.count_of("SIP/2.0 200"), 1u);
  EXPECT_TRUE(user_.cancels.empty());
}

TEST_F(LayerTest, CancelWithoutInviteIs481) {
  RequestSpec cancel;
  cancel.method = "CANCEL";
  receive_request(cancel, client_);
  ASSERT_EQ(sender_.sent.size(), 1u);
  sip::Message r = sender_.sent[0].message();
  EXPECT_EQ(r.status(), 481);
  EXPECT_EQ(r.cseq_method(), sip::Method::kCancel);
  EXPECT_TRUE(user_.cancels.empty());
  EXPECT_TRUE(user_.requests.empty());
}

TEST_F(LayerTest, CancelForOtherSentByIs481) {
  RequestSpec spec;
  receive_request(spec, client_);
  RequestSpec cancel = spec;
  cancel.method = "CANCEL";
  cancel.via = "SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bK-uac1";
  receive_request(cancel, peer("192.0.2.66", 5060));
  EXPECT_EQ(sender_.count_of("SIP/2.0 481"), 1u);
  EXPECT_TRUE(user_.cancels.empty());
}

class Rfc2543 : public LayerTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(Rfc2543, FallbackMatching) {
  RequestSpec spec;
  spec.via = GetParam();
  receive_request(spec, client_);
  ASSERT_EQ(user_.requests.size(), 1u);
  ServerTransaction& st = *user_.requests[0];
  receive_request(spec, client_);  // retransmission
  EXPECT_EQ(user_.requests.size(), 1u);
  EXPECT_EQ(sender_.count_of("SIP/2.0 100"), 2u);

  // Another INVITE of another call is another transaction.
  RequestSpec other = spec;
  other.call_id = "call-2@192.0.2.10";
  receive_request(other, client_);
  EXPECT_EQ(user_.requests.size(), 2u);
  // A new CSeq too.
  RequestSpec next = spec;
  next.cseq = 2;
  receive_request(next, client_);
  EXPECT_EQ(user_.requests.size(), 3u);

  // CANCEL matches the INVITE.
  RequestSpec cancel = spec;
  cancel.method = "CANCEL";
  receive_request(cancel, client_);
  ASSERT_EQ(user_.cancels.size(), 1u);
  EXPECT_EQ(user_.cancels[0], &st);

  // The ACK for its non-2xx is absorbed.
  st.reply(487, "Request Terminated");
  RequestSpec ack = spec;
  ack.method = "ACK";
  ack.to_tag = st.local_tag();
  receive_request(ack, client_);
  EXPECT_EQ(st.state(), ServerTransaction::State::kConfirmed);
  EXPECT_TRUE(user_.stray_acks.empty());
}

INSTANTIATE_TEST_SUITE_P(Vias, Rfc2543,
                         ::testing::Values("SIP/2.0/UDP 192.0.2.10:5060",
                                           "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK",
                                           "SIP/2.0/UDP 192.0.2.10:5060;branch=1234abcd"));

TEST_F(LayerTest, Rfc2543KeyIsNotTheRfc3261Key) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK";
  sip::Message bare = parse(request_text(spec));
  spec.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1";
  sip::Message magic = parse(request_text(spec));
  EXPECT_NE(TransactionLayer::server_key(bare, false), TransactionLayer::server_key(magic, false));
  // Two RFC 2543 requests that differ only in the Request-URI are different transactions.
  spec.via = "SIP/2.0/UDP 192.0.2.10:5060";
  sip::Message a = parse(request_text(spec));
  spec.ruri = "sip:carol@example.com";
  sip::Message b = parse(request_text(spec));
  EXPECT_NE(TransactionLayer::server_key(a, false), TransactionLayer::server_key(b, false));
}

class LayerClientTest : public LayerTest {
 protected:
  ClientTransaction& start(std::string_view method = "INVITE") {
    branch_ = layer_.new_branch("t");
    via_ = "SIP/2.0/UDP 198.51.100.1:5060;branch=" + branch_;
    RequestSpec spec;
    spec.method = std::string(method);
    spec.via = via_;
    return layer_.start_client(parse(request_text(spec)), peer("192.0.2.20", 5060), nullptr);
  }
  std::string branch_;
  std::string via_;
};

TEST_F(LayerClientTest, ResponsesMatchByBranchAndCSeqMethod) {
  ClientTransaction& ct = start();
  receive_response(response_text(180, "Ringing", via_, "INVITE", 1, "a"), peer("192.0.2.20", 5060));
  ASSERT_EQ(user_.responses.size(), 1u);
  EXPECT_EQ(user_.responses[0].ct, &ct);
  // Same branch, other CSeq method: no transaction.
  receive_response(response_text(200, "OK", via_, "BYE", 1, "a"), peer("192.0.2.20", 5060));
  // Other branch.
  receive_response(
      response_text(200, "OK", "SIP/2.0/UDP 198.51.100.1:5060;branch=" + layer_.new_branch("t"),
                    "INVITE", 1, "a"),
      peer("192.0.2.20", 5060));
  // A foreign branch.
  receive_response(response_text(183, "Progress", "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKx",
                                 "INVITE", 1, "a"),
                   peer("192.0.2.20", 5060));
  EXPECT_EQ(user_.responses.size(), 1u);
  EXPECT_EQ(user_.stray_responses, (std::vector<int>{200, 200, 183}));
  EXPECT_EQ(layer_.stats().stray_responses, 3u);
}

TEST_F(LayerClientTest, ResponseAfterTerminationIsStray) {
  start("OPTIONS");
  receive_response(response_text(200, "OK", via_, "OPTIONS"), peer("192.0.2.20", 5060));
  run_until(kT4);
  EXPECT_EQ(layer_.client_count(), 0u);
  receive_response(response_text(200, "OK", via_, "OPTIONS"), peer("192.0.2.20", 5060));
  EXPECT_EQ(user_.stray_responses, std::vector<int>{200});
  EXPECT_EQ(user_.responses.size(), 1u);
}

TEST_F(LayerTest, NewBranchEncodesWorkerAndTag) {
  std::string a = layer_.new_branch("loop123");
  std::string b = layer_.new_branch("loop123");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("z9hG4bK", 0), 0u);  // RFC 3261 magic cookie
  EXPECT_EQ(TransactionLayer::branch_worker(a), kWorker);
  EXPECT_EQ(TransactionLayer::branch_tag(a), "loop123");
  EXPECT_EQ(TransactionLayer::branch_tag(layer_.new_branch("")), "");

  TransactionLayer other(heap_, sender_, user_, settings_, 17);
  std::string c = other.new_branch("x-y");
  EXPECT_EQ(TransactionLayer::branch_worker(c), 17);
  EXPECT_EQ(TransactionLayer::branch_tag(c), "x-y");

  // The branch survives a trip through a Via.
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 198.51.100.1:5060;branch=" + a;
  sip::Message m = parse(request_text(spec));
  EXPECT_EQ(m.via(0)->branch, a);
}

TEST(BranchWorker, ForeignBranches) {
  for (std::string_view b :
       {"", "z9hG4bK", "z9hG4bK776asdhds", "z9hG4bK-sw", "z9hG4bK-sw-", "z9hG4bK-swx-1-a",
        "z9hG4bK-sw3", "z9hG4bK-sw3x-1-a", "z9hG4bK-sw-1-a", "1234", "Z9HG4BK-sw3-1-a"}) {
    EXPECT_EQ(TransactionLayer::branch_worker(b), -1) << b;
    EXPECT_EQ(TransactionLayer::branch_tag(b), "") << b;
  }
  EXPECT_EQ(TransactionLayer::branch_worker("z9hG4bK-sw0-ff-tag"), 0);
  EXPECT_EQ(TransactionLayer::branch_tag("z9hG4bK-sw0-ff-tag"), "tag");
  EXPECT_EQ(TransactionLayer::branch_tag("z9hG4bK-sw0-ff"), "");
}

TEST_F(LayerTest, CollectFreesTerminatedTransactions) {
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.via = "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-o1";
  user_.on_request_hook = [](ServerTransaction& st) { st.reply(200, "OK"); };
  layer_.receive_request(parse(request_text(spec)), peer("192.0.2.10", 4000, Protocol::kTcp, 3));
  clock_.advance(0);
  heap_.run_due();  // timer J = 0 on TCP
  ASSERT_EQ(user_.servers_gone.size(), 1u);
  EXPECT_EQ(layer_.server_count(), 0u);
  layer_.collect();
  layer_.collect();  // idempotent
  // The same request again is a new transaction, not a match against freed memory.
  layer_.receive_request(parse(request_text(spec)), peer("192.0.2.10", 4000, Protocol::kTcp, 3));
  EXPECT_EQ(user_.requests.size(), 2u);
  EXPECT_EQ(layer_.server_count(), 1u);
}

TEST_F(LayerTest, UserMayTouchTheTransactionInItsGoneCallback) {
  // on_server_gone runs before the memory goes: reading the transaction there is legal.
  struct ReadingUser : TransactionUser {
    void on_request(ServerTransaction& st, sip::Message&) override { st.reply(200, "OK"); }
    void on_cancel(ServerTransaction&) override {}
    void on_stray_ack(sip::Message&, const transport::Peer&) override {}
    void on_response(ClientTransaction&, sip::Message&) override {}
    void on_client_failure(ClientTransaction&, int) override {}
    void on_timer_c(ClientTransaction&) override {}
    void on_stray_response(sip::Message&, const transport::Peer&) override {}
    void on_server_gone(ServerTransaction& st) override { statuses.push_back(st.last_status()); }
    void on_client_gone(ClientTransaction& ct) override { finals.push_back(ct.final_status()); }
    std::vector<int> statuses, finals;
  } user;
  TransactionLayer layer(heap_, sender_, user, settings_, 0);
  RequestSpec spec;
  spec.method = "OPTIONS";
  layer.receive_request(parse(request_text(spec)), client_);
  RequestSpec out;
  out.method = "OPTIONS";
  out.via = "SIP/2.0/UDP 198.51.100.1:5060;branch=" + layer.new_branch("t");
  layer.start_client(parse(request_text(out)), peer("192.0.2.20", 5060), nullptr);
  clock_.advance(64 * kT1);
  heap_.run_due();
  EXPECT_EQ(user.statuses, std::vector<int>{200});
  EXPECT_EQ(user.finals, std::vector<int>{408});
  layer.collect();
  EXPECT_EQ(layer.server_count() + layer.client_count(), 0u);
}

TEST_F(LayerTest, DestroyingTheLayerWithLiveTransactionsIsQuiet) {
  {
    TransactionLayer layer(heap_, sender_, user_, settings_, 0);
    RequestSpec spec;
    layer.receive_request(parse(request_text(spec)), client_);
    RequestSpec out;
    out.via = "SIP/2.0/UDP 198.51.100.1:5060;branch=" + layer.new_branch("t");
    layer.start_client(parse(request_text(out)), peer("192.0.2.20", 5060), nullptr);
    EXPECT_GT(heap_.size(), 0u);
  }
  EXPECT_EQ(heap_.size(), 0u);  // every timer left the heap with its transaction
  EXPECT_TRUE(user_.servers_gone.empty());
  EXPECT_TRUE(user_.clients_gone.empty());
}

}  // namespace
}  // namespace strowger::proxy::transaction::test
