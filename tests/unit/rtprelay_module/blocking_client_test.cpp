// BlockingClient against fake relays on loopback: the reply comes back synchronously, a call
// sticks to its relay, a silent relay is marked down for everyone and the next one answers,
// all down -> kNgNoRelay within the documented bound, and the ping probe brings a relay back.
#include "modules/rtprelay/blocking_client.h"

#include <event2/event.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fake_relay.h"

namespace strowger::modules::rtprelay {
namespace {

namespace bencode = common::bencode;

bencode::Dict offer(const std::string& call_id) {
  bencode::Dict d;
  d.set("command", "offer");
  d.set("call-id", call_id);
  d.set("from-tag", "ft");
  d.set("sdp", "v=0\r\n");
  return d;
}

std::unique_ptr<BlockingClient> make(const std::string& urls, std::shared_ptr<RelayHealth> h,
                                     NgRetry retry = {50, 2}) {
  auto c = BlockingClient::create({urls, retry}, std::move(h));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(c.value()) : nullptr;
}

TEST(BlockingClient, ReplyIsSynchronousAndCallsStickToTheirRelay) {
  FakeRelay a, b;
  auto health = std::make_shared<RelayHealth>(2);
  auto c = make(a.url() + " " + b.url(), health);
  ASSERT_TRUE(c);
  for (int i = 0; i < 20; ++i) {
    std::string relay;
    std::string call_id = "call-" + std::to_string(i);
    auto r = c->call(call_id, offer(call_id), &relay);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->get_string("result"), "ok");
    EXPECT_NE(r->get_string("sdp").value_or("").find("a=offer"), std::string::npos);
    // The same call again reaches the same relay.
    std::string again;
    ASSERT_TRUE(c->call(call_id, offer(call_id), &again).ok());
    EXPECT_EQ(relay, again);
  }
  EXPECT_EQ(a.count("offer") + b.count("offer"), 40);
  EXPECT_GT(a.count("offer"), 0);  // 20 calls over two relays of equal weight
  EXPECT_GT(b.count("offer"), 0);
}

TEST(BlockingClient, SilentRelayIsMarkedDownForEveryWorkerAndNextAnswers) {
  FakeRelay dead, live;
  dead.set_silent(true);
  auto health = std::make_shared<RelayHealth>(2);
  std::string urls = dead.url() + " " + live.url();
  auto w1 = make(urls, health), w2 = make(urls, health);
  // A call whose first choice is the dead relay.
  std::string call_id;
  event_base* base = event_base_new();
  {
    RelaySet order(base, RelaySetOptions{{}, 0, {}});
    order.add_list(urls);
    for (int i = 0; i < 100 && call_id.empty(); ++i)
      if (order.order_for("c" + std::to_string(i))[0] == 0) call_id = "c" + std::to_string(i);
  }
  event_base_free(base);
  ASSERT_FALSE(call_id.empty());
  auto start = std::chrono::steady_clock::now();
  std::string relay;
  auto r = w1->call(call_id, offer(call_id), &relay);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(relay, live.url());
  EXPECT_EQ(dead.datagrams(), 2);                   // both tries went to it before the failover
  EXPECT_GE(took, std::chrono::milliseconds(140));  // 50 + 100 ms waited on the dead one
  EXPECT_FALSE(health->up(0));
  EXPECT_TRUE(health->up(1));
  // The other worker no longer tries the dead relay at all.
  ASSERT_TRUE(w2->call(call_id, offer(call_id), &relay).ok());
  EXPECT_EQ(relay, live.url());
  EXPECT_EQ(dead.datagrams(), 2);
}

TEST(BlockingClient, AllDownFailsWithinTheBound) {
  FakeRelay a, b;
  a.set_silent(true);
  b.set_silent(true);
  auto health = std::make_shared<RelayHealth>(2);
  NgRetry retry{40, 2};
  auto c = make(a.url() + " " + b.url(), health, retry);
  auto start = std::chrono::steady_clock::now();
  auto r = c->call("x", offer("x"));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kNgNoRelay);
  EXPECT_EQ(worst_case_ms(retry, 2), 240);
  EXPECT_GE(ms, 200);
  EXPECT_LT(ms, 240 + 1000);
  EXPECT_EQ(health->up_count(), 0u);
  // With every relay down the next call fails at once, without sending.
  start = std::chrono::steady_clock::now();
  r = c->call("y", offer("y"));
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(150));  // no 40 ms wait
  EXPECT_EQ(a.datagrams() + b.datagrams(), 4);
}

TEST(BlockingClient, ErrorReplyIsAReplyNotAFailover) {
  FakeRelay a;
  a.set_error("Unknown call-id");
  auto health = std::make_shared<RelayHealth>(1);
  auto c = make(a.url(), health);
  auto r = c->call("x", offer("x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get_string("result"), "error");
  EXPECT_EQ(r->get_string("error-reason"), "Unknown call-id");
  EXPECT_TRUE(health->up(0));
}

TEST(HealthProbe, PingBringsARelayBack) {
  FakeRelay a, b;
  auto health = std::make_shared<RelayHealth>(2);
  health->set(0, false);
  health->set(1, false);
  b.set_silent(true);
  auto probe = HealthProbe::create(a.url() + " " + b.url(), health, 100);
  ASSERT_TRUE(probe.ok()) << probe.error().message;
  EXPECT_EQ(probe.value()->run_once(), 1);
  EXPECT_TRUE(health->up(0));
  EXPECT_FALSE(health->up(1));
  EXPECT_EQ(a.count("ping"), 1);
  EXPECT_EQ(b.datagrams(), 1);
  b.set_silent(false);
  EXPECT_EQ(probe.value()->run_once(), 1);
  EXPECT_EQ(health->up_count(), 2u);
  EXPECT_EQ(probe.value()->run_once(), 0);  // nothing down: nothing sent
  EXPECT_EQ(a.count("ping"), 1);
}

TEST(BlockingClient, BadRelayListIsAnError) {
  auto health = std::make_shared<RelayHealth>(1);
  EXPECT_FALSE(BlockingClient::create({"tcp:127.0.0.1:1", {}}, health).ok());
  EXPECT_FALSE(BlockingClient::create({"udp:127.0.0.1:2223 udp:127.0.0.1:2224", {}}, health).ok());
}

}  // namespace
}  // namespace strowger::modules::rtprelay
