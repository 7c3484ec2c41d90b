// ExecutionContext: the state of one script execution over one message (flags, $var, $avp, $du...).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proxy/script/engine/host.h"
#include "proxy/script/engine/program.h"

namespace strowger::proxy::script::engine {

// Collects the dry-run trace; absent (null) in production so nothing is formatted.
struct Trace {
  std::string out;
  int depth = 0;
  void line(const std::string& text) {
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
    out += text;
    out += '\n';
  }
};

class ExecutionContext {
 public:
  ExecutionContext(const Program& program, Host& host) : program(program), host(host) {}

  sip::Message& msg() { return host.message(); }

  enum RunFlags : unsigned { kExit = 1, kDrop = 2, kReturn = 4, kBreak = 8 };

  const Program& program;
  Host& host;
  Trace* trace = nullptr;

  unsigned run_flags = 0;
  int route_depth = 0;
  std::uint32_t steps = 0;   // route calls + while iterations of this run (Program::max_run_steps)
  std::uint64_t flags = 0;   // setflag/isflag (message flags, 0..63)
  std::uint64_t bflags = 0;  // setbflag/isbflag (branch 0)
  std::map<std::string, Value> vars;               // $var(x)
  std::map<std::string, std::vector<Value>> avps;  // $avp(x); back() is the newest
  std::string dst_uri;                             // $du
  std::uint64_t connection_id = 0;                 // branch 0's connection (registrar lookup)
  bool flow = false;
  std::vector<std::string> path;  // branch 0's Path (set by lookup)
  std::string route_params;       // parameters of our Route that loose_route() consumed
  std::vector<sipproxy::Branch> branches;
  RouteKind route_kind = RouteKind::kRequest;  // the kind of the route the core started
  int failure_route = -1;
  int onreply_route = -1;
  int branch_route = -1;
  unsigned fr_timer_ms = 0;
  unsigned fr_inv_timer_ms = 0;
  int last_return = 1;  // $?, and the value of route(X) in expressions
};

}  // namespace strowger::proxy::script::engine
