// Program: a compiled routing script, immutable once built; shared by workers (atomic shared_ptr).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/script/ast.h"
#include "proxy/script/engine/values.h"
#include "proxy/script/regex.h"
#include "sipproxy/module.h"

namespace strowger::proxy::script::engine {

class ExecutionContext;

using ExprFn = std::function<Value(ExecutionContext&)>;
using SetFn = std::function<bool(ExecutionContext&, const Value&)>;

// $shv(name): shared by every worker and kept across reloads (pass it to the next compile).
class SharedVars {
 public:
  Value get(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = values_.find(name);
    return it == values_.end() ? Value::null() : it->second;
  }
  void set(const std::string& name, Value v) {
    std::lock_guard<std::mutex> lock(mutex_);
    values_[name] = std::move(v);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Value> values_;
};

// One compiled statement. Switch bodies are flattened: cases point at their first statement,
// so falling through is just running on.
struct Node {
  StmtKind kind = StmtKind::kBlock;
  SourceLoc loc;
  ExprFn expr;   // condition, switch subject, return value, call, assigned value
  SetFn target;  // kAssign
  std::string target_text;
  AssignOp assign_op = AssignOp::kSet;
  std::vector<Node> body;
  std::vector<Node> else_body;
  struct Case {
    bool is_default = false;
    Value label;
    std::shared_ptr<Regex> regex;
    std::size_t start = 0;  // index into body
  };
  std::vector<Case> cases;
};

struct CompiledRoute {
  RouteKind kind = RouteKind::kRequest;
  std::string name;
  std::vector<Node> body;
};

struct Program {
  std::vector<CompiledRoute> routes;
  int request_route = -1;
  int reply_route = -1;
  // Global settings and modparams as written, for the core to compare with the YAML.
  struct Setting {
    std::string name;   // "listen", "children", "tm.fr_timer"
    std::string value;  // the value's text (list values joined by spaces)
    SourceLoc loc;
  };
  std::vector<Setting> settings;
  std::vector<std::string> aliases;  // alias= lines, host[:port]
  std::vector<std::string> modules;  // loaded module names
  // Modules the script loaded with loadmodule (process-wide, see proxy/module/registry.h).
  std::vector<const sipproxy::ModuleDescriptor*> module_descriptors;
  int max_while_loops = 100;         // Kamailio's default
  // Route calls + while iterations per run_route: nested loops and routes calling themselves
  // several times are each bounded but multiply (`route[A] { route(A); route(A); }` is 2^100
  // calls), so a run stops as with exit past this. Far above any real script's needs.
  std::uint32_t max_run_steps = 1'000'000;
  // modparam("tm", "fr_timer" / "fr_inv_timer"): defaults for t_set_fr; 0: the YAML's timers.
  unsigned fr_timer_ms = 0;
  unsigned fr_inv_timer_ms = 0;
  std::shared_ptr<SharedVars> shared_vars;
  std::shared_ptr<const SourceMap> sources;

  // -1 when there is no such route.
  int find(RouteKind kind, const std::string& name) const;
};

}  // namespace strowger::proxy::script::engine
