// The NAT pinger over the real usrloc table with a fake clock: which bindings get which ping,
// replies matched to bindings, silent bindings removed after keepalive_timeout.
#include "modules/nathelper/keepalive.h"

#include <gtest/gtest.h>

#include "modules/usrloc/location_table.h"

namespace strowger::modules::nathelper {
namespace {

using sipproxy::usrloc::Binding;

struct Sent {
  sipproxy::Peer to;
  std::uint64_t connection = 0;
  std::string bytes;
};

struct Fixture {
  explicit Fixture(PingConfig cfg)
      : table({}, [this] { return now; }),
        pinger(
            cfg, table,
            [this](const sipproxy::Peer& to, std::uint64_t c, std::string b) {
              sent.push_back({to, c, std::move(b)});
              return true;
            },
            [](std::string_view proto) -> std::optional<sipproxy::Peer> {
              return sipproxy::Peer{std::string(proto), "127.0.0.1", 5060};
            }) {}

  void add(const std::string& aor, const std::string& ruid, std::string proto, std::string ip,
           std::uint16_t port, bool nat, std::uint64_t conn = 0) {
    table.update(aor, [&](std::vector<Binding>& bs) {
      Binding b;
      b.contact = "sip:" + aor + "@192.168.1.10:5062";
      b.expires = now + 3600;
      b.call_id = "reg-" + ruid;
      b.cseq = 1;
      b.proto = std::move(proto);
      b.source_ip = std::move(ip);
      b.source_port = port;
      b.connection_id = conn;
      b.ruid = ruid;
      b.flags = nat ? sipproxy::usrloc::kFlagNat : 0;
      b.last_modified = now;
      bs.push_back(std::move(b));
      return true;
    });
  }

  // The 200 a UA would answer the ping with.
  static sipproxy::Message answer(const std::string& ping, int code = 200) {
    auto req = sipproxy::Message::parse(ping);
    EXPECT_TRUE(req.ok()) << ping;
    auto resp = sipproxy::Message::parse(req.value().make_response(code, "OK", "uatag"));
    EXPECT_TRUE(resp.ok());
    return std::move(resp.value());
  }

  std::int64_t now = 1'700'000'000;
  usrloc::LocationTable table;
  std::vector<Sent> sent;
  Pinger pinger;
};

PingConfig udp_pings(bool nated_only) {
  PingConfig c;
  c.interval_s = 10;
  c.nated_only = nated_only;
  return c;
}

TEST(Keepalive, UdpPingToTheSourceOfNatedBindings) {
  Fixture f(udp_pings(true));
  f.add("alice", "r1", "udp", "127.0.0.1", 40000, true);
  f.add("bob", "r2", "udp", "198.51.100.5", 5060, false);
  f.add("carol", "r3", "tcp", "127.0.0.1", 40001, true, 7);  // connection: not without natping_tcp
  f.pinger.run_round();
  ASSERT_EQ(f.sent.size(), 1u);
  EXPECT_EQ(f.sent[0].to.ip, "127.0.0.1");  // the source, never the private Contact
  EXPECT_EQ(f.sent[0].to.port, 40000);
  EXPECT_EQ(f.sent[0].to.proto, "udp");
  EXPECT_EQ(f.sent[0].connection, 0u);
  EXPECT_EQ(f.sent[0].bytes, std::string("\0\0\0\0", 4));
  EXPECT_EQ(f.pinger.stats().udp_pings, 1u);
}

TEST(Keepalive, AllBindingsAndConnections) {
  PingConfig cfg = udp_pings(false);
  cfg.natping_tcp = true;
  Fixture f(cfg);
  f.add("alice", "r1", "udp", "127.0.0.1", 40000, true);
  f.add("bob", "r2", "udp", "127.0.0.1", 40002, false);
  f.add("carol", "r3", "tcp", "127.0.0.1", 40001, true, 7);
  f.add("dave", "r4", "ws", "127.0.0.1", 40003, true, 8);  // no CRLF inside WebSocket
  f.pinger.run_round();
  ASSERT_EQ(f.sent.size(), 3u);
  auto tcp = std::find_if(f.sent.begin(), f.sent.end(), [](const Sent& s) { return s.connection; });
  ASSERT_NE(tcp, f.sent.end());
  EXPECT_EQ(tcp->connection, 7u);
  EXPECT_EQ(tcp->bytes, "\r\n\r\n");
}

TEST(Keepalive, DisabledSendsNothing) {
  Fixture f(udp_pings(false));
  f.add("alice", "r1", "udp", "127.0.0.1", 40000, true);
  f.pinger.set_enabled(false);
  f.pinger.run_round();
  EXPECT_TRUE(f.sent.empty());
  f.pinger.set_enabled(true);
  f.pinger.run_round();
  EXPECT_EQ(f.sent.size(), 1u);
}

PingConfig sip_pings(std::int64_t timeout) {
  PingConfig c;
  c.interval_s = 10;
  c.nated_only = true;
  c.sipping_from = "sip:pinger@example.com";
  c.keepalive_timeout_s = timeout;
  return c;
}

TEST(Keepalive, SipPingIsAWellFormedRequest) {
  Fixture f(sip_pings(0));
  f.add("alice", "r1", "udp", "127.0.0.1", 40000, true);
  f.pinger.run_round();
  ASSERT_EQ(f.sent.size(), 1u);
  auto req = sipproxy::Message::parse(f.sent[0].bytes);
  ASSERT_TRUE(req.ok()) << f.sent[0].bytes;
  EXPECT_EQ(req.value().validate(), std::nullopt);
  EXPECT_EQ(req.value().method(), proxy::sip::Method::kOptions);
  EXPECT_EQ(req.value().request_uri().to_string(), "sip:alice@192.168.1.10:5062");
  auto via = req.value().via(0);
  ASSERT_TRUE(via);
  EXPECT_TRUE(via->branch.starts_with(Pinger::kBranchPrefix));
  EXPECT_EQ(via->host, "127.0.0.1");
  EXPECT_TRUE(std::string(req.value().from_tag()).starts_with("r1-"));
  EXPECT_EQ(f.sent[0].to.ip, "127.0.0.1");
  EXPECT_EQ(f.pinger.stats().sip_pings, 1u);
}

TEST(Keepalive, RepliesKeepBindingsSilentOnesAreRemoved) {
  Fixture f(sip_pings(30));
  f.add("alice", "r1", "udp", "127.0.0.1", 40000, true);
  f.add("bob", "r2", "udp", "127.0.0.1", 40001, true);
  for (int round = 0; round < 6; round++) {
    f.sent.clear();
    f.pinger.run_round();
    // alice answers every ping, bob never does
    for (const Sent& s : f.sent) {
      if (s.to.port == 40000) {
        EXPECT_TRUE(f.pinger.on_reply(Fixture::answer(s.bytes)));
      }
    }
    f.now += 10;
  }
  EXPECT_EQ(f.table.get("alice").size(), 1u);
  EXPECT_TRUE(f.table.get("bob").empty());
  EXPECT_EQ(f.pinger.stats().removed, 1u);
  EXPECT_GE(f.pinger.stats().replies, 5u);
}

TEST(Keepalive, ReRegisterCountsAsAlive) {
  Fixture f(sip_pings(25));
  f.add("bob", "r2", "udp", "127.0.0.1", 40001, true);
  for (int round = 0; round < 6; round++) {
    f.pinger.run_round();
    f.now += 10;
    // a REGISTER refresh every 20 s updates last_modified
    if (round % 2 == 1) {
      f.table.update("bob", [&](std::vector<Binding>& bs) {
        bs.at(0).last_modified = f.now;
        return true;
      });
    }
  }
  EXPECT_EQ(f.table.get("bob").size(), 1u);
  EXPECT_EQ(f.pinger.stats().removed, 0u);
}

TEST(Keepalive, ForeignRepliesAreIgnored) {
  Fixture f(sip_pings(30));
  f.add("alice", "r1", "udp", "127.0.0.1", 40000, true);
  f.pinger.run_round();
  ASSERT_EQ(f.sent.size(), 1u);
  const std::string ping = f.sent[0].bytes;
  EXPECT_TRUE(f.pinger.on_reply(Fixture::answer(ping, 404)));  // any answer shows it is there

  std::string other_from = ping;
  other_from.replace(other_from.find("pinger@"), 7, "intrud@");
  EXPECT_FALSE(f.pinger.on_reply(Fixture::answer(other_from)));
  std::string unknown = ping;
  unknown.replace(unknown.find("tag=r1-"), 7, "tag=zz-");
  EXPECT_FALSE(f.pinger.on_reply(Fixture::answer(unknown)));
  std::string no_dash = ping;
  no_dash.replace(no_dash.find("tag=r1-"), 7, "tag=r1x");
  EXPECT_FALSE(f.pinger.on_reply(Fixture::answer(no_dash)));
  std::string two_vias = ping;
  two_vias.insert(two_vias.find("Max-Forwards"), "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-x\r\n");
  EXPECT_FALSE(f.pinger.on_reply(Fixture::answer(two_vias)));
  auto request = sipproxy::Message::parse(ping);
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(f.pinger.on_reply(request.value()));
}

}  // namespace
}  // namespace strowger::modules::nathelper
