// compile_call and the core, sl, tm and rr functions (the ones that act through the Host).
#include <memory>

#include "proxy/script/engine/fields.h"
#include "proxy/script/engine/functions.h"
#include "proxy/script/engine/module_calls.h"
#include "proxy/script/engine/runtime.h"

namespace strowger::proxy::script::engine {
namespace {

const FunctionTable& table() {
  static const FunctionTable t = [] {
    FunctionTable f;
    add_core_functions(f);
    add_rr_functions(f);
    add_text_functions(f);
    add_uri_functions(f);
    return f;
  }();
  return t;
}

// How a call's arguments look in the trace, evaluated at the time of the call.
ExprFn trace_arg(CompileEnv& env, const Expr& a) {
  if (a.kind == ExprKind::kString) {
    std::vector<FormatPart> parts;
    std::string err;
    std::size_t off = 0;
    if (parse_format(a.text, &parts, &err, &off)) {
      if (auto fn = compile_format(env, a.text, a.loc)) {
        return [fn = *fn](ExecutionContext& c) { return Value::of(fn(c).to_str()); };
      }
    }
  } else if (a.kind == ExprKind::kPv || a.kind == ExprKind::kInt) {
    if (auto fn = compile_expr(env, a)) return *fn;
  }
  std::string text = a.kind == ExprKind::kString ? a.text : to_string(a);
  Value v = Value::of(text);
  return [v](ExecutionContext&) { return v; };
}

std::optional<ExprFn> route_call(CompileEnv& env, const Expr& call) {
  if (call.args.size() != 1) {
    env.error(call.loc, "route() takes one route name");
    return std::nullopt;
  }
  const Expr& a = *call.args[0];
  if (a.kind == ExprKind::kPv) {
    auto name = compile_expr(env, a);
    if (!name) return std::nullopt;
    return [name = *name](ExecutionContext& c) {
      std::string n = name(c).to_str();
      int idx = c.program.find(RouteKind::kRoute, n);
      if (idx < 0) {
        c.host.log(kLogErr, "route(" + n + "): no such route");
        return Value::of(std::int64_t{-1});
      }
      return Value::of(std::int64_t{call_route(c, idx)});
    };
  }
  std::string name;
  if (a.kind == ExprKind::kIdent || a.kind == ExprKind::kString) {
    name = a.text;
  } else if (a.kind == ExprKind::kInt) {
    name = std::to_string(a.int_value);
  } else {
    env.error(a.loc, "route() takes a route name");
    return std::nullopt;
  }
  auto idx = env.route_ref(RouteKind::kRoute, name, a.loc);
  if (!idx) return std::nullopt;
  int i = *idx;
  return [i](ExecutionContext& c) { return Value::of(std::int64_t{call_route(c, i)}); };
}

ActionFn simple(int (Host::*fn)()) {
  return [fn](ExecutionContext& c) { return (c.host.*fn)(); };
}

std::optional<ActionFn> reply_fn(CompileEnv& env, const Expr& call, ReplyMode mode) {
  auto code = arg_value(env, *call.args[0]);
  auto reason = arg_value(env, *call.args[1]);
  if (!code || !reason) return std::nullopt;
  if (call.args[0]->kind == ExprKind::kInt || call.args[0]->kind == ExprKind::kString) {
    auto c = arg_const_int(env, *call.args[0], "reply code");
    if (c && (*c < 100 || *c > 699)) {
      env.error(call.args[0]->loc, "reply code " + std::to_string(*c) + " is not 100..699");
      return std::nullopt;
    }
  }
  return [code = *code, reason = *reason, mode](ExecutionContext& c) {
    std::int64_t status = code(c).to_int();
    if (status < 100 || status > 699) {
      c.host.log(kLogErr, "reply: bad status code " + std::to_string(status));
      return -1;
    }
    return c.host.reply(static_cast<int>(status), reason(c).to_str(), mode);
  };
}

std::optional<ActionFn> route_setter(CompileEnv& env, const Expr& call, RouteKind kind,
                                     int ExecutionContext::*slot) {
  auto name = arg_const_string(env, *call.args[0], "route name");
  if (!name) return std::nullopt;
  auto idx = env.route_ref(kind, *name, call.args[0]->loc);
  if (!idx) return std::nullopt;
  int i = *idx;
  return [i, slot](ExecutionContext& c) {
    c.*slot = i;
    return 1;
  };
}

std::optional<ActionFn> relay(CompileEnv& env, const Expr& call) {
  ExprFn host;
  ExprFn port;
  if (call.args.size() == 2) {
    auto h = arg_value(env, *call.args[0]);
    auto p = arg_value(env, *call.args[1]);
    if (!h || !p) return std::nullopt;
    host = *h;
    port = *p;
  }
  return [host, port](ExecutionContext& c) {
    RelayRequest r;
    r.dst_uri = c.dst_uri;
    r.branches = c.branches;
    r.path = c.path;
    r.connection_id = c.connection_id;
    r.flow = c.flow;
    r.failure_route = c.failure_route;
    r.onreply_route = c.onreply_route;
    r.branch_route = c.branch_route;
    r.fr_timer_ms = c.fr_timer_ms;
    r.fr_inv_timer_ms = c.fr_inv_timer_ms;
    if (host) {
      r.host = host(c).to_str();
      r.port = static_cast<std::uint16_t>(port(c).to_int());
    }
    return c.host.relay(r);
  };
}

std::optional<ActionFn> forward(CompileEnv& env, const Expr& call) {
  std::string host;
  std::int64_t port = 0;
  if (!call.args.empty()) {
    const Expr& h = *call.args[0];
    if (h.kind == ExprKind::kIdent || h.kind == ExprKind::kString || h.kind == ExprKind::kIp) {
      host = h.text == "uri:host" ? "" : h.text;
    } else {
      env.error(h.loc, "forward(): the host must be a name, an address or \"uri:host\"");
      return std::nullopt;
    }
  }
  if (call.args.size() == 2) {
    const Expr& p = *call.args[1];
    if (p.kind == ExprKind::kIdent && p.text == "uri:port") {
      port = 0;
    } else if (auto v = arg_const_int(env, p, "port")) {
      port = *v;
      if (port < 1 || port > 65535) {
        env.error(p.loc, "forward(): port " + std::to_string(port) + " is out of range");
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }
  return [host, port](ExecutionContext& c) {
    ForwardRequest r;
    r.dst_uri = c.dst_uri;
    r.host = host;
    r.port = static_cast<std::uint16_t>(port);
    return c.host.forward_stateless(r);
  };
}

std::optional<ActionFn> check_status(CompileEnv& env, const Expr& call) {
  auto text = arg_const_string(env, *call.args[0], "status regex");
  if (!text) return std::nullopt;
  std::string err;
  std::shared_ptr<Regex> re = Regex::compile(*text, Regex::kNone, &err);
  if (!re) {
    env.error(call.args[0]->loc, "bad regular expression: " + err);
    return std::nullopt;
  }
  return [re](ExecutionContext& c) {
    int code = c.host.transaction_reply_code();
    if (code == 0 && !c.msg().is_request()) code = c.msg().status();
    if (code == 0) return -1;
    return re->search(std::to_string(code)) ? 1 : -1;
  };
}

}  // namespace

std::optional<std::vector<ExprFn>> arg_values(CompileEnv& env, const Expr& call) {
  std::vector<ExprFn> v;
  for (const auto& a : call.args) {
    auto fn = arg_value(env, *a);
    if (!fn) return std::nullopt;
    v.push_back(*fn);
  }
  return v;
}

namespace {

std::optional<ActionFn> set_fr(CompileEnv& env, const Expr& call) {
  auto values = arg_values(env, call);
  if (!values) return std::nullopt;
  std::vector<ExprFn> v = std::move(*values);
  return [v](ExecutionContext& c) {
    std::int64_t inv = v[0](c).to_int();
    std::int64_t noninv = v.size() > 1 ? v[1](c).to_int() : 0;
    if (inv < 0 || noninv < 0 || inv > 86'400'000 || noninv > 86'400'000) return -1;
    c.fr_inv_timer_ms = static_cast<unsigned>(inv);
    if (v.size() > 1) c.fr_timer_ms = static_cast<unsigned>(noninv);
    return 1;
  };
}

std::optional<ActionFn> record_route(CompileEnv& env, const Expr& call) {
  ExprFn params;
  if (!call.args.empty()) {
    auto p = arg_value(env, *call.args[0]);
    if (!p) return std::nullopt;
    params = *p;
  }
  return [params](ExecutionContext& c) {
    if (!c.msg().is_request()) return -1;
    return c.host.record_route(params ? params(c).to_str() : std::string());
  };
}

std::optional<ActionFn> record_route_preset(CompileEnv& env, const Expr& call) {
  auto values = arg_values(env, call);
  if (!values) return std::nullopt;
  std::vector<ExprFn> v = std::move(*values);
  return [v](ExecutionContext& c) {
    if (!c.msg().is_request()) return -1;
    return c.host.record_route_preset(v[0](c).to_str(),
                                      v.size() > 1 ? v[1](c).to_str() : std::string());
  };
}

// append_branch([uri]): one more target for t_relay (parallel forking); the current
// Request-URI when no URI is given. Kamailio's default limit of 12 branches applies.
std::optional<ActionFn> append_branch(CompileEnv& env, const Expr& call) {
  ExprFn uri;
  if (!call.args.empty()) {
    auto u = arg_value(env, *call.args[0]);
    if (!u) return std::nullopt;
    uri = *u;
  }
  return [uri](ExecutionContext& c) {
    if (!c.msg().is_request()) return -1;
    std::string text = uri ? uri(c).to_str() : c.msg().request_uri().to_string();
    if (!sip::Uri::parse(text)) {
      c.host.log(kLogErr, "append_branch(): '" + text + "' is not a URI");
      return -1;
    }
    constexpr std::size_t kMaxBranches = 12;
    if (c.branches.size() + 1 >= kMaxBranches) {
      c.host.log(kLogErr, "append_branch(): too many branches (12 at most)");
      return -1;
    }
    sipproxy::Branch b;
    b.uri = std::move(text);
    c.branches.push_back(std::move(b));
    return 1;
  };
}

}  // namespace

int loose_route(ExecutionContext& ctx) {
  auto& m = ctx.msg();
  if (!m.is_request()) return -1;
  auto routes = m.routes();
  if (routes.empty()) return -1;
  if (ctx.host.is_myself(routes[0].host_bare(), routes[0].port)) {
    ctx.route_params = routes[0].params;  // for check_route_param()
    m.pop_route();
    // record_route put two entries when the request changed transport or interface (r2=on):
    // the second is ours as well.
    const bool r2 = routes[0].param("r2") == "on";
    routes.erase(routes.begin());
    if (r2 && !routes.empty() && ctx.host.is_myself(routes[0].host_bare(), routes[0].port)) {
      m.pop_route();
      routes.erase(routes.begin());
    }
    if (routes.empty()) {
      // Our Route was the last one: the Request-URI is the target.
      return 1;
    }
  }
  // Loose routing: the next hop is the topmost remaining Route.
  ctx.dst_uri = routes[0].to_string();
  return 1;
}

void add_core_functions(FunctionTable& t) {
  auto host_fn = [](int (Host::*fn)()) {
    return FunctionSpec{
        0, 0, [fn](CompileEnv&, const Expr&) { return std::optional<ActionFn>(simple(fn)); }};
  };
  t["sl_send_reply"] = {
      2, 2, [](CompileEnv& e, const Expr& c) { return reply_fn(e, c, ReplyMode::kStateless); }};
  t["t_reply"] = {
      2, 2, [](CompileEnv& e, const Expr& c) { return reply_fn(e, c, ReplyMode::kStateful); }};
  t["send_reply"] = {2, 2,
                     [](CompileEnv& e, const Expr& c) { return reply_fn(e, c, ReplyMode::kAuto); }};
  t["sl_reply_error"] = {0, 0, [](CompileEnv&, const Expr&) {
                           return std::optional<ActionFn>(
                               [](ExecutionContext& c) { return c.host.reply_error(); });
                         }};
  t["t_is_branch_route"] = {0, 0, [](CompileEnv&, const Expr&) {
                              return std::optional<ActionFn>([](ExecutionContext& c) {
                                return c.host.in_branch_route() ? 1 : -1;
                              });
                            }};
  t["t_relay"] = {0, 2, [](CompileEnv& e, const Expr& c) -> std::optional<ActionFn> {
                    if (c.args.size() == 1) {
                      e.error(c.loc, "t_relay() takes no argument or a host and a port");
                      return std::nullopt;
                    }
                    return relay(e, c);
                  }};
  t["forward"] = {0, 2, forward};
  t["append_branch"] = {0, 1, append_branch};
  t["t_newtran"] = host_fn(&Host::t_newtran);
  t["t_check_trans"] = host_fn(&Host::t_check_trans);
  t["t_precheck_trans"] = host_fn(&Host::t_precheck_trans);
  t["t_is_canceled"] = host_fn(&Host::t_is_canceled);
  t["t_on_failure"] = {1, 1, [](CompileEnv& e, const Expr& c) {
                         return route_setter(e, c, RouteKind::kFailure,
                                             &ExecutionContext::failure_route);
                       }};
  t["t_on_reply"] = {1, 1, [](CompileEnv& e, const Expr& c) {
                       return route_setter(e, c, RouteKind::kOnReply,
                                           &ExecutionContext::onreply_route);
                     }};
  t["t_on_branch"] = {1, 1, [](CompileEnv& e, const Expr& c) {
                        return route_setter(e, c, RouteKind::kBranch,
                                            &ExecutionContext::branch_route);
                      }};
  t["t_check_status"] = {1, 1, check_status};
  t["t_is_set"] = {1, 1, [](CompileEnv& e, const Expr& c) -> std::optional<ActionFn> {
                     auto what = arg_const_string(e, *c.args[0], "route type");
                     if (!what) return std::nullopt;
                     int ExecutionContext::*slot = nullptr;
                     if (*what == "failure_route") slot = &ExecutionContext::failure_route;
                     if (*what == "onreply_route") slot = &ExecutionContext::onreply_route;
                     if (*what == "branch_route") slot = &ExecutionContext::branch_route;
                     if (!slot) {
                       e.error(c.args[0]->loc,
                               "t_is_set(): expected \"failure_route\", "
                               "\"onreply_route\" or \"branch_route\"");
                       return std::nullopt;
                     }
                     return [slot](ExecutionContext& x) { return x.*slot >= 0 ? 1 : -1; };
                   }};
  t["t_set_fr"] = {1, 2, set_fr};
  t["record_route"] = {0, 1, record_route};
  t["record_route_preset"] = {1, 2, record_route_preset};
  t["loose_route"] = {
      0, 0, [](CompileEnv&, const Expr&) {
        return std::optional<ActionFn>([](ExecutionContext& c) { return loose_route(c); });
      }};
}

// ---- argument helpers -------------------------------------------------------------------

std::optional<ExprFn> arg_value(CompileEnv& env, const Expr& a) {
  switch (a.kind) {
    case ExprKind::kString:
      return compile_format(env, a.text, a.loc);
    case ExprKind::kInt:
    case ExprKind::kPv:
      return compile_expr(env, a);
    default:
      env.error(a.loc, "expected a string, a number or a pseudo-variable");
      return std::nullopt;
  }
}

std::optional<std::string> arg_const_string(CompileEnv& env, const Expr& a, const char* what,
                                            bool allow_ident) {
  if (a.kind == ExprKind::kString || (allow_ident && a.kind == ExprKind::kIdent)) return a.text;
  if (a.kind == ExprKind::kInt) return std::to_string(a.int_value);
  env.error(a.loc, std::string("expected a constant string (") + what + ")");
  return std::nullopt;
}

std::optional<std::int64_t> arg_const_int(CompileEnv& env, const Expr& a, const char* what) {
  if (a.kind == ExprKind::kInt) return a.int_value;
  if (a.kind == ExprKind::kString) {
    if (auto v = parse_int(a.text)) return v;
  }
  env.error(a.loc, std::string("expected a number (") + what + ")");
  return std::nullopt;
}

std::optional<int> arg_flag(CompileEnv& env, const Expr& a) {
  std::optional<std::int64_t> bit;
  if (a.kind == ExprKind::kIdent) {
    auto it = env.flag_names.find(a.text);
    if (it == env.flag_names.end()) {
      env.error(a.loc, "unknown flag '" + a.text + "'");
      return std::nullopt;
    }
    bit = it->second;
  } else {
    bit = arg_const_int(env, a, "flag");
    if (!bit) return std::nullopt;
  }
  if (*bit < 0 || *bit > 63) {
    env.error(a.loc, "flag " + std::to_string(*bit) + " is not 0..63");
    return std::nullopt;
  }
  return static_cast<int>(*bit);
}

std::optional<ExprFn> compile_call(CompileEnv& env, const Expr& call) {
  if (call.text == "route") return route_call(env, call);
  auto it = table().find(call.text);
  std::optional<ActionFn> action;
  if (it == table().end()) {
    const sipproxy::FunctionSpec* fn = find_module_function(env.program, call.text);
    if (fn == nullptr) {
      env.error(call.loc, "unknown function " + call.text + "() (not available in Strowger" +
                              (env.program.module_descriptors.empty()
                                   ? std::string(")")
                                   : std::string(" or in the modules loaded)")));
      return std::nullopt;
    }
    action = compile_module_call(env, call, *fn);
  } else {
    const FunctionSpec& spec = it->second;
    if (call.args.size() < spec.min_args || call.args.size() > spec.max_args) {
      std::string range = std::to_string(spec.min_args);
      if (spec.max_args != spec.min_args) range += " to " + std::to_string(spec.max_args);
      env.error(call.loc, call.text + "() takes " + range + " argument(s), " +
                              std::to_string(call.args.size()) + " given");
      return std::nullopt;
    }
    action = spec.compile(env, call);
  }
  if (!action) return std::nullopt;
  std::vector<ExprFn> trace_args;
  for (const auto& a : call.args) trace_args.push_back(trace_arg(env, *a));
  return [name = call.text, action = std::move(*action),
          trace_args = std::move(trace_args)](ExecutionContext& c) {
    std::string shown;
    if (c.trace) {
      for (const auto& a : trace_args) {
        shown += (shown.empty() ? "" : ", ") + a(c).repr();
      }
    }
    int ret = action(c);
    c.last_return = ret;  // $rc / $retcode: the last function's code, as in Kamailio
    if (ret == 0) c.run_flags |= ExecutionContext::kExit;
    if (c.trace) c.trace->line(name + "(" + shown + ") -> " + std::to_string(ret));
    return Value::of(std::int64_t{ret});
  };
}

}  // namespace strowger::proxy::script::engine
