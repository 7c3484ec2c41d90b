// TimerHeap: an intrusive min-heap of timers owned by one worker; no allocation per timer.
// The clock is injected so transaction state machines can be tested with a fake clock.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace strowger::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
};

class SteadyClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

// A clock a test moves by hand.
class FakeClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return now_; }
  void set(std::int64_t now) { now_ = now; }
  void advance(std::int64_t ms) { now_ += ms; }

 private:
  std::int64_t now_ = 1'000'000;
};

class TimerClient {
 public:
  virtual ~TimerClient() = default;
  virtual void on_timer(int kind) = 0;
};

class TimerHeap;

// Embedded in its owner (a transaction holds one per RFC 3261 timer it runs).
struct Timer {
  static constexpr std::size_t kNotArmed = std::numeric_limits<std::size_t>::max();
  Timer() = default;
  Timer(TimerClient* c, int k) : client(c), kind(k) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();
  bool armed() const { return heap_index != kNotArmed; }

  std::int64_t deadline_ms = 0;
  std::size_t heap_index = kNotArmed;
  TimerHeap* heap = nullptr;
  TimerClient* client = nullptr;
  int kind = 0;
};

class TimerHeap {
 public:
  explicit TimerHeap(const Clock& clock) : clock_(clock) {}
  ~TimerHeap();
  std::int64_t now_ms() const { return clock_.now_ms(); }
  // Arms (or re-arms) t to fire delay_ms from now.
  void arm(Timer& t, std::int64_t delay_ms);
  void disarm(Timer& t);
  // Earliest deadline, or -1 when no timer is armed.
  std::int64_t next_deadline() const { return heap_.empty() ? -1 : heap_[0]->deadline_ms; }
  // Fires every timer whose deadline has passed, earliest first. Callbacks may arm and disarm.
  std::size_t run_due();
  std::size_t size() const { return heap_.size(); }

 private:
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, Timer* t) {
    heap_[i] = t;
    t->heap_index = i;
  }
  const Clock& clock_;
  std::vector<Timer*> heap_;
};

}  // namespace strowger::common
