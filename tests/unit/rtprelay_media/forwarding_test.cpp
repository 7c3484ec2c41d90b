// Forwarding through MediaEngine with real sockets on 127.0.0.1 and ::1: RTP and RTCP both
// ways, rtcp-mux bridging, counters, unknown peers, close and many pairs over two workers.
#include <gtest/gtest.h>

#include "media_test_util.h"
#include "rtprelay/media/media_engine.h"

namespace strowger::rtprelay::media {
namespace {

using test::Phone;
using test::query_sync;
using test::rtcp_packet;
using test::rtp_packet;
using test::side_at;
using test::wait_until;

class Forwarding : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      PortPoolConfig c;
      c.local = *Endpoint::parse(i == 0 ? "127.0.0.1" : "::1", 0);
      c.port_min = test::test_port_base(10 + i);
      c.port_max = static_cast<std::uint16_t>(c.port_min + 1999);
      pools_[i] = std::move(PortPool::create(c).value());
    }
    EngineConfig ec = test::engine_config();
    ec.workers = 2;
    auto e = MediaEngine::create(ec, nullptr);
    ASSERT_TRUE(e.ok());
    engine_ = std::move(e.value());
  }
  PortPair alloc(int v6 = 0) { return std::move(pools_[v6]->allocate().value()); }

  std::unique_ptr<PortPool> pools_[2];
  std::unique_ptr<MediaEngine> engine_;
};

TEST_F(Forwarding, RtpBothWaysV4AndV6AndAcrossFamilies) {
  for (auto [fa, fb] : {std::pair{0, 0}, std::pair{1, 1}, std::pair{0, 1}}) {
    Phone a(fa ? "::1" : "127.0.0.1"), b(fb ? "::1" : "127.0.0.1");
    PortPair pa = alloc(fa), pb = alloc(fb);
    Endpoint relay_a = pa.local_rtp(), relay_b = pb.local_rtp();
    PairId id =
        engine_->create_pair(std::move(pa), std::move(pb), side_at(a.local()), side_at(b.local()));
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(a.send(relay_a, rtp_packet(1, 0xa1)));
    Endpoint from;
    auto got = b.recv(1000, &from);
    ASSERT_TRUE(got) << "A->B not forwarded";
    EXPECT_EQ((*got)[12], 0xa1);
    EXPECT_EQ(got->size(), 172u);
    EXPECT_TRUE(from == relay_b) << from.to_string();
    ASSERT_TRUE(b.send(relay_b, rtp_packet(1, 0xb1)));
    got = a.recv(1000, &from);
    ASSERT_TRUE(got) << "B->A not forwarded";
    EXPECT_EQ((*got)[12], 0xb1);
    EXPECT_TRUE(from == relay_a);
    engine_->close(id);
  }
}

TEST_F(Forwarding, RtcpBothWaysOnRtcpPorts) {
  Phone a_rtp, b_rtp;
  Phone a_rtcp("127.0.0.1", 0), b_rtcp("127.0.0.1", 0);
  PortPair pa = alloc(), pb = alloc();
  Endpoint relay_a_rtcp = pa.local_rtcp(), relay_b_rtcp = pb.local_rtcp();
  SideParams sa = side_at(a_rtp.local()), sb = side_at(b_rtp.local());
  sa.expected_rtcp = a_rtcp.local();  // a=rtcp: RTCP port not RTP+1
  sb.expected_rtcp = b_rtcp.local();
  PairId id = engine_->create_pair(std::move(pa), std::move(pb), sa, sb);
  ASSERT_TRUE(a_rtcp.send(relay_a_rtcp, rtcp_packet(1)));
  Endpoint from;
  auto got = b_rtcp.recv(1000, &from);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[8], 1);
  EXPECT_TRUE(from == relay_b_rtcp);
  ASSERT_TRUE(b_rtcp.send(relay_b_rtcp, rtcp_packet(2)));
  got = a_rtcp.recv(1000, &from);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[8], 2);
  EXPECT_TRUE(from == relay_a_rtcp);
  EXPECT_FALSE(a_rtp.recv(50)) << "RTCP leaked onto the RTP port";
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->a.counters.rtcp_packets, 1u);
  EXPECT_EQ(st->a.counters.rtp_packets, 0u);
  EXPECT_EQ(st->b.counters.rtcp_packets, 1u);
  EXPECT_EQ(st->b.counters.sent_packets, 1u);
}

TEST_F(Forwarding, RtcpMuxDemuxedAndBridgedToSeparateRtcp) {
  Phone a;  // WebRTC-like: RTP and RTCP on one port
  Phone b_rtp("127.0.0.1", test::test_port_base(20)),
      b_rtcp("127.0.0.1", test::test_port_base(20) + 1);
  ASSERT_TRUE(b_rtp.ok() && b_rtcp.ok());
  PortPair pa = alloc(), pb = alloc();
  Endpoint relay_a = pa.local_rtp(), relay_b = pb.local_rtp(), relay_b_rtcp = pb.local_rtcp();
  PairId id = engine_->create_pair(std::move(pa), std::move(pb), side_at(a.local(), true),
                                   side_at(b_rtp.local(), false));  // b's RTCP = RTP+1
  // Muxed RTCP from A goes out of B's RTCP port to B's RTCP port; RTP stays on RTP.
  ASSERT_TRUE(a.send(relay_a, rtcp_packet(7)));
  ASSERT_TRUE(a.send(relay_a, rtp_packet(1, 8)));
  Endpoint from;
  auto got = b_rtcp.recv(1000, &from);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[1], 200);
  EXPECT_TRUE(from == relay_b_rtcp);
  got = b_rtp.recv(1000, &from);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[12], 8);
  EXPECT_TRUE(from == relay_b);
  // B's RTCP arrives at A muxed, from the relay's RTP port.
  ASSERT_TRUE(b_rtcp.send(relay_b_rtcp, rtcp_packet(9)));
  got = a.recv(1000, &from);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[8], 9);
  EXPECT_TRUE(from == relay_a);
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->a.counters.rtcp_packets, 1u);
  EXPECT_EQ(st->a.counters.rtp_packets, 1u);
  EXPECT_EQ(st->b.counters.rtcp_packets, 1u);
  EXPECT_EQ(st->a.counters.sent_packets, 1u);
  EXPECT_EQ(st->b.counters.sent_packets, 2u);
}

TEST_F(Forwarding, CountersPerSide) {
  Phone a, b;
  PortPair pa = alloc(), pb = alloc();
  Endpoint relay_a = pa.local_rtp(), relay_b = pb.local_rtp();
  PairId id =
      engine_->create_pair(std::move(pa), std::move(pb), side_at(a.local()), side_at(b.local()));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a.send(relay_a, rtp_packet(i, 0, 100)));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b.recv());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.send(relay_b, rtp_packet(i, 0, 60)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.recv());
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->id, id);
  EXPECT_EQ(st->a.counters.rtp_packets, 10u);
  EXPECT_EQ(st->a.counters.rtp_bytes, 1000u);
  EXPECT_EQ(st->b.counters.sent_packets, 10u);
  EXPECT_EQ(st->b.counters.sent_bytes, 1000u);
  EXPECT_EQ(st->b.counters.rtp_packets, 3u);
  EXPECT_EQ(st->a.counters.sent_bytes, 180u);
  EXPECT_EQ(st->a.counters.errors, 0u);
  EXPECT_GT(st->a.counters.last_packet_ms, 0);
  EXPECT_GE(st->last_packet_ms, st->created_ms);
  EXPECT_TRUE(st->a.rtp_peer == a.local());
  EXPECT_TRUE(st->a.local_rtp == relay_a);
  EXPECT_FALSE(query_sync(*engine_, id + 256)) << "unknown pair must answer nullopt";
  EXPECT_FALSE(query_sync(*engine_, 0));
}

TEST_F(Forwarding, LargestPacketForwardedLongerDropped) {
  Phone a, b;
  PortPair pa = alloc(), pb = alloc();
  Endpoint relay_a = pa.local_rtp();
  PairId id =
      engine_->create_pair(std::move(pa), std::move(pb), side_at(a.local()), side_at(b.local()));
  ASSERT_TRUE(a.send(relay_a, rtp_packet(1, 0x51, kMaxPacket + 1)));
  ASSERT_TRUE(a.send(relay_a, rtp_packet(2, 0x52, kMaxPacket)));
  auto got = b.recv();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), kMaxPacket);
  EXPECT_EQ((*got)[12], 0x52) << "the oversized packet went through";
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->a.counters.dropped_bad, 1u);
  EXPECT_EQ(st->a.counters.rtp_packets, 1u);
  EXPECT_EQ(st->b.counters.sent_bytes, kMaxPacket);
}

TEST_F(Forwarding, UnknownPeerDropsUntilAnswer) {
  Phone a, b;
  PortPair pa = alloc(), pb = alloc();
  Endpoint relay_a = pa.local_rtp();
  // Offer only: B's address is not known yet.
  PairId id = engine_->create_pair(std::move(pa), std::move(pb), side_at(a.local()), SideParams{});
  ASSERT_TRUE(a.send(relay_a, rtp_packet(1)));
  ASSERT_TRUE(wait_until(*engine_, [&] {
    auto st = query_sync(*engine_, id);
    return st && st->a.counters.dropped_no_peer == 1;
  }));
  engine_->update_side(id, SideIndex::kB, side_at(b.local()));
  ASSERT_TRUE(a.send(relay_a, rtp_packet(2, 0x22)));
  auto got = b.recv();
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[12], 0x22);
}

TEST_F(Forwarding, CloseFreesPortsAndStopsForwarding) {
  Phone a, b;
  PortPair pa = alloc(), pb = alloc();
  std::uint16_t port_a = pa.rtp_port();
  Endpoint relay_a = pa.local_rtp();
  EXPECT_EQ(pools_[0]->pairs_in_use(), 2u);
  PairId id =
      engine_->create_pair(std::move(pa), std::move(pb), side_at(a.local()), side_at(b.local()));
  ASSERT_TRUE(a.send(relay_a, rtp_packet(1)));
  ASSERT_TRUE(b.recv());
  engine_->close(id);
  ASSERT_TRUE(wait_until(*engine_, [&] { return pools_[0]->pairs_in_use() == 0; }));
  EXPECT_FALSE(query_sync(*engine_, id));
  Phone rebind("127.0.0.1", port_a);
  EXPECT_TRUE(rebind.ok()) << "port still bound after close";
  engine_->close(id);  // twice: harmless
}

TEST_F(Forwarding, ManyPairsAcrossTwoWorkers) {
  constexpr int kPairs = 100;
  std::vector<std::unique_ptr<Phone>> as, bs;
  std::vector<Endpoint> relay_a;
  std::vector<PairId> ids;
  int per_worker[2] = {0, 0};
  for (int i = 0; i < kPairs; ++i) {
    as.push_back(std::make_unique<Phone>());
    bs.push_back(std::make_unique<Phone>());
    PortPair pa = alloc(), pb = alloc();
    relay_a.push_back(pa.local_rtp());
    ids.push_back(engine_->create_pair(std::move(pa), std::move(pb), side_at(as[i]->local()),
                                       side_at(bs[i]->local())));
    ++per_worker[MediaEngine::worker_of(ids.back())];
  }
  EXPECT_EQ(per_worker[0], kPairs / 2);
  EXPECT_EQ(per_worker[1], kPairs / 2);
  for (int round = 0; round < 5; ++round)
    for (int i = 0; i < kPairs; ++i) ASSERT_TRUE(as[i]->send(relay_a[i], rtp_packet(round, i)));
  for (int i = 0; i < kPairs; ++i)
    for (int round = 0; round < 5; ++round) {
      auto got = bs[i]->recv();
      ASSERT_TRUE(got) << "pair " << i << " round " << round;
      EXPECT_EQ((*got)[12], i) << "packet crossed to another call";
    }
  for (PairId id : ids) engine_->close(id);
  ASSERT_TRUE(wait_until(*engine_, [&] { return pools_[0]->pairs_in_use() == 0; }));
}

TEST_F(Forwarding, DestroyingTheEngineReleasesPorts) {
  Phone a, b;
  engine_->create_pair(alloc(), alloc(), side_at(a.local()), side_at(b.local()));
  engine_->create_pair(alloc(1), alloc(1), SideParams{}, SideParams{});
  engine_.reset();
  EXPECT_EQ(pools_[0]->pairs_in_use(), 0u);
  EXPECT_EQ(pools_[1]->pairs_in_use(), 0u);
}

}  // namespace
}  // namespace strowger::rtprelay::media
