// The proxy's control commands (core.version, core.uptime, core.stats) on the JSON-RPC socket.
#pragma once
#include "common/control_server.h"
#include "proxy/core/routing_script.h"
#include "proxy/core/worker.h"

namespace strowger::proxy::core {

// Registers the core.* methods. Handlers run on the control thread and read worker state only
// by posting a task to each worker and waiting for it.
void register_core_methods(common::ControlServer& server, WorkerGroup& group,
                           std::string_view version);

// Registers "reload" (and its alias "core.reload"): recompiles the routing script and swaps it
// in; the compiler's messages come back in the error when it is refused.
void register_reload_method(common::ControlServer& server, RoutingScript& routing,
                            bool has_script);

}  // namespace strowger::proxy::core
