// Latching as rtpengine does it: learn a NATed phone's real source, strict-source, asymmetric,
// media-handover, the delayed confirmation window and re-learning after new SDP.
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

class Latching : public ::testing::Test {
 protected:
  void start(std::int64_t confirm_delay_ms) {
    PortPoolConfig c;
    c.local = *Endpoint::parse("127.0.0.1", 0);
    c.port_min = test::test_port_base(30);
    c.port_max = static_cast<std::uint16_t>(c.port_min + 199);
    pool_ = std::move(PortPool::create(c).value());
    EngineConfig ec = test::engine_config();
    ec.workers = 1;
    ec.confirm_delay_ms = confirm_delay_ms;
    engine_ = std::move(MediaEngine::create(ec, nullptr).value());
  }
  // A pair whose side A advertises sdp_a in its SDP; B is a plain phone.
  PairId make(const Endpoint& sdp_a, StreamFlags flags_a = {}) {
    PortPair pa = std::move(pool_->allocate().value());
    PortPair pb = std::move(pool_->allocate().value());
    relay_a_ = pa.local_rtp();
    relay_b_ = pb.local_rtp();
    return engine_->create_pair(std::move(pa), std::move(pb), side_at(sdp_a, false, flags_a),
                                side_at(b_.local()));
  }
  // B sends one packet; returns the tag seen by whichever of the phones got it.
  bool b_to(Phone& target, std::uint8_t tag) {
    if (!b_.send(relay_b_, rtp_packet(tag, tag))) return false;
    auto got = target.recv(500);
    return got && (*got)[12] == tag;
  }

  std::unique_ptr<PortPool> pool_;
  std::unique_ptr<MediaEngine> engine_;
  Phone b_;
  Endpoint relay_a_, relay_b_;
};

TEST_F(Latching, NatedPhoneGetsMediaAtItsRealSource) {
  start(3000);
  Phone sdp_says;  // the private address in the phone's SDP
  Phone real;      // where its packets really come from (the NAT's mapping)
  PairId id = make(sdp_says.local());
  ASSERT_TRUE(b_to(sdp_says, 1)) << "before any packet from A, media goes to the SDP address";
  ASSERT_TRUE(real.send(relay_a_, rtp_packet(1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(real, 2)) << "not latched to the real source";
  EXPECT_FALSE(sdp_says.recv(50));
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->a.rtp_peer == real.local());
  EXPECT_FALSE(st->a.confirmed) << "inside the 3 s learning window";
}

TEST_F(Latching, LearningWindowFollowsLatestSourceThenConfirms) {
  start(300);
  Phone first, second, third;
  PairId id = make(first.local());
  ASSERT_TRUE(first.send(relay_a_, rtp_packet(1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(second.send(relay_a_, rtp_packet(2)));  // still learning: the latch moves
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(second, 3));
  usleep(350 * 1000);
  ASSERT_TRUE(second.send(relay_a_, rtp_packet(4)));  // past the window: confirms `second`
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(third.send(relay_a_, rtp_packet(5)));  // forwarded (no strict-source)...
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(second, 6)) << "...but a confirmed latch does not move";
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->a.confirmed);
  EXPECT_EQ(st->a.counters.dropped_strict, 0u);
}

TEST_F(Latching, StrictSourceDropsOtherSources) {
  start(0);
  Phone a, intruder;
  StreamFlags f;
  f.strict_source = true;
  PairId id = make(a.local(), f);
  ASSERT_TRUE(a.send(relay_a_, rtp_packet(1, 1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(intruder.send(relay_a_, rtp_packet(2, 2)));
  ASSERT_TRUE(a.send(relay_a_, rtp_packet(3, 3)));
  auto got = b_.recv();
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[12], 3) << "intruder's packet was forwarded";
  EXPECT_FALSE(b_.recv(50));
  ASSERT_TRUE(b_to(a, 4));
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->a.counters.dropped_strict, 1u);
  EXPECT_EQ(st->a.counters.errors, 1u);
  EXPECT_EQ(st->a.counters.rtp_packets, 2u);
}

TEST_F(Latching, AsymmetricAlwaysSendsToSdpAddress) {
  start(0);
  Phone sdp_says, real;
  StreamFlags f;
  f.asymmetric = true;
  PairId id = make(sdp_says.local(), f);
  ASSERT_TRUE(real.send(relay_a_, rtp_packet(1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(sdp_says, 2));
  EXPECT_FALSE(real.recv(50));
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->a.rtp_peer == sdp_says.local());
}

TEST_F(Latching, MediaHandoverFollowsNewSource) {
  start(0);
  Phone a, moved;
  StreamFlags f;
  f.media_handover = true;
  make(a.local(), f);
  ASSERT_TRUE(a.send(relay_a_, rtp_packet(1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(a, 2));
  ASSERT_TRUE(moved.send(relay_a_, rtp_packet(3)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(moved, 4));
  EXPECT_FALSE(a.recv(50));
}

TEST_F(Latching, NewSdpAddressRestartsLearning) {
  start(0);
  Phone a, reinvite;
  PairId id = make(a.local());
  ASSERT_TRUE(a.send(relay_a_, rtp_packet(1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(a, 2));
  engine_->update_side(id, SideIndex::kA, side_at(reinvite.local()));
  ASSERT_TRUE(b_to(reinvite, 3)) << "re-INVITE address not used";
  ASSERT_TRUE(reinvite.send(relay_a_, rtp_packet(4)));
  ASSERT_TRUE(b_.recv());
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->a.confirmed);
  EXPECT_TRUE(st->a.rtp_peer == reinvite.local());
}

TEST_F(Latching, StrayRtcpOnRtpPortDoesNotMoveTheLatch) {
  start(3000);
  Phone a, a_rtcp;
  make(a.local());
  ASSERT_TRUE(a.send(relay_a_, rtp_packet(1)));
  ASSERT_TRUE(b_.recv());
  // No rtcp-mux on A, yet RTCP arrives on the RTP port from elsewhere: forwarded, not learned.
  ASSERT_TRUE(a_rtcp.send(relay_a_, rtcp_packet(1)));
  ASSERT_TRUE(b_.recv());
  ASSERT_TRUE(b_to(a, 2));
}

TEST_F(Latching, RtcpLatchesSeparatelyFromRtp) {
  start(0);
  Phone a, a_rtcp_real;
  PairId id = make(a.local());
  Endpoint relay_a_rtcp = relay_a_.with_port(static_cast<std::uint16_t>(relay_a_.port() + 1));
  ASSERT_TRUE(a_rtcp_real.send(relay_a_rtcp, rtcp_packet(1)));
  ASSERT_TRUE(
      b_.send(relay_b_.with_port(static_cast<std::uint16_t>(relay_b_.port() + 1)), rtcp_packet(5)));
  auto got = a_rtcp_real.recv(500);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[8], 5);
  auto st = query_sync(*engine_, id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->a.rtcp_peer == a_rtcp_real.local());
  EXPECT_TRUE(st->a.rtp_peer == a.local());
}

}  // namespace
}  // namespace strowger::rtprelay::media
