// run_route: executes one route of a Program over one message with Kamailio's semantics.
#pragma once
#include "proxy/script/engine/context.h"

namespace strowger::proxy::script::engine {

struct RunOutcome {
  int ret = 1;           // the route's return value (1 when it ended without return)
  bool dropped = false;  // drop: the message (or the reply) is discarded
  bool exited = false;   // exit, return 0, or a function returning 0
};

// Runs program.routes[route] (request_route, reply_route, failure_route[X], ...) in ctx.
// The context keeps what the script set ($du, flags, t_on_failure, ...) for the caller.
RunOutcome run_route(ExecutionContext& ctx, int route);

// Kamailio's loose_route() on the message: 1 when routing was done from Route headers
// (our own Route removed; $du set to the next one), -1 when there is no Route to follow.
int loose_route(ExecutionContext& ctx);

}  // namespace strowger::proxy::script::engine
