// Media timeout: a pair idle for its timeout is reported once to the control thread, also when
// no packet ever came; traffic keeps it alive; set_timeout(0) disables it; libevent delivery.
#include <event2/event.h>
#include <gtest/gtest.h>

#include "media_test_util.h"
#include "rtprelay/media/media_engine.h"

namespace strowger::rtprelay::media {
namespace {

using test::Phone;
using test::rtp_packet;
using test::side_at;
using test::wait_until;

class Timeout : public ::testing::Test {
 protected:
  void SetUp() override {
    PortPoolConfig c;
    c.local = *Endpoint::parse("127.0.0.1", 0);
    c.port_min = test::test_port_base(40);
    c.port_max = static_cast<std::uint16_t>(c.port_min + 99);
    pool_ = std::move(PortPool::create(c).value());
  }
  std::unique_ptr<MediaEngine> engine(event_base* base = nullptr) {
    EngineConfig ec = test::engine_config();
    ec.workers = 2;
    ec.timeout_check_ms = 20;
    auto e = std::move(MediaEngine::create(ec, base).value());
    e->set_timeout_handler([this](PairId id, const PairStats& st) {
      timed_out_.push_back(id);
      last_stats_ = st;
    });
    return e;
  }
  PortPair alloc() { return std::move(pool_->allocate().value()); }

  std::unique_ptr<PortPool> pool_;
  std::vector<PairId> timed_out_;
  PairStats last_stats_;
};

TEST_F(Timeout, IdleBeforeFirstPacketTimesOut) {
  auto e = engine();
  PairOptions o;
  o.timeout_ms = 150;
  std::int64_t t0 = monotonic_ms();
  PairId id = e->create_pair(alloc(), alloc(), SideParams{}, SideParams{}, o);
  ASSERT_TRUE(wait_until(
      *e, [&] { return !timed_out_.empty(); }, 2000));
  EXPECT_GE(monotonic_ms() - t0, 150);
  EXPECT_EQ(timed_out_[0], id);
  EXPECT_EQ(last_stats_.last_packet_ms, 0);
  // Reported once, not on every check.
  wait_until(
      *e, [] { return false; }, 150);
  EXPECT_EQ(timed_out_.size(), 1u);
}

TEST_F(Timeout, TrafficKeepsPairAliveThenSilenceEndsIt) {
  auto e = engine();
  Phone a, b;
  PortPair pa = alloc();
  Endpoint relay_a = pa.local_rtp();
  PairOptions o;
  o.timeout_ms = 200;
  PairId id = e->create_pair(std::move(pa), alloc(), side_at(a.local()), side_at(b.local()), o);
  for (int i = 0; i < 12; ++i) {  // 600 ms of media, every 50 ms
    ASSERT_TRUE(a.send(relay_a, rtp_packet(i)));
    ASSERT_TRUE(b.recv());
    wait_until(
        *e, [] { return false; }, 50);
  }
  EXPECT_TRUE(timed_out_.empty()) << "timed out while media flowed";
  ASSERT_TRUE(wait_until(
      *e, [&] { return !timed_out_.empty(); }, 2000));
  EXPECT_EQ(timed_out_[0], id);
  EXPECT_EQ(last_stats_.a.counters.rtp_packets, 12u);
  // New media after the report, then silence again: reported again.
  ASSERT_TRUE(a.send(relay_a, rtp_packet(99)));
  ASSERT_TRUE(b.recv());
  ASSERT_TRUE(wait_until(
      *e, [&] { return timed_out_.size() == 2; }, 2000));
}

TEST_F(Timeout, ZeroDisables) {
  auto e = engine();
  PairOptions o;
  o.timeout_ms = 100;
  PairId id = e->create_pair(alloc(), alloc(), SideParams{}, SideParams{}, o);
  e->set_timeout(id, 0);
  wait_until(
      *e, [] { return false; }, 300);
  EXPECT_TRUE(timed_out_.empty());
}

TEST_F(Timeout, DeliveredOnTheControlLibeventLoop) {
  event_base* base = event_base_new();
  {
    auto e = engine(base);
    PairOptions o;
    o.timeout_ms = 100;
    PairId id = e->create_pair(alloc(), alloc(), SideParams{}, SideParams{}, o);
    bool answered = false;
    e->query(id, [&](std::optional<PairStats> st) { answered = st.has_value(); });
    for (int i = 0; i < 200 && (timed_out_.empty() || !answered); ++i) {
      timeval tv{0, 10'000};
      event_base_loopexit(base, &tv);
      event_base_dispatch(base);
    }
    EXPECT_TRUE(answered);
    ASSERT_EQ(timed_out_.size(), 1u);
    EXPECT_EQ(timed_out_[0], id);
  }
  event_base_free(base);
}

}  // namespace
}  // namespace strowger::rtprelay::media
