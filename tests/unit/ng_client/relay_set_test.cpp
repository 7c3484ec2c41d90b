// Unit tests for RelaySet against real ng servers on loopback: URL parsing, call affinity,
// failover past a silent relay, ping bringing it back, all relays down.
#include "modules/rtprelay/relay_set.h"

#include <arpa/inet.h>

#include <optional>
#include <set>

#include "loop_fixture.h"

namespace strowger::modules::rtprelay {
namespace {

TEST(RelayUrl, Parses) {
  auto a = parse_relay_url("udp:127.0.0.1:2223");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->text, "udp:127.0.0.1:2223");
  EXPECT_EQ(a->weight, 1u);
  EXPECT_EQ(a->addr.ss_family, AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&a->addr)->sin_port), 2223);
  auto w = parse_relay_url("udp:127.0.0.1:2224=2");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->weight, 2u);
  EXPECT_EQ(w->text, "udp:127.0.0.1:2224");
  for (const char* v6 : {"udp6:[::1]:2223", "udp6:::1:2223", "udp:[::1]:2223"}) {
    auto r = parse_relay_url(v6);
    ASSERT_TRUE(r.ok()) << v6 << ": " << r.error().message;
    EXPECT_EQ(r->addr.ss_family, AF_INET6) << v6;
  }
  EXPECT_TRUE(parse_relay_url("127.0.0.1:2223").ok());
  EXPECT_TRUE(parse_relay_url("udp:localhost:2223").ok());
  for (const char* bad : {"tcp:127.0.0.1:2223", "udp:127.0.0.1", "udp:127.0.0.1:0",
                          "udp:127.0.0.1:70000", "udp:127.0.0.1:22x", "udp:127.0.0.1:2223=0",
                          "udp:127.0.0.1:2223=x", "udp::2223", "udp:[::1:2223", "udp6:[::1]"}) {
    EXPECT_FALSE(parse_relay_url(bad).ok()) << bad;
  }
}

TEST(RelaySetConfig, AddListAndWeights) {
  event_base* base = event_base_new();
  {
    RelaySet set(base);
    EXPECT_FALSE(set.add_list("  udp:127.0.0.1:2223=3 udp:127.0.0.1:2224\tudp6:[::1]:2225 "));
    EXPECT_EQ(set.relays().size(), 3u);
    EXPECT_TRUE(set.add_list("udp:127.0.0.1:2226 tcp:127.0.0.1:1"));  // all or nothing
    EXPECT_EQ(set.relays().size(), 3u);
    EXPECT_TRUE(set.add_list("   "));
    // The weight-3 relay gets about three times the calls of each weight-1 relay.
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 5000; ++i) ++counts[set.order_for("call-" + std::to_string(i))[0]];
    EXPECT_GT(counts[0], 2500);
    EXPECT_LT(counts[0], 3500);
    EXPECT_GT(counts[1], 700);
    EXPECT_GT(counts[2], 700);
  }
  event_base_free(base);
}

class RelaySetTest : public LoopFixture {
 protected:
  struct Outcome {
    std::optional<common::Result<bencode::Dict>> reply;
    std::string relay;
  };
  Outcome ask(RelaySet& set, const char* cmd, const std::string& call_id) {
    Outcome o;
    bool done = false;
    set.send(call_id, command(cmd, call_id),
             [&](common::Result<bencode::Dict> r, std::string_view relay) {
               o.reply = std::move(r);
               o.relay = std::string(relay);
               done = true;
             });
    EXPECT_FALSE(done);
    EXPECT_TRUE(pump_until([&] { return done; }, 5000));
    return o;
  }
  // A call id whose first relay is `first`.
  static std::string call_starting_at(const RelaySet& set, std::size_t first) {
    for (int i = 0;; ++i) {
      std::string id = "call-" + std::to_string(i) + "@host";
      if (set.order_for(id)[0] == first) return id;
    }
  }
  static RelaySetOptions fast() {
    RelaySetOptions o;
    o.client.retry = NgRetry{30, 2};
    o.ping_interval_ms = 60'000;  // tests call check_now()
    o.ping_retry = NgRetry{100, 1};
    return o;
  }
};

TEST_F(RelaySetTest, EveryCommandOfACallGoesToOneRelay) {
  RelaySetOptions o = fast();
  o.client.retry = NgRetry{1000, 3};  // every relay answers: no reason to time out, even loaded
  RelaySet set(base_, o);
  std::vector<std::string> urls = {start_server(), start_server(), start_server("[::1]:0")};
  for (const auto& u : urls) ASSERT_FALSE(set.add(u));
  std::set<std::string> used;
  for (int i = 0; i < 12; ++i) {
    std::string call = "c" + std::to_string(i) + "@proxy";
    std::string relay;
    for (const char* cmd : {"offer", "answer", "delete"}) {
      Outcome o = ask(set, cmd, call);
      ASSERT_TRUE(o.reply->ok());
      EXPECT_EQ(o.reply->value().get_string("call-id"), call);
      if (relay.empty()) relay = o.relay;
      EXPECT_EQ(o.relay, relay) << call << " " << cmd;
      EXPECT_EQ(o.relay, set.relays()[set.order_for(call)[0]].url.text);
    }
    used.insert(relay);
  }
  EXPECT_GT(used.size(), 1u);  // calls spread over relays
  int total = 0;
  for (auto& [idx, cmds] : hits_) {
    EXPECT_EQ(cmds["offer"], cmds["answer"]);
    EXPECT_EQ(cmds["offer"], cmds["delete"]);
    total += cmds["offer"];
  }
  EXPECT_EQ(total, 12);
}

TEST_F(RelaySetTest, SilentRelayIsMarkedDownThenPingBringsItBack) {
  RelaySet set(base_, fast());
  sockaddr_storage dead_addr{};
  ASSERT_FALSE(set.add(silent_relay(&dead_addr)));  // relay 0 never answers
  ASSERT_FALSE(set.add(start_server()));            // relay 1 does
  std::string call = call_starting_at(set, 0);

  Outcome o = ask(set, "offer", call);
  ASSERT_TRUE(o.reply && o.reply->ok());
  EXPECT_EQ(o.relay, set.relays()[1].url.text);  // failed over to the call's next relay
  EXPECT_EQ(drain_silent(0), 2);                 // after both tries to the silent one
  EXPECT_FALSE(set.relays()[0].up);
  EXPECT_EQ(set.relays()[0].failures, 1u);
  EXPECT_EQ(set.up_count(), 1u);

  // While it is down, the call's later commands go straight to relay 1.
  Outcome a = ask(set, "answer", call);
  EXPECT_EQ(a.relay, set.relays()[1].url.text);
  EXPECT_EQ(drain_silent(0), 0);

  // A ping to a relay still silent leaves it down.
  set.check_now();
  pump_until([] { return false; }, 250);
  EXPECT_EQ(drain_silent(0), 1);
  EXPECT_FALSE(set.relays()[0].up);

  // The relay comes back on the same port: the next ping marks it up, the call returns to it.
  ::close(silent_[0]);
  silent_.clear();
  control::Peer p;
  p.addr = dead_addr;
  start_server(p.to_string());  // server index 1 (index 0 is relay 1's)
  set.check_now();
  ASSERT_TRUE(pump_until([&] { return set.relays()[0].up; }));
  Outcome d = ask(set, "delete", call);
  EXPECT_EQ(d.relay, set.relays()[0].url.text);
  EXPECT_EQ(hits_[1]["delete"], 1);
}

TEST_F(RelaySetTest, PeriodicPingRunsByItself) {
  RelaySetOptions o = fast();
  o.ping_interval_ms = 50;
  RelaySet set(base_, o);
  ASSERT_FALSE(set.add(start_server()));
  set.set_up(0, false);
  ASSERT_TRUE(pump_until([&] { return set.relays()[0].up; }, 2000));
}

TEST_F(RelaySetTest, AllDownFails) {
  RelaySet set(base_, fast());
  ASSERT_FALSE(set.add(silent_relay()));
  ASSERT_FALSE(set.add(silent_relay()));
  Outcome o = ask(set, "offer", "lonely-call");
  ASSERT_FALSE(o.reply->ok());
  EXPECT_EQ(o.reply->error().code, kNgNoRelay);
  EXPECT_EQ(o.relay, "");
  EXPECT_EQ(set.up_count(), 0u);
  // Now fails at once (from the loop), without sending anything.
  Outcome again = ask(set, "offer", "another-call");
  EXPECT_EQ(again.reply->error().code, kNgNoRelay);
  EXPECT_EQ(drain_silent(0) + drain_silent(1), 4);  // 2 tries x 2 relays, the first call only

  RelaySet empty(base_, fast());
  EXPECT_EQ(ask(empty, "offer", "x").reply->error().code, kNgNoRelay);
}

}  // namespace
}  // namespace strowger::modules::rtprelay
