// The routing script driving the proxy core: stateless replies, t_relay, failure/branch/onreply
// routes, sl_reply_error, and a reload that leaves transactions on the program they started.
#include <event2/event.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/timer_heap.h"
#include "proxy/core/local_addresses.h"
#include "proxy/core/proxy.h"
#include "proxy/script/engine/compiler.h"

namespace strowger::proxy::core {
namespace {

struct Sent {
  transport::Peer to;
  std::string bytes;
  std::string first_line() const { return bytes.substr(0, bytes.find("\r\n")); }
};

class RecordingSender final : public transaction::Sender {
 public:
  std::uint64_t send(const transport::Peer& to, std::string_view bytes) override {
    sent.push_back({to, std::string(bytes)});
    return 1;
  }
  std::vector<Sent> sent;
};

const std::string kHeader = "loadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"rr.so\"\n";

class ScriptedProxyTest : public ::testing::Test {
 protected:
  ScriptedProxyTest() {
    config_.listen.push_back({transport::Protocol::kUdp, "127.0.0.1", 5060, "", 1});
    local_ = std::make_unique<LocalAddresses>(config_);
    base_ = event_base_new();
    dns::Resolver::Options opts;
    opts.servers = {"127.0.0.1:1"};  // never used: every target here is an IP literal
    resolver_ = std::make_unique<dns::Resolver>(base_, clock_, opts);
    proxy_ = std::make_unique<Proxy>(config_, *local_, *resolver_, sender_, 0);
    transaction::TimerSettings timers;
    layer_ = std::make_unique<transaction::TransactionLayer>(timers_, sender_, *proxy_, timers, 0);
    proxy_->attach(*layer_);
  }
  ~ScriptedProxyTest() override {
    layer_.reset();
    proxy_.reset();
    resolver_.reset();
    event_base_free(base_);
  }

  void load(const std::string& body) {
    auto compiled = script::engine::compile_text(kHeader + body, "test.cfg");
    ASSERT_TRUE(compiled.ok()) << compiled.format_diagnostics();
    proxy_->set_program(compiled.program);
  }

  transport::Peer caller() const {
    return {transport::Protocol::kUdp, *transport::Address::from_ip_port("127.0.0.1", 5070), 0, 0};
  }
  transport::Peer callee(std::uint16_t port) const {
    return {transport::Protocol::kUdp, *transport::Address::from_ip_port("127.0.0.1", port), 0, 0};
  }

  void request(const std::string& method, const std::string& ruri, const std::string& extra = "") {
    std::string text = method + " " + ruri + " SIP/2.0\r\n" +
                       "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-caller-" + method +
                       ";rport\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
                       "To: <" +
                       ruri +
                       ">\r\n"
                       "Call-ID: call-1@test\r\n"
                       "CSeq: 1 " +
                       method +
                       "\r\n"
                       "Contact: <sip:alice@127.0.0.1:5070>\r\n" +
                       extra + "Content-Length: 0\r\n\r\n";
    auto msg = sip::Message::parse(text);
    ASSERT_TRUE(msg.ok()) << msg.error().message;
    layer_->receive_request(std::move(msg.value()), caller());
    layer_->collect();
  }

  // A response from a callee to the last request sent to it.
  void respond(std::uint16_t port, int status, const std::string& reason) {
    const Sent* req = nullptr;
    for (const Sent& s : sender_.sent) {
      if (s.to.remote.port() == port && s.bytes.rfind("SIP/2.0", 0) != 0) req = &s;
    }
    ASSERT_NE(req, nullptr) << "nothing was sent to port " << port;
    auto parsed = sip::Message::parse(req->bytes);
    ASSERT_TRUE(parsed.ok());
    std::string text = parsed->make_response(status, reason, status > 100 ? "callee-tag" : "");
    auto msg = sip::Message::parse(text);
    ASSERT_TRUE(msg.ok());
    layer_->receive_response(std::move(msg.value()), callee(port));
    layer_->collect();
  }

  std::vector<std::string> sent_to(std::uint16_t port) const {
    std::vector<std::string> lines;
    for (const Sent& s : sender_.sent) {
      if (s.to.remote.port() == port) lines.push_back(s.first_line());
    }
    return lines;
  }
  const Sent* last_to(std::uint16_t port) const {
    const Sent* found = nullptr;
    for (const Sent& s : sender_.sent) {
      if (s.to.remote.port() == port) found = &s;
    }
    return found;
  }

  config::ProxyConfig config_;
  std::unique_ptr<LocalAddresses> local_;
  common::FakeClock clock_;
  common::TimerHeap timers_{clock_};
  event_base* base_ = nullptr;
  std::unique_ptr<dns::Resolver> resolver_;
  RecordingSender sender_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<transaction::TransactionLayer> layer_;
};

TEST_F(ScriptedProxyTest, StatelessReplyMakesNoTransaction) {
  load("request_route { sl_send_reply(\"404\", \"Nobody Here\"); exit; }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  EXPECT_EQ(layer_->server_count(), 0u);
  // No 100 Trying: the script answered before any transaction existed.
  EXPECT_EQ(sent_to(5070), (std::vector<std::string>{"SIP/2.0 404 Nobody Here"}));
}

TEST_F(ScriptedProxyTest, RelayForwardsWithRecordRouteAndTrying) {
  load("request_route { record_route(); t_relay(); exit; }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  EXPECT_EQ(layer_->server_count(), 1u);
  EXPECT_EQ(sent_to(5070), (std::vector<std::string>{"SIP/2.0 100 Trying"}));
  ASSERT_EQ(sent_to(5080), (std::vector<std::string>{"INVITE sip:bob@127.0.0.1:5080 SIP/2.0"}));
  const std::string& fwd = last_to(5080)->bytes;
  EXPECT_NE(fwd.find("Record-Route: <sip:127.0.0.1:5060;lr>"), std::string::npos) << fwd;
  // The script did not call mf_process_maxfwd_header: Max-Forwards is left alone.
  EXPECT_NE(fwd.find("Max-Forwards: 70"), std::string::npos) << fwd;
  respond(5080, 200, "OK");
  EXPECT_EQ(sent_to(5070).back(), "SIP/2.0 200 OK");
}

TEST_F(ScriptedProxyTest, FailureRouteSerialForking) {
  load(
      "request_route { $ru = \"sip:bob@127.0.0.1:5080\"; t_on_failure(\"NEXT\"); t_relay(); exit; "
      "}\n"
      "failure_route[NEXT] { if (t_check_status(\"486\")) { $ru = \"sip:bob@127.0.0.1:5081\"; "
      "append_hf(\"X-Try: 2\\r\\n\"); t_relay(); } }\n");
  request("INVITE", "sip:bob@127.0.0.1:5060");
  respond(5080, 486, "Busy Here");
  ASSERT_EQ(sent_to(5081).size(), 1u);
  EXPECT_NE(last_to(5081)->bytes.find("X-Try: 2"), std::string::npos);
  respond(5081, 200, "OK");
  // The caller saw 100 and the 200, never the 486.
  EXPECT_EQ(sent_to(5070), (std::vector<std::string>{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}));
}

TEST_F(ScriptedProxyTest, FailureRouteRepliesItself) {
  load(
      "request_route { t_on_failure(\"F\"); t_relay(); exit; }\n"
      "failure_route[F] { if ($T_reply_code == 486) t_reply(\"480\", \"Try Later\"); }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  respond(5080, 486, "Busy Here");
  EXPECT_EQ(sent_to(5070).back(), "SIP/2.0 480 Try Later");
}

TEST_F(ScriptedProxyTest, TransactionKeepsTheProgramItStartedWith) {
  load(
      "request_route { t_on_failure(\"F\"); t_relay(); exit; }\n"
      "failure_route[F] { t_reply(\"480\", \"Old Program\"); }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  load(
      "request_route { t_on_failure(\"F\"); t_relay(); exit; }\n"
      "failure_route[F] { t_reply(\"480\", \"New Program\"); }\n");
  respond(5080, 486, "Busy Here");
  EXPECT_EQ(sent_to(5070).back(), "SIP/2.0 480 Old Program");
}

TEST_F(ScriptedProxyTest, AvpsLastThroughBranchAndReplyRoutes) {
  load(
      "request_route { $avp(who) = \"kept\"; t_on_branch(\"B\"); t_on_reply(\"R\"); "
      "t_on_failure(\"F\"); t_relay(); exit; }\n"
      "branch_route[B] { xdbg(\"branch $avp(who)\\n\"); }\n"
      "onreply_route[R] { xdbg(\"reply $avp(who)\\n\"); }\n"
      "failure_route[F] { t_reply(\"480\", \"Who $avp(who)\"); }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  respond(5080, 180, "Ringing");
  respond(5080, 486, "Busy Here");
  EXPECT_EQ(sent_to(5070).back(), "SIP/2.0 480 Who kept");
}

TEST_F(ScriptedProxyTest, OnReplyRouteDropsProvisionalOnly) {
  load(
      "request_route { t_on_reply(\"R\"); t_relay(); exit; }\n"
      "onreply_route[R] { if (status == \"180\" || status == \"200\") drop; }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  respond(5080, 180, "Ringing");
  respond(5080, 200, "OK");
  // 180 dropped; a final reply cannot be (the transaction needs it).
  EXPECT_EQ(sent_to(5070), (std::vector<std::string>{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}));
}

TEST_F(ScriptedProxyTest, BranchRouteEditsOnlyItsBranch) {
  load(
      "request_route { append_branch(\"sip:carol@127.0.0.1:5081\"); t_on_branch(\"B\"); "
      "t_relay(); exit; }\n"
      "branch_route[B] { append_hf(\"X-Branch: $T_branch_idx\\r\\n\"); "
      "if ($rU == \"carol\") drop; }\n");
  request("INVITE", "sip:bob@127.0.0.1:5080");
  ASSERT_EQ(sent_to(5080).size(), 1u);
  EXPECT_NE(last_to(5080)->bytes.find("X-Branch: 0"), std::string::npos);
  EXPECT_TRUE(sent_to(5081).empty());  // dropped by the branch_route
  respond(5080, 200, "OK");
  EXPECT_EQ(sent_to(5070).back(), "SIP/2.0 200 OK");
}

TEST_F(ScriptedProxyTest, ReplyErrorAfterRelayFails) {
  load("request_route { if (!t_relay()) sl_reply_error(); exit; }\n");
  request("OPTIONS", "sip:bob@127.0.0.1:5080", "Proxy-Require: foo\r\n");
  const Sent* reply = last_to(5070);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->first_line(), "SIP/2.0 420 Bad Extension");
  EXPECT_NE(reply->bytes.find("Unsupported: foo"), std::string::npos);
  EXPECT_TRUE(sent_to(5080).empty());
}

TEST_F(ScriptedProxyTest, TransactionWithoutReplyGets500) {
  load("request_route { t_newtran(); exit; }\n");
  request("MESSAGE", "sip:bob@127.0.0.1:5080");
  ASSERT_FALSE(sent_to(5070).empty());
  EXPECT_EQ(sent_to(5070).back().substr(0, 12), "SIP/2.0 500 ");
}

TEST_F(ScriptedProxyTest, NoReplyNoTransactionIsADrop) {
  load("request_route { exit; }\n");
  request("MESSAGE", "sip:bob@127.0.0.1:5080");
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(layer_->server_count(), 0u);
}

TEST_F(ScriptedProxyTest, AckIsRelayedStatelessly) {
  load("request_route { t_relay(); exit; }\n");
  request("ACK", "sip:bob@127.0.0.1:5080");
  ASSERT_EQ(sent_to(5080), (std::vector<std::string>{"ACK sip:bob@127.0.0.1:5080 SIP/2.0"}));
  EXPECT_EQ(layer_->server_count(), 0u);
  EXPECT_EQ(layer_->client_count(), 0u);
}

TEST_F(ScriptedProxyTest, DestinationUriIsTheNextHop) {
  load("request_route { $du = \"sip:127.0.0.1:5090\"; t_relay(); exit; }\n");
  request("MESSAGE", "sip:bob@example.invalid");
  // Sent to $du with the Request-URI untouched (no DNS lookup for example.invalid).
  EXPECT_EQ(sent_to(5090), (std::vector<std::string>{"MESSAGE sip:bob@example.invalid SIP/2.0"}));
}

}  // namespace
}  // namespace strowger::proxy::core
