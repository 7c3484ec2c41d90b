// sipctl's view of the relay: JSON-RPC methods (core.version, core.uptime, core.stats,
// relay.list, relay.query, relay.delete) that run on the relay's control loop, where the
// calls live, while the ControlServer answers from its own thread.
#pragma once
#include <functional>
#include <string>

#include "common/bencode.h"
#include "common/control_server.h"
#include "rtprelay/calls/call_table.h"

struct event_base;

namespace strowger::rtprelay::calls {

// Runs a function on an event_base's thread and waits for it. The base must have been
// created after evthread_use_pthreads() so that another thread may post to it.
class LoopRunner {
 public:
  explicit LoopRunner(event_base* base) : base_(base) {}
  // False when the loop did not run fn within timeout_ms (fn may still run later).
  bool run(std::function<void()> fn, int timeout_ms = 5000) const;

 private:
  event_base* base_;
};

// A bencode value as JSON (strings as UTF-8 text, as ng strings are in practice).
common::Json to_json(const common::bencode::Value& v);
common::Json to_json(const common::bencode::Dict& d);

void register_relay_methods(common::ControlServer& server, const LoopRunner& loop, CallTable& calls,
                            const std::string& version);

}  // namespace strowger::rtprelay::calls
