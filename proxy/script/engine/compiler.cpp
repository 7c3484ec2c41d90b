// The compiler's top level: global settings, modules and modparams, routes and statements.
#include "proxy/script/engine/compiler.h"

#include <algorithm>
#include <set>

#include "proxy/module/registry.h"
#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {
namespace {

// Core settings Strowger takes: the YAML has their home (listen, port, alias, children...) or
// they are harmless for a proxy that logs and runs its own way (debug, memdbg, ...).
const std::set<std::string, std::less<>> kKnownSettings = {"debug",
                                                           "log_stderror",
                                                           "log_facility",
                                                           "log_name",
                                                           "log_prefix",
                                                           "log_prefix_mode",
                                                           "log_color",
                                                           "log_engine_type",
                                                           "log_engine_data",
                                                           "memdbg",
                                                           "memlog",
                                                           "mem_summary",
                                                           "corelog",
                                                           "latency_log",
                                                           "latency_cfg_log",
                                                           "latency_limit_action",
                                                           "latency_limit_db",
                                                           "children",
                                                           "socket_workers",
                                                           "async_workers",
                                                           "listen",
                                                           "port",
                                                           "alias",
                                                           "auto_aliases",
                                                           "advertised_address",
                                                           "advertised_port",
                                                           "fork",
                                                           "disable_tcp",
                                                           "disable_tls",
                                                           "enable_tls",
                                                           "enable_sctp",
                                                           "disable_sctp",
                                                           "tcp_children",
                                                           "tcp_connection_lifetime",
                                                           "tcp_accept_no_cl",
                                                           "tcp_rd_buf_size",
                                                           "tcp_max_connections",
                                                           "tls_max_connections",
                                                           "tcp_connect_timeout",
                                                           "tcp_send_timeout",
                                                           "tcp_keepalive",
                                                           "tcp_keepidle",
                                                           "tcp_keepintvl",
                                                           "tcp_keepcnt",
                                                           "tcp_async",
                                                           "tcp_conn_wq_max",
                                                           "tcp_wq_max",
                                                           "dns",
                                                           "rev_dns",
                                                           "dns_try_ipv6",
                                                           "dns_try_naptr",
                                                           "use_dns_cache",
                                                           "use_dns_failover",
                                                           "dns_srv_lb",
                                                           "dns_cache_init",
                                                           "dns_retr_time",
                                                           "dns_retr_no",
                                                           "dns_servers_no",
                                                           "dns_use_search_list",
                                                           "mhomed",
                                                           "server_header",
                                                           "server_signature",
                                                           "user_agent_header",
                                                           "sip_warning",
                                                           "max_while_loops",
                                                           "maxbuffer",
                                                           "pv_buffer_size",
                                                           "pv_buffer_slots",
                                                           "shm_mem_size",
                                                           "pkg_mem_size",
                                                           "mlock_pages",
                                                           "shm_force_alloc",
                                                           "user",
                                                           "group",
                                                           "uid",
                                                           "gid",
                                                           "chroot",
                                                           "workdir",
                                                           "wdir",
                                                           "max_recursive_level",
                                                           "onsend_route_reply",
                                                           "reply_to_via",
                                                           "received_route_mode",
                                                           "statistics",
                                                           "udp_mtu",
                                                           "force_rport",
                                                           "phone2tel",
                                                           "sip_parser_log",
                                                           "sip_parser_mode",
                                                           "http_reply_parse",
                                                           "tos",
                                                           "pmtu_discovery",
                                                           "udp4_raw",
                                                           "mcast_loopback",
                                                           "mcast_ttl",
                                                           "server_id",
                                                           "tcp_reuse_port",
                                                           "xavp_via_params",
                                                           "xavp_via_fields"};

// Modules whose functions are built into the Strowger core.
const std::set<std::string, std::less<>> kBuiltinModules = {
    "sl",       "tm",       "tmx",  "rr", "maxfwd", "sanity", "textops",
    "textopsx", "siputils", "xlog", "pv", "kex",    "corex"};

// Parameters of those modules that Strowger takes (their values are recorded as settings).
const std::set<std::string, std::less<>> kKnownModParams = {"tm.fr_timer",
                                                            "tm.fr_inv_timer",
                                                            "tm.restart_fr_on_each_reply",
                                                            "tm.auto_inv_100",
                                                            "tm.auto_inv_100_reason",
                                                            "tm.failure_reply_mode",
                                                            "tm.wt_timer",
                                                            "tm.contacts_avp",
                                                            "tm.contact_flows_avp",
                                                            "rr.enable_full_lr",
                                                            "rr.append_fromtag",
                                                            "rr.enable_double_rr",
                                                            "maxfwd.max_limit",
                                                            "sanity.default_checks",
                                                            "sanity.uri_checks",
                                                            "sanity.autodrop",
                                                            "xlog.buf_size",
                                                            "xlog.force_color",
                                                            "xlog.long_format",
                                                            "xlog.prefix",
                                                            "pv.shvset",
                                                            "pv.varset",
                                                            "sl.bind_tm",
                                                            "siputils.e164_max_len"};

std::string module_name(std::string path) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos) path = path.substr(slash + 1);
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0) {
    path.resize(path.size() - 3);
  }
  return path;
}

std::string value_text(const GlobalValue& v) {
  return v.kind == GlobalValue::Kind::kInt ? std::to_string(v.int_value) : v.text;
}

class Compiler {
 public:
  Compiler(const Script& script, Program& program, Diagnostics& diag)
      : env_{script, program, diag, {}} {}

  void run() {
    settings();
    modules();
    flags();
    declare_routes();
    for (std::size_t i = 0; i < env_.script.routes.size(); i++) {
      env_.program.routes[i].body = block(env_.script.routes[i].body);
    }
  }

 private:
  void settings() {
    for (const auto& g : env_.script.globals) {
      std::string joined;
      for (const auto& v : g.values) joined += (joined.empty() ? "" : " ") + value_text(v);
      bool cfg_var = g.name.find('.') != std::string::npos;
      if (!cfg_var && !kKnownSettings.contains(g.name)) {
        env_.error(g.loc, "unknown global setting '" + g.name + "'");
        continue;
      }
      env_.program.settings.push_back({g.name, joined, g.loc});
      if (g.name == "alias") {
        for (const auto& v : g.values) env_.program.aliases.push_back(value_text(v));
      }
      if (g.name == "max_while_loops" && !g.values.empty()) {
        env_.program.max_while_loops =
            static_cast<int>(std::clamp<std::int64_t>(g.values[0].int_value, 1, 1'000'000));
      }
    }
  }

  std::set<std::string> failed_modules_;

  void modules() {
    std::set<std::string> loaded;
    std::string mpath;
    for (const auto& lp : env_.script.load_paths) mpath = lp.path;  // the last one counts
    for (const auto& m : env_.script.modules) {
      std::string name = module_name(m.path);
      if (kBuiltinModules.contains(name)) {
        if (loaded.insert(name).second) env_.program.modules.push_back(name);
        continue;
      }
      // A loadable module: Strowger's own .so of that name (a directory in the path is
      // Kamailio's, so only the name counts).
      std::string error;
      const module::LoadedModule* lm = module::ModuleRegistry::instance().load(
          name, mpath, env_.program.sources->format(m.loc), &error);
      if (lm == nullptr) {
        env_.error(m.loc, error);
        failed_modules_.insert(name);
        continue;
      }
      loaded.insert(lm->descriptor->name);
      if (loaded.insert(name).second) env_.program.modules.push_back(name);
      auto& ds = env_.program.module_descriptors;
      if (std::find(ds.begin(), ds.end(), lm->descriptor) == ds.end()) ds.push_back(lm->descriptor);
    }
    for (const auto& p : env_.script.modparams) modparam(p, loaded);
  }

  void modparam(const ModParam& p, const std::set<std::string>& loaded) {
    // The module may be a regex of names ("tm|rr"); each must be loaded.
    std::string rest = p.module;
    std::vector<std::string> names;
    for (std::size_t pos; (pos = rest.find('|')) != std::string::npos; rest.erase(0, pos + 1)) {
      names.push_back(rest.substr(0, pos));
    }
    names.push_back(rest);
    for (const auto& name : names) {
      if (failed_modules_.contains(name)) continue;  // its loadmodule line has the error
      if (!loaded.contains(name)) {
        env_.error(p.loc, "modparam for module " + name + ", which is not loaded");
        continue;
      }
      if (!kBuiltinModules.contains(name)) {
        sipproxy::ParamValue v;
        v.type = p.is_int ? sipproxy::ParamType::kInt : sipproxy::ParamType::kString;
        v.i = p.int_value;
        v.s = p.str_value;
        if (auto err = module::ModuleRegistry::instance().set_param(name, p.param, v))
          env_.error(p.loc, *err);
        continue;
      }
      std::string key = name + "." + p.param;
      if (!kKnownModParams.contains(key)) {
        env_.error(p.loc, "module " + name + " has no parameter '" + p.param + "' in Strowger");
        continue;
      }
      std::string value = p.is_int ? std::to_string(p.int_value) : p.str_value;
      env_.program.settings.push_back({key, value, p.loc});
      if (key == "pv.shvset") shvset(p, value);
      if (key == "tm.fr_timer" && p.is_int && p.int_value > 0)
        env_.program.fr_timer_ms = static_cast<unsigned>(p.int_value);
      if (key == "tm.fr_inv_timer" && p.is_int && p.int_value > 0)
        env_.program.fr_inv_timer_ms = static_cast<unsigned>(p.int_value);
    }
  }

  // shvset: "name=i:1" or "name=s:text".
  void shvset(const ModParam& p, const std::string& value) {
    auto eq = value.find('=');
    if (eq == std::string::npos || value.size() < eq + 3 || value[eq + 2] != ':' ||
        (value[eq + 1] != 'i' && value[eq + 1] != 's')) {
      env_.error(p.value_loc, "shvset: expected \"name=i:number\" or \"name=s:text\"");
      return;
    }
    std::string name = value.substr(0, eq);
    std::string v = value.substr(eq + 3);
    if (value[eq + 1] == 'i') {
      auto n = parse_int(v);
      if (!n) {
        env_.error(p.value_loc, "shvset: '" + v + "' is not a number");
        return;
      }
      env_.program.shared_vars->set(name, Value::of(*n));
    } else {
      env_.program.shared_vars->set(name, Value::of(v));
    }
  }

  void flags() {
    int next = 0;
    std::set<int> used;
    for (const auto& f : env_.script.flags) {
      if (f.bit >= 0) used.insert(f.bit);
    }
    for (const auto& f : env_.script.flags) {
      int bit = f.bit;
      if (bit < 0) {
        while (used.contains(next)) next++;
        bit = next;
        used.insert(bit);
      }
      if (bit > 63) {
        env_.error(f.loc, "flag " + f.name + ": bit " + std::to_string(bit) + " is above 63");
        continue;
      }
      env_.flag_names[f.name] = bit;
    }
  }

  void declare_routes() {
    for (std::size_t i = 0; i < env_.script.routes.size(); i++) {
      const Route& r = env_.script.routes[i];
      CompiledRoute cr;
      cr.kind = r.kind;
      cr.name = r.name;
      env_.program.routes.push_back(std::move(cr));
      if (r.kind == RouteKind::kRequest) env_.program.request_route = static_cast<int>(i);
      if (r.kind == RouteKind::kReply) env_.program.reply_route = static_cast<int>(i);
      if (r.kind == RouteKind::kOnSend) {
        env_.error(r.loc, "onsend_route is not supported in Strowger yet");
      }
    }
  }

  std::vector<Node> block(const std::vector<StmtPtr>& stmts) {
    std::vector<Node> out;
    out.reserve(stmts.size());
    for (const auto& s : stmts) {
      if (auto n = statement(*s)) out.push_back(std::move(*n));
    }
    return out;
  }

  std::optional<Node> statement(const Stmt& s) {
    Node n;
    n.kind = s.kind;
    n.loc = s.loc;
    bool ok = true;
    auto expr = [&](const ExprPtr& e) {
      if (!e) return;
      auto fn = compile_expr(env_, *e);
      if (fn) {
        n.expr = std::move(*fn);
      } else {
        ok = false;
      }
    };
    switch (s.kind) {
      case StmtKind::kExpr:
        if (s.expr && s.expr->kind != ExprKind::kCall) {
          env_.error(s.expr->loc, "an expression used as a statement must be a function call");
          return std::nullopt;
        }
        expr(s.expr);
        break;
      case StmtKind::kAssign:
        expr(s.expr);
        if (!assign_target(s, &n)) ok = false;
        break;
      case StmtKind::kIf:
        expr(s.expr);
        n.body = block(s.body);
        n.else_body = block(s.else_body);
        break;
      case StmtKind::kWhile:
        expr(s.expr);
        n.body = block(s.body);
        break;
      case StmtKind::kSwitch:
        expr(s.expr);
        switch_cases(s, &n);
        break;
      case StmtKind::kReturn:
      case StmtKind::kExit:
      case StmtKind::kDrop:
        expr(s.expr);
        break;
      case StmtKind::kBreak:
        break;
      case StmtKind::kBlock:
        n.body = block(s.body);
        break;
    }
    if (!ok) return std::nullopt;
    return n;
  }

  bool assign_target(const Stmt& s, Node* n) {
    if (!s.target) return false;
    auto pv = compile_pv(env_, *s.target);
    if (!pv) return false;
    if (!pv->set) {
      env_.error(s.target->loc,
                 "cannot assign to read-only pseudo-variable " + pv_to_string(*s.target));
      return false;
    }
    n->target_text = pv_to_string(*s.target);
    n->target = pv->set;
    if (s.assign_op == AssignOp::kAdd) {
      // $x += v: the same addition rule as '+' (left type decides).
      ExprFn get = pv->get;
      ExprFn value = std::move(n->expr);
      n->expr = [get, value](ExecutionContext& ctx) {
        Value l = get(ctx);
        Value r = value(ctx);
        if (!l.is_str()) {  // wraps like '+' (no signed overflow)
          return Value::of(static_cast<std::int64_t>(static_cast<std::uint64_t>(l.to_int()) +
                                                     static_cast<std::uint64_t>(r.to_int())));
        }
        std::string rs = r.to_str();
        if (l.s.size() + rs.size() > kMaxBuiltString) {
          ctx.host.log(kLogErr, "string longer than " + std::to_string(kMaxBuiltString) +
                                    " bytes built by '+='; the result is $null");
          return Value::null();
        }
        return Value::of(l.s + rs);
      };
    }
    return true;
  }

  void switch_cases(const Stmt& s, Node* n) {
    for (const auto& c : s.cases) {
      Node::Case nc;
      nc.is_default = c.is_default;
      nc.start = n->body.size();
      if (!c.is_default && c.label) {
        const Expr& l = *c.label;
        if (l.kind == ExprKind::kInt) {
          nc.label = Value::of(l.int_value);
        } else if (l.kind == ExprKind::kString) {
          nc.label = Value::of(l.text);
        } else {
          env_.error(l.loc, "a case label must be a number or a string");
        }
        if (c.is_regex) {
          std::string err;
          auto re = Regex::compile(nc.label.to_str(), Regex::kIgnoreCase, &err);
          if (!re) {
            env_.error(l.loc, "bad regular expression: " + err);
          } else {
            nc.regex = std::move(re);
          }
        }
      }
      n->cases.push_back(std::move(nc));
      for (auto& b : block(c.body)) n->body.push_back(std::move(b));
    }
  }

  CompileEnv env_;
};

}  // namespace

std::optional<int> CompileEnv::route_ref(RouteKind kind, const std::string& name, SourceLoc loc) {
  int idx = program.find(kind, name);
  if (idx < 0) {
    error(loc, std::string(route_kind_keyword(kind)) + "[" + name + "] is not defined");
    return std::nullopt;
  }
  return idx;
}

int Program::find(RouteKind kind, const std::string& name) const {
  for (std::size_t i = 0; i < routes.size(); i++) {
    if (routes[i].kind == kind && routes[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string CompileResult::format_diagnostics() const {
  std::string out;
  for (const auto& d : diagnostics) out += format_diagnostic(d, *sources) + "\n";
  return out;
}

CompileResult compile(const ParseResult& parsed, const CompileOptions& options) {
  CompileResult result;
  result.sources = parsed.sources;
  result.diagnostics = parsed.diagnostics;
  auto program = std::make_shared<Program>();
  program->sources = parsed.sources;
  program->shared_vars = options.shared_vars ? options.shared_vars : std::make_shared<SharedVars>();
  program->max_run_steps = options.max_run_steps;
  Diagnostics diag;
  Compiler(parsed.script, *program, diag).run();
  for (auto& d : diag.take()) result.diagnostics.push_back(std::move(d));
  bool errors = !parsed.ok() || diag.error_count() > 0;
  if (!errors && program->request_route < 0) {
    // Name the script file itself (index 0 may be the "<command line>" of -D defines).
    std::uint32_t file = parsed.script.routes.empty() ? (parsed.sources->size() > 1 ? 1 : 0)
                                                      : parsed.script.routes.front().loc.file;
    result.diagnostics.push_back(
        {Severity::kError, SourceLoc{file, 0, 0}, "the script has no request_route"});
    errors = true;
  }
  if (!errors) result.program = std::move(program);
  return result;
}

CompileResult compile_file(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& defines,
                           const CompileOptions& options) {
  return compile(parse_script(path, defines), options);
}

CompileResult compile_text(std::string_view text, const std::string& name,
                           const CompileOptions& options) {
  return compile(parse_script_text(text, name), options);
}

}  // namespace strowger::proxy::script::engine
