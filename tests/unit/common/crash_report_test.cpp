// A fatal signal leaves its name and a backtrace on stderr, and the process still dies of it.
#include "common/crash_report.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace strowger::common {
namespace {

[[gnu::noinline]] void crash_here() {
  raise(SIGSEGV);
}

TEST(CrashReportDeathTest, SegvIsReportedThenKillsTheProcess) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under ASan the sanitizer's own report is kept";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        install_crash_report("testd");
        crash_here();
      },
      ::testing::KilledBySignal(SIGSEGV),
      "testd: fatal signal SEGV, backtrace:\n.*\\[0x[0-9a-f]+\\]");
}

}  // namespace
}  // namespace strowger::common
