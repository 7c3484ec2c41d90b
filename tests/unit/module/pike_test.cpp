// pike's rate table: a source over the density is refused for that unit and the next.
#include <gtest/gtest.h>

#include "modules/pike/ip_rate.h"

namespace strowger::modules::pike {
namespace {

TEST(IpRate, RefusedAboveDensityForTwoUnits) {
  IpRateTable t({1000, 3, 10000});
  EXPECT_FALSE(t.hit("192.0.2.1", 0));
  EXPECT_FALSE(t.hit("192.0.2.1", 10));
  EXPECT_FALSE(t.hit("192.0.2.1", 20));
  EXPECT_TRUE(t.hit("192.0.2.1", 30));     // the 4th in the unit
  EXPECT_FALSE(t.hit("192.0.2.2", 40));    // another source is not affected
  EXPECT_TRUE(t.hit("192.0.2.1", 1500));   // next unit: the previous one flooded
  EXPECT_FALSE(t.hit("192.0.2.1", 2500));  // a quiet unit later: allowed again
}

TEST(IpRate, GapResetsThePreviousUnit) {
  IpRateTable t({1000, 1, 10000});
  EXPECT_FALSE(t.hit("a", 0));
  EXPECT_TRUE(t.hit("a", 1));
  EXPECT_FALSE(t.hit("a", 5000));  // units in between were empty
}

TEST(IpRate, ExpireAndTop) {
  IpRateTable t({1000, 1, 3000});
  t.hit("a", 0);
  t.hit("a", 1);
  t.hit("b", 2000);
  auto top = t.top(10, 2100);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].ip, "b");  // a's flood is two units old: no longer blocked
  EXPECT_EQ(t.expire(3500), 1u);
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace strowger::modules::pike
