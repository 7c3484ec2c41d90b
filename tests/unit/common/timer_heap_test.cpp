// Unit tests for TimerHeap: ordering, cancel, re-arm from a callback.
#include "common/timer_heap.h"

#include <gtest/gtest.h>

#include <vector>

namespace strowger::common {
namespace {

struct Recorder : TimerClient {
  std::vector<int> fired;
  void on_timer(int kind) override { fired.push_back(kind); }
};

TEST(TimerHeap, FiresInDeadlineOrder) {
  FakeClock clock;
  TimerHeap heap(clock);
  Recorder r;
  Timer a(&r, 1), b(&r, 2), c(&r, 3);
  heap.arm(a, 300);
  heap.arm(b, 100);
  heap.arm(c, 200);
  EXPECT_EQ(heap.next_deadline(), clock.now_ms() + 100);
  clock.advance(250);
  EXPECT_EQ(heap.run_due(), 2u);
  EXPECT_EQ(r.fired, (std::vector<int>{2, 3}));
  clock.advance(100);
  heap.run_due();
  EXPECT_EQ(r.fired, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(heap.next_deadline(), -1);
}

TEST(TimerHeap, DisarmAndDestructorRemove) {
  FakeClock clock;
  TimerHeap heap(clock);
  Recorder r;
  Timer a(&r, 1);
  {
    Timer b(&r, 2);
    heap.arm(b, 10);
    heap.arm(a, 20);
  }
  EXPECT_EQ(heap.size(), 1u);
  heap.disarm(a);
  EXPECT_EQ(heap.size(), 0u);
  clock.advance(100);
  EXPECT_EQ(heap.run_due(), 0u);
  EXPECT_TRUE(r.fired.empty());
}

TEST(TimerHeap, RearmFromCallback) {
  FakeClock clock;
  TimerHeap heap(clock);
  struct Repeater : TimerClient {
    TimerHeap* heap;
    Timer t{this, 7};
    int count = 0;
    void on_timer(int) override {
      if (++count < 3) heap->arm(t, 10);
    }
  } rep;
  rep.heap = &heap;
  heap.arm(rep.t, 10);
  for (int i = 0; i < 5; ++i) {
    clock.advance(10);
    heap.run_due();
  }
  EXPECT_EQ(rep.count, 3);
}

}  // namespace
}  // namespace strowger::common
