// TimerHeap implementation: binary heap of Timer* with back-indices for O(log n) cancel.
#include "common/timer_heap.h"

#include <chrono>

namespace strowger::common {

std::int64_t SteadyClock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Timer::~Timer() {
  if (armed() && heap) heap->disarm(*this);
}

TimerHeap::~TimerHeap() {
  for (Timer* t : heap_) {
    t->heap_index = Timer::kNotArmed;
    t->heap = nullptr;
  }
}

void TimerHeap::arm(Timer& t, std::int64_t delay_ms) {
  if (t.armed()) disarm(t);
  t.deadline_ms = now_ms() + (delay_ms < 0 ? 0 : delay_ms);
  t.heap = this;
  heap_.push_back(&t);
  t.heap_index = heap_.size() - 1;
  sift_up(t.heap_index);
}

void TimerHeap::disarm(Timer& t) {
  if (!t.armed()) return;
  std::size_t i = t.heap_index;
  Timer* last = heap_.back();
  heap_.pop_back();
  t.heap_index = Timer::kNotArmed;
  if (i < heap_.size()) {
    place(i, last);
    sift_up(i);
    sift_down(last->heap_index);
  }
}

std::size_t TimerHeap::run_due() {
  std::size_t fired = 0;
  const std::int64_t now = now_ms();
  while (!heap_.empty() && heap_[0]->deadline_ms <= now) {
    Timer* t = heap_[0];
    disarm(*t);
    ++fired;
    t->client->on_timer(t->kind);  // may destroy the owner of t; t is not touched after this
  }
  return fired;
}

void TimerHeap::sift_up(std::size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (heap_[parent]->deadline_ms <= t->deadline_ms) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerHeap::sift_down(std::size_t i) {
  Timer* t = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->deadline_ms < heap_[child]->deadline_ms) ++child;
    if (heap_[child]->deadline_ms >= t->deadline_ms) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace strowger::common
