// Statement execution: truth rules, return/exit/drop/break, switch fallthrough, loop and depth
// caps.
#include "proxy/script/engine/runtime.h"

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {
namespace {

constexpr int kMaxRouteDepth = 100;  // Kamailio's ROUTE_MAX_REC_LEV

// Counts one step; past the budget the run stops as with exit (nothing is sent).
bool over_budget(ExecutionContext& ctx, const SourceLoc& loc) {
  if (++ctx.steps <= ctx.program.max_run_steps) return false;
  ctx.run_flags |= ExecutionContext::kExit;
  ctx.host.log(kLogErr, "script ran " + std::to_string(ctx.program.max_run_steps) +
                            " loop iterations and route calls for one message at " +
                            ctx.program.sources->format(loc) + ", stopped as with exit");
  return true;
}

unsigned stop_mask() {
  return ExecutionContext::kExit | ExecutionContext::kDrop | ExecutionContext::kReturn |
         ExecutionContext::kBreak;
}

bool values_equal(const Value& a, const Value& b) {
  if (a.is_int() || b.is_int()) {
    auto x = a.as_int();
    auto y = b.as_int();
    return x && y && *x == *y;
  }
  return a.to_str() == b.to_str();
}

int run_switch(ExecutionContext& ctx, const Node& n) {
  Value subject = n.expr(ctx);
  if (ctx.run_flags & stop_mask()) return ctx.last_return;
  const Node::Case* chosen = nullptr;
  for (const auto& c : n.cases) {
    if (c.is_default) continue;
    bool hit = c.regex ? c.regex->search(subject.to_str()) : values_equal(subject, c.label);
    if (hit) {
      chosen = &c;
      break;
    }
  }
  if (!chosen) {
    for (const auto& c : n.cases) {
      if (c.is_default) chosen = &c;
    }
  }
  if (!chosen) return 1;
  int ret = run_nodes(ctx, n.body, chosen->start);
  ctx.run_flags &= ~ExecutionContext::kBreak;  // break leaves the switch only
  return ret;
}

int run_while(ExecutionContext& ctx, const Node& n) {
  int ret = 1;
  for (int i = 0;; i++) {
    if (i >= ctx.program.max_while_loops) {
      ctx.host.log(kLogErr, "runaway while loop (" + std::to_string(i) + " iterations) at " +
                                ctx.program.sources->format(n.loc) + ", loop left");
      break;
    }
    if (over_budget(ctx, n.loc)) break;
    Value cond = n.expr(ctx);
    if (ctx.run_flags & stop_mask()) break;
    if (!cond.truthy()) break;
    ret = run_nodes(ctx, n.body);
    if (ctx.run_flags & ExecutionContext::kBreak) {
      ctx.run_flags &= ~ExecutionContext::kBreak;
      break;
    }
    if (ctx.run_flags & stop_mask()) break;
  }
  return ret;
}

int run_node(ExecutionContext& ctx, const Node& n) {
  switch (n.kind) {
    case StmtKind::kExpr: {
      Value v = n.expr(ctx);
      return static_cast<int>(v.to_int());
    }
    case StmtKind::kAssign: {
      Value v = n.expr(ctx);
      if (ctx.run_flags & stop_mask()) return ctx.last_return;
      if (!n.target(ctx, v)) {
        ctx.host.log(kLogErr, "cannot assign " + v.repr() + " to " + n.target_text + " at " +
                                  ctx.program.sources->format(n.loc));
        return -1;
      }
      if (ctx.trace) ctx.trace->line("set " + n.target_text + " = " + v.repr());
      return 1;
    }
    case StmtKind::kIf: {
      Value cond = n.expr(ctx);
      if (ctx.run_flags & stop_mask()) return ctx.last_return;
      if (cond.truthy()) return run_nodes(ctx, n.body);
      return run_nodes(ctx, n.else_body);
    }
    case StmtKind::kSwitch:
      return run_switch(ctx, n);
    case StmtKind::kWhile:
      return run_while(ctx, n);
    case StmtKind::kReturn: {
      int v = n.expr ? static_cast<int>(n.expr(ctx).to_int()) : 1;
      ctx.last_return = v;
      // Kamailio: return 0 is exit.
      ctx.run_flags |= v == 0 ? ExecutionContext::kExit : ExecutionContext::kReturn;
      if (ctx.trace) ctx.trace->line("return " + std::to_string(v));
      return v;
    }
    case StmtKind::kExit:
      ctx.run_flags |= ExecutionContext::kExit;
      if (ctx.trace) ctx.trace->line("exit");
      return 0;
    case StmtKind::kDrop:
      ctx.run_flags |= ExecutionContext::kDrop | ExecutionContext::kExit;
      if (ctx.trace) ctx.trace->line("drop");
      return 0;
    case StmtKind::kBreak:
      ctx.run_flags |= ExecutionContext::kBreak;
      return 1;
    case StmtKind::kBlock:
      return run_nodes(ctx, n.body);
  }
  return 1;
}

}  // namespace

int run_nodes(ExecutionContext& ctx, const std::vector<Node>& nodes, std::size_t start) {
  int ret = 1;
  for (std::size_t i = start; i < nodes.size(); i++) {
    ret = run_node(ctx, nodes[i]);
    if (ctx.run_flags & stop_mask()) break;
  }
  return ret;
}

int call_route(ExecutionContext& ctx, int route) {
  if (route < 0 || static_cast<std::size_t>(route) >= ctx.program.routes.size()) return -1;
  if (ctx.route_depth >= kMaxRouteDepth) {
    ctx.host.log(kLogErr, "route(" + ctx.program.routes[route].name +
                              "): too many nested route calls (" + std::to_string(kMaxRouteDepth) +
                              "), returning -1");
    return -1;
  }
  const CompiledRoute& r = ctx.program.routes[static_cast<std::size_t>(route)];
  if (over_budget(ctx, r.body.empty() ? SourceLoc{} : r.body.front().loc)) return 0;
  if (ctx.trace) {
    ctx.trace->line(std::string(route_kind_keyword(r.kind)) +
                    (r.name.empty() ? "" : "[" + r.name + "]"));
    ctx.trace->depth++;
  }
  ctx.route_depth++;
  int ret = run_nodes(ctx, r.body);
  ctx.route_depth--;
  if (ctx.trace) ctx.trace->depth--;
  if (ctx.run_flags & ExecutionContext::kReturn) {
    ret = ctx.last_return;
    ctx.run_flags &= ~ExecutionContext::kReturn;
  } else if (!(ctx.run_flags & ExecutionContext::kExit)) {
    ret = 1;  // a route that runs to its end returns 1
  }
  ctx.run_flags &= ~ExecutionContext::kBreak;
  ctx.last_return = ret;
  return ret;
}

RunOutcome run_route(ExecutionContext& ctx, int route) {
  ctx.run_flags = 0;
  ctx.steps = 0;
  RunOutcome out;
  out.ret = call_route(ctx, route);
  out.dropped = (ctx.run_flags & ExecutionContext::kDrop) != 0;
  out.exited = (ctx.run_flags & ExecutionContext::kExit) != 0;
  return out;
}

}  // namespace strowger::proxy::script::engine
