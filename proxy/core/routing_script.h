// RoutingScript: compiles the routing script named in sipproxy.yaml, checks its global settings
// against the YAML, and installs the program in every worker (at start and on reload).
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/core/worker.h"
#include "proxy/script/engine/program.h"

namespace strowger::proxy::core {

// Global settings of the script that have a home in the YAML (listen=, port=, alias=,
// children=, advertised_address=...): accepted when they agree with it, else one error each
// ("file:line:col: ...").
std::vector<std::string> check_script_settings(const script::engine::Program& program,
                                               const script::SourceMap& sources,
                                               const config::ProxyConfig& config);

struct ScriptLoad {
  bool ok = false;
  std::string diagnostics;       // "file:line:col: message" lines (warnings too)
  std::uint64_t generation = 0;  // how many programs were installed so far
};

class RoutingScript {
 public:
  RoutingScript(const config::ProxyConfig& config, WorkerGroup& group)
      : config_(config), group_(group) {}

  // Compiles the script; on success installs it: directly when the workers are not running
  // yet, else by posting to each worker (a request in progress finishes on the old program,
  // a transaction keeps the program it started with). On failure the old program stays.
  // Any thread; serialized.
  ScriptLoad load(bool workers_running);

 private:
  const config::ProxyConfig& config_;
  WorkerGroup& group_;
  std::mutex mutex_;
  std::shared_ptr<const script::engine::Program> current_;
  std::uint64_t generation_ = 0;
};

}  // namespace strowger::proxy::core
