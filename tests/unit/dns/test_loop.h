// Test helper: an event_base per test and a loop runner bounded by a guard timer.
#pragma once
#include <event2/event.h>

#include <functional>
#include <memory>

namespace strowger::proxy::dns::testing {

struct EventBaseFree {
  void operator()(event_base* b) const { event_base_free(b); }
};
using EventBasePtr = std::unique_ptr<event_base, EventBaseFree>;

// Runs the loop until done() or guard_ms passed; returns done().
inline bool run_until(event_base* base, const std::function<bool()>& done, int guard_ms) {
  bool expired = false;
  event* guard = evtimer_new(
      base, [](int, short, void* arg) { *static_cast<bool*>(arg) = true; }, &expired);
  timeval tv{guard_ms / 1000, (guard_ms % 1000) * 1000};
  evtimer_add(guard, &tv);
  while (!done() && !expired) event_base_loop(base, EVLOOP_ONCE);
  event_free(guard);
  return done();
}

}  // namespace strowger::proxy::dns::testing
