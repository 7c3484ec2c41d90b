// The call layer end to end on loopback: ng commands through NgDispatcher and a real UDP ng
// socket, rewritten SDP, RTP through the relay between two fake phones, query counters,
// delete (with delete-delay), re-offers, rejected streams, ICE, refusals, media timeout.
#include "rtprelay/calls/call_table.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <thread>

#include "../rtprelay_media/media_test_util.h"
#include "rtprelay/control/ng_server.h"
#include "rtprelay/sdp/session_description.h"

namespace strowger::rtprelay::calls {
namespace {

using media::Endpoint;
using media::test::Phone;
using media::test::rtp_packet;

std::string offer_sdp(const Phone& p, int streams = 1, const std::string& extra = "") {
  std::string s = "v=0\r\no=- 1 1 IN IP4 " + p.local().ip_string() + "\r\ns=-\r\nc=IN IP4 " +
                  p.local().ip_string() + "\r\nt=0 0\r\n";
  for (int i = 0; i < streams; ++i)
    s += std::string("m=") + (i == 0 ? "audio " : "video ") +
         std::to_string(p.local().port() + 2 * i) + " RTP/AVP 0\r\na=sendrecv\r\n" + extra;
  return s;
}

class CallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    std::uint16_t lo = media::test::test_port_base(3);
    auto ifs = InterfaceSet::create({{"default", "127.0.0.1", "", 1}, {"default", "::1", "", 2}},
                                    lo, static_cast<std::uint16_t>(lo + 99));
    ASSERT_TRUE(ifs.ok()) << ifs.error().message;
    interfaces_ = std::move(ifs.value());
    media::EngineConfig ec;
    ec.workers = 2;
    ec.timeout_check_ms = 50;
    auto e = media::MediaEngine::create(ec, base_);
    ASSERT_TRUE(e.ok());
    engine_ = std::move(e.value());
    CallOptions co;
    co.media_timeout_ms = timeout_ms_;
    co.delete_delay_ms = 0;
    co.housekeeping_ms = 50;
    calls_ = std::make_unique<CallTable>(*interfaces_, *engine_, base_, co);
    dispatcher_ = std::make_unique<control::NgDispatcher>(clock_, control::NgDispatcherOptions{});
    calls_->register_commands(*dispatcher_);
  }
  void TearDown() override {
    calls_.reset();
    engine_.reset();
    interfaces_.reset();
    event_base_free(base_);
  }

  bencode::Dict ng(bencode::Dict req, const std::string& cookie = "") {
    std::string c = cookie.empty() ? "c" + std::to_string(++seq_) : cookie;
    std::string out = dispatcher_->handle(c, bencode::encode(req), peer_);
    last_raw_ = out;
    auto v = bencode::decode(out.substr(out.find(' ') + 1));
    EXPECT_TRUE(v.ok());
    return v.ok() && v.value().as_dict() ? *v.value().as_dict() : bencode::Dict();
  }
  static bencode::Dict req(std::initializer_list<std::pair<const char*, bencode::Value>> kv) {
    bencode::Dict d;
    for (auto& [k, v] : kv) d.set(k, v);
    return d;
  }
  std::string ok_sdp(const bencode::Dict& r) {
    EXPECT_EQ(r.get_string("result").value_or(""), "ok")
        << r.get_string("error-reason").value_or("");
    return std::string(r.get_string("sdp").value_or(""));
  }
  // The relay address/port each m= of a rewritten SDP points at.
  static std::vector<Endpoint> relay_ports(const std::string& text) {
    std::vector<Endpoint> out;
    auto sd = sdp::parse(text);
    EXPECT_TRUE(sd.ok());
    if (!sd.ok()) return out;
    for (const auto& m : sd.value().media)
      out.push_back(m.rejected() ? Endpoint()
                                 : *Endpoint::parse(m.effective_address->text, m.port));
    return out;
  }
  void pump(int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      event_base_loop(base_, EVLOOP_NONBLOCK);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Sets up caller `a` -> callee `b`; returns {port a sends to, port b sends to}.
  std::pair<Endpoint, Endpoint> call(const std::string& id, Phone& a, Phone& b) {
    auto o =
        ng(req({{"command", "offer"}, {"call-id", id}, {"from-tag", "ft"}, {"sdp", offer_sdp(a)}}));
    auto to_b = relay_ports(ok_sdp(o));
    auto r = ng(req({{"command", "answer"},
                     {"call-id", id},
                     {"from-tag", "ft"},
                     {"to-tag", "tt"},
                     {"sdp", offer_sdp(b)}}));
    auto to_a = relay_ports(ok_sdp(r));
    if (to_a.empty() || to_b.empty()) return {};
    return {to_a[0], to_b[0]};
  }
  static bool can_bind(const Endpoint& e) {
    Phone p(e.ip_string().c_str(), e.port());
    return p.ok();
  }

  std::int64_t timeout_ms_ = 60'000;
  event_base* base_ = nullptr;
  common::SteadyClock clock_;
  std::unique_ptr<InterfaceSet> interfaces_;
  std::unique_ptr<media::MediaEngine> engine_;
  std::unique_ptr<CallTable> calls_;
  std::unique_ptr<control::NgDispatcher> dispatcher_;
  control::Peer peer_;
  int seq_ = 0;
  std::string last_raw_;
};

TEST_F(CallsTest, Ping) {
  EXPECT_EQ(ng(req({{"command", "ping"}})).get_string("result"), "pong");
}

TEST_F(CallsTest, OfferAnswerMediaQueryDelete) {
  Phone a, b;
  auto [to_a, to_b] = call("c1", a, b);
  ASSERT_TRUE(to_a.is_set() && to_b.is_set());
  EXPECT_EQ(to_a.ip_string(), "127.0.0.1");
  EXPECT_NE(to_a.port(), to_b.port());
  EXPECT_EQ(to_a.port() % 2, 0);
  // Caller -> relay -> callee, and back.
  ASSERT_TRUE(a.send(to_a, rtp_packet(1, 0xa1)));
  Endpoint from;
  auto got = b.recv(1000, &from);
  ASSERT_TRUE(got) << "caller's RTP did not reach the callee";
  EXPECT_EQ((*got)[12], 0xa1);
  EXPECT_EQ(from, to_b);
  ASSERT_TRUE(b.send(to_b, rtp_packet(1, 0xb1)));
  got = a.recv(1000, &from);
  ASSERT_TRUE(got) << "callee's RTP did not reach the caller";
  EXPECT_EQ(from, to_a);

  auto q = ng(req({{"command", "query"}, {"call-id", "c1"}}));
  ASSERT_EQ(q.get_string("result"), "ok");
  const bencode::Dict* rtp = q.get_dict("totals")->get_dict("RTP");
  EXPECT_EQ(rtp->get_int("packets"), 2);
  EXPECT_EQ(rtp->get_int("bytes"), 344);
  const bencode::Dict* ft = q.get_dict("tags")->get_dict("ft");
  ASSERT_NE(ft, nullptr);
  EXPECT_EQ(ft->get_string("in dialogue with"), "tt");
  const bencode::Dict& m = *(*ft->get_list("medias"))[0].as_dict();
  EXPECT_EQ(m.get_string("type"), "audio");
  const bencode::Dict& st = *(*m.get_list("streams"))[0].as_dict();
  EXPECT_EQ(st.get_int("local port"), to_a.port());
  EXPECT_EQ(st.get_dict("stats")->get_int("packets"), 1);
  EXPECT_GT(st.get_int("last packet").value_or(0), 0);

  auto d = ng(req({{"command", "delete"}, {"call-id", "c1"}, {"from-tag", "ft"}}));
  EXPECT_EQ(d.get_string("result"), "ok");
  EXPECT_EQ(d.get_dict("totals")->get_dict("RTP")->get_int("packets"), 2);
  EXPECT_EQ(calls_->size(), 0u);
  pump(50);
  EXPECT_TRUE(can_bind(to_a)) << "ports not freed";
  EXPECT_TRUE(can_bind(to_b));
  EXPECT_EQ(ng(req({{"command", "query"}, {"call-id", "c1"}})).get_string("result"), "error");
}

TEST_F(CallsTest, TwoStreamsRejectedStreamAndReofferKeepsPorts) {
  Phone a;
  std::string sdp = offer_sdp(a, 2) + "m=audio 0 RTP/AVP 0\r\n";
  auto first = relay_ports(
      ok_sdp(ng(req({{"command", "offer"}, {"call-id", "c2"}, {"from-tag", "ft"}, {"sdp", sdp}}))));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_NE(first[0].port(), first[1].port());
  EXPECT_FALSE(first[2].is_set()) << "a port-0 stream must stay rejected";
  EXPECT_EQ(interfaces_->all()[0]->pool->pairs_in_use(), 4u);  // two streams, two legs each
  auto again = relay_ports(
      ok_sdp(ng(req({{"command", "offer"}, {"call-id", "c2"}, {"from-tag", "ft"}, {"sdp", sdp}}))));
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0], first[0]);
  EXPECT_EQ(again[1], first[1]);
  EXPECT_EQ(interfaces_->all()[0]->pool->pairs_in_use(), 4u);
}

TEST_F(CallsTest, IceRemoveAndDefaultStripCandidates) {
  Phone a;
  std::string ice =
      "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
      "a=candidate:1 1 UDP 2130706431 10.1.1.1 5000 typ host\r\n";
  auto r = ng(req({{"command", "offer"},
                   {"call-id", "c3"},
                   {"from-tag", "ft"},
                   {"sdp", offer_sdp(a, 1, ice)},
                   {"ICE", "remove"}}));
  std::string out = ok_sdp(r);
  EXPECT_EQ(out.find("candidate"), std::string::npos) << out;
  EXPECT_EQ(out.find("ice-ufrag"), std::string::npos);
  EXPECT_FALSE(r.contains("warning"));
  r = ng(req({{"command", "offer"},
              {"call-id", "c4"},
              {"from-tag", "ft"},
              {"sdp", offer_sdp(a, 1, ice)}}));
  EXPECT_EQ(ok_sdp(r).find("candidate"), std::string::npos);
  EXPECT_NE(r.get_string("warning").value_or("").find("ICE=force is not supported yet"),
            std::string::npos);
}

TEST_F(CallsTest, RefusedFeaturesAreErrorsWithReason) {
  Phone a;
  struct Case {
    const char* key;
    bencode::Value value;
    const char* reason;
  };
  std::vector<Case> cases = {
      {"ICE", "force", "ICE=force is not supported yet"},
      {"ICE", "force-relay", "not supported yet"},
      {"DTLS", "passive", "DTLS=passive is not supported yet"},
      {"transport-protocol", "RTP/SAVPF", "RTP/SAVPF is not supported yet"},
      {"flags", bencode::List{"SDES-only-AES_CM_128_HMAC_SHA1_80"}, "SDES"},
      {"flags", bencode::List{"record-call"}, "recording is not supported yet"},
      {"record call", "yes", "recording is not supported yet"},
      {"flags", bencode::List{"ICE=force"}, "ICE=force is not supported yet"},
  };
  for (const Case& c : cases) {
    auto r = ng(req({{"command", "offer"},
                     {"call-id", "r"},
                     {"from-tag", "ft"},
                     {"sdp", offer_sdp(a)},
                     {c.key, c.value}}));
    EXPECT_EQ(r.get_string("result"), "error") << c.key;
    EXPECT_NE(r.get_string("error-reason").value_or("").find(c.reason), std::string::npos)
        << c.key << ": " << r.get_string("error-reason").value_or("");
  }
  std::string savp = offer_sdp(a);
  savp.replace(savp.find("RTP/AVP"), 7, "RTP/SAVP");
  auto r = ng(req({{"command", "offer"}, {"call-id", "r"}, {"from-tag", "ft"}, {"sdp", savp}}));
  EXPECT_NE(r.get_string("error-reason").value_or("").find("not supported yet"), std::string::npos);
  r = ng(req({{"command", "start recording"}, {"call-id", "r"}}));
  EXPECT_EQ(r.get_string("result"), "error");
  EXPECT_EQ(calls_->size(), 0u);
  EXPECT_EQ(interfaces_->all()[0]->pool->pairs_in_use(), 0u);
  r = ng(req({{"command", "offer"}, {"call-id", "r"}, {"from-tag", "ft"}, {"sdp", "garbage"}}));
  EXPECT_NE(r.get_string("error-reason").value_or("").find("Failed to parse SDP"),
            std::string::npos);
}

TEST_F(CallsTest, UnknownFlagsWarnAndRetransmissionIsIdentical) {
  Phone a;
  auto q = req({{"command", "offer"},
                {"call-id", "c5"},
                {"from-tag", "ft"},
                {"sdp", offer_sdp(a)},
                {"flags", bencode::List{"trust-address", "no-such-flag"}}});
  auto r = ng(q, "same-cookie");
  std::string first = last_raw_;
  EXPECT_NE(r.get_string("warning").value_or("").find("no-such-flag"), std::string::npos);
  ng(q, "same-cookie");
  EXPECT_EQ(last_raw_, first);
  EXPECT_EQ(interfaces_->all()[0]->pool->pairs_in_use(), 2u);
}

TEST_F(CallsTest, DeleteDelayKeepsThenFrees) {
  Phone a, b;
  auto [to_a, to_b] = call("c6", a, b);
  auto d =
      ng(req({{"command", "delete"}, {"call-id", "c6"}, {"from-tag", "ft"}, {"delete-delay", 1}}));
  EXPECT_EQ(d.get_string("result"), "ok");
  EXPECT_EQ(calls_->size(), 1u);
  ASSERT_TRUE(a.send(to_a, rtp_packet(1)));
  EXPECT_TRUE(b.recv(1000)) << "media stops only when the delay is over";
  pump(1400);
  EXPECT_EQ(calls_->size(), 0u);
  pump(50);
  EXPECT_TRUE(can_bind(to_a));
  auto w = ng(req({{"command", "delete"}, {"call-id", "c6"}, {"from-tag", "ft"}}));
  EXPECT_EQ(w.get_string("result"), "ok");
  EXPECT_TRUE(w.contains("warning"));
  w = ng(req({{"command", "delete"}, {"call-id", "c6"}, {"flags", bencode::List{"fatal"}}}));
  EXPECT_EQ(w.get_string("result"), "error");
}

TEST_F(CallsTest, ListAndStatistics) {
  Phone a, b;
  call("L1", a, b);
  call("L2", a, b);
  auto l = ng(req({{"command", "list"}, {"limit", 1}}));
  EXPECT_EQ(l.get_list("calls")->size(), 1u);
  l = ng(req({{"command", "list"}}));
  EXPECT_EQ(l.get_list("calls")->size(), 2u);
  auto s = ng(req({{"command", "statistics"}}));
  const bencode::Dict* st = s.get_dict("statistics");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->get_dict("currentstatistics")->get_int("sessionsown"), 2);
  EXPECT_EQ(st->get_dict("totalstatistics")->get_int("managedsessions"), 2);
}

class CallsTimeoutTest : public CallsTest {
 protected:
  void SetUp() override {
    timeout_ms_ = 300;
    CallsTest::SetUp();
  }
};

TEST_F(CallsTimeoutTest, MediaTimeoutDeletesTheCall) {
  Phone a, b;
  auto [to_a, to_b] = call("t1", a, b);
  ASSERT_TRUE(to_a.is_set());
  for (int i = 0; i < 100 && calls_->size() > 0; ++i) pump(20);
  EXPECT_EQ(calls_->size(), 0u);
  EXPECT_EQ(calls_->counters().timeouts, 1u);
  pump(50);
  EXPECT_TRUE(can_bind(to_a));
}

TEST_F(CallsTest, OverARealUdpNgSocket) {
  control::NgServerOptions o;
  o.udp = {"127.0.0.1:0"};
  control::NgServer server(base_, o, clock_);
  calls_->register_commands(server.dispatcher());
  ASSERT_FALSE(server.start());
  sockaddr_storage to = server.udp_addresses()[0];
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  Phone a;
  std::string msg =
      "k1 " +
      bencode::encode(req(
          {{"command", "offer"}, {"call-id", "u1"}, {"from-tag", "ft"}, {"sdp", offer_sdp(a)}}));
  ASSERT_GT(::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof(sockaddr_in)),
            0);
  std::string reply;
  for (int i = 0; i < 200 && reply.empty(); ++i) {
    event_base_loop(base_, EVLOOP_NONBLOCK);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5) > 0) {
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) reply.assign(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  ASSERT_EQ(reply.rfind("k1 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("6:result2:ok"), std::string::npos) << reply;
  EXPECT_NE(reply.find("m=audio "), std::string::npos);
}

}  // namespace
}  // namespace strowger::rtprelay::calls
