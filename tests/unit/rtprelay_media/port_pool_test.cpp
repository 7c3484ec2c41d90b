// PortPool: pairs are even/odd and really bound, the cursor wraps, released ports come back
// only after the range cycles, ports held by others are skipped, exhaustion is an error.
#include "rtprelay/media/port_pool.h"

#include <gtest/gtest.h>

#include "media_test_util.h"

namespace strowger::rtprelay::media {
namespace {

using test::Phone;

std::unique_ptr<PortPool> make_pool(const char* ip, std::uint16_t min, std::uint16_t max) {
  PortPoolConfig c;
  c.local = *Endpoint::parse(ip, 0);
  c.port_min = min;
  c.port_max = max;
  auto r = PortPool::create(c);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r.value()) : nullptr;
}

TEST(PortPool, RejectsEmptyRangeAndNoAddress) {
  PortPoolConfig c;
  c.local = *Endpoint::parse("127.0.0.1", 0);
  c.port_min = 5001;
  c.port_max = 5002;  // 5002 is even but 5003 is out of range
  EXPECT_FALSE(PortPool::create(c).ok());
  c.port_min = 6000;
  c.port_max = 5000;
  EXPECT_FALSE(PortPool::create(c).ok());
  PortPoolConfig none;
  EXPECT_FALSE(PortPool::create(none).ok());
}

TEST(PortPool, AllocatesBoundEvenOddPairsV4AndV6) {
  for (const char* ip : {"127.0.0.1", "::1"}) {
    std::uint16_t base = test::test_port_base(1);
    auto pool = make_pool(ip, static_cast<std::uint16_t>(base + 1), base + 40);  // odd min
    auto p = pool->allocate();
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->rtp_port() % 2, 0);
    EXPECT_EQ(p->rtcp_port(), p->rtp_port() + 1);
    EXPECT_GE(p->rtp_port(), base + 2);
    EXPECT_EQ(p->local_rtp().ip_string(), ip);
    // Both really bound: nobody else can take them.
    Phone thief(ip, p->rtp_port());
    EXPECT_FALSE(thief.ok());
    Phone thief2(ip, p->rtcp_port());
    EXPECT_FALSE(thief2.ok());
    EXPECT_EQ(pool->pairs_in_use(), 1u);
    EXPECT_TRUE(pool->in_use(p->rtp_port()));
  }
}

TEST(PortPool, ExhaustionIsAnErrorAndReleaseFreesThePair) {
  std::uint16_t base = test::test_port_base(2);
  auto pool = make_pool("127.0.0.1", base, base + 5);  // 3 pairs
  ASSERT_EQ(pool->pairs_total(), 3u);
  std::vector<PortPair> held;
  for (int i = 0; i < 3; ++i) {
    auto p = pool->allocate();
    ASSERT_TRUE(p.ok()) << p.error().message;
    held.push_back(std::move(p.value()));
  }
  auto none = pool->allocate();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, EADDRNOTAVAIL);
  std::uint16_t freed = held[1].rtp_port();
  held[1].reset();
  EXPECT_EQ(pool->pairs_in_use(), 2u);
  auto again = pool->allocate();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rtp_port(), freed);
}

TEST(PortPool, CursorWrapsAndDoesNotReuseAJustFreedPort) {
  std::uint16_t base = test::test_port_base(3);
  auto pool = make_pool("127.0.0.1", base, base + 7);  // 4 pairs
  std::vector<std::uint16_t> seen;
  {
    auto p = pool->allocate();
    ASSERT_TRUE(p.ok());
    seen.push_back(p->rtp_port());
  }  // released at once
  for (int i = 0; i < 3; ++i) {
    auto p = pool->allocate();
    ASSERT_TRUE(p.ok());
    EXPECT_NE(p->rtp_port(), seen[0]) << "a just-freed port came back before the range cycled";
    seen.push_back(p->rtp_port());
  }
  auto wrapped = pool->allocate();  // range cycled: the first port is due again
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->rtp_port(), seen[0]);
  EXPECT_EQ(seen[1], seen[0] + 2);
  EXPECT_EQ(seen[3], seen[0] + 6);
}

TEST(PortPool, SkipsPortsBoundByOthers) {
  std::uint16_t base = test::test_port_base(4);
  auto pool = make_pool("127.0.0.1", base, base + 9);  // 5 pairs
  Phone other_rtp("127.0.0.1", base);                  // first pair's RTP port
  Phone other_rtcp("127.0.0.1", base + 3);             // second pair's RTCP port
  ASSERT_TRUE(other_rtp.ok());
  ASSERT_TRUE(other_rtcp.ok());
  auto p = pool->allocate();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->rtp_port(), base + 4);
  EXPECT_FALSE(pool->in_use(base));
  EXPECT_FALSE(pool->in_use(base + 2));
  // Every free pair is blocked or used: exhaustion, not a hang.
  auto p2 = pool->allocate();
  auto p3 = pool->allocate();
  ASSERT_TRUE(p2.ok() && p3.ok());
  EXPECT_FALSE(pool->allocate().ok());
}

TEST(PortPool, MovedPairReleasesOnce) {
  std::uint16_t base = test::test_port_base(5);
  auto pool = make_pool("::1", base, base + 3);
  auto p = pool->allocate();
  ASSERT_TRUE(p.ok());
  PortPair moved = std::move(p.value());
  EXPECT_FALSE(p->valid());
  EXPECT_TRUE(moved.valid());
  EXPECT_EQ(pool->pairs_in_use(), 1u);
  moved.reset();
  moved.reset();
  EXPECT_EQ(pool->pairs_in_use(), 0u);
  Phone rebind("::1", base);
  EXPECT_TRUE(rebind.ok());
}

}  // namespace
}  // namespace strowger::rtprelay::media
