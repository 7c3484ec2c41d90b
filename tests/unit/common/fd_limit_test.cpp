// raise_fd_limit takes the soft open-file limit up to the hard one.
#include "common/fd_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace strowger::common {
namespace {

TEST(FdLimit, SoftLimitGoesUpToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  if (before.rlim_max < 64) GTEST_SKIP() << "hard limit too low to lower the soft one";
  rlimit low = before;
  low.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  const std::uint64_t now = raise_fd_limit();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  EXPECT_EQ(now, before.rlim_max == RLIM_INFINITY ? UINT64_MAX : before.rlim_max);
  setrlimit(RLIMIT_NOFILE, &before);
}

}  // namespace
}  // namespace strowger::common
