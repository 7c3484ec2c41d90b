// Module functions and pseudo-variables in the script: arguments checked and fixed up at compile
// time, evaluated per call, and a ScriptCall over the execution context for the module.
#include "proxy/script/engine/module_calls.h"

#include "proxy/module/registry.h"

namespace strowger::proxy::script::engine {
namespace {

sipproxy::RouteMask mask_of(RouteKind kind) {
  switch (kind) {
    case RouteKind::kFailure:
      return sipproxy::kFailureRoute;
    case RouteKind::kOnReply:
      return sipproxy::kOnReplyRoute;
    case RouteKind::kBranch:
      return sipproxy::kBranchRoute;
    case RouteKind::kReply:
      return sipproxy::kReplyRoute;
    case RouteKind::kEvent:
      return sipproxy::kEventRoute;
    default:
      return sipproxy::kRequestRoute;
  }
}

sipproxy::Peer to_api(const Peer& p) {
  return {p.proto, p.ip, p.port};
}

class ContextCall final : public sipproxy::ScriptCall {
 public:
  explicit ContextCall(ExecutionContext& c) : c_(c) {}
  sipproxy::Message& message() override { return c_.msg(); }
  sipproxy::RouteMask route() const override { return mask_of(c_.route_kind); }
  int worker() const override { return c_.host.worker(); }
  sipproxy::Peer source() const override { return to_api(c_.host.source()); }
  sipproxy::Peer local() const override { return to_api(c_.host.local()); }
  std::uint64_t connection_id() const override { return c_.host.connection_id(); }
  bool is_myself(std::string_view host, std::uint16_t port) const override {
    return c_.host.is_myself(host, port);
  }
  int reply(int code, std::string_view reason, std::string_view extra_headers) override {
    return c_.host.reply_with_headers(code, reason, extra_headers, ReplyMode::kAuto);
  }
  const std::string& dst_uri() const override { return c_.dst_uri; }
  void set_dst_uri(std::string uri) override { c_.dst_uri = std::move(uri); }
  void set_path(std::vector<std::string> path) override { c_.path = std::move(path); }
  void set_connection(std::uint64_t connection_id, bool flow) override {
    c_.connection_id = connection_id;
    c_.flow = flow;
  }
  void clear_branches() override { c_.branches.clear(); }
  const std::vector<sipproxy::Branch>& branches() const override { return c_.branches; }
  bool append_branch(sipproxy::Branch branch) override {
    constexpr std::size_t kMaxBranches = 12;  // Kamailio's default
    if (c_.branches.size() + 1 >= kMaxBranches) return false;
    c_.branches.push_back(std::move(branch));
    return true;
  }
  bool flag(int bit) const override { return bit >= 0 && bit < 64 && (c_.flags >> bit & 1) != 0; }
  void set_flag(int bit, bool on) override {
    if (bit < 0 || bit > 63) return;
    if (on) {
      c_.flags |= std::uint64_t{1} << bit;
    } else {
      c_.flags &= ~(std::uint64_t{1} << bit);
    }
  }
  std::optional<std::string> avp(std::string_view name) const override {
    auto it = c_.avps.find(std::string(name));
    if (it == c_.avps.end() || it->second.empty()) return std::nullopt;
    return it->second.back().to_str();
  }
  void set_avp(std::string_view name, std::string value) override {
    c_.avps[std::string(name)].push_back(Value::of(std::move(value)));
  }
  void log(sipproxy::LogLevel level, std::string_view text) override {
    int l = kLogDebug;
    switch (level) {
      case sipproxy::LogLevel::kError:
        l = kLogErr;
        break;
      case sipproxy::LogLevel::kWarn:
        l = kLogWarn;
        break;
      case sipproxy::LogLevel::kNotice:
        l = kLogNotice;
        break;
      case sipproxy::LogLevel::kInfo:
        l = kLogInfo;
        break;
      case sipproxy::LogLevel::kDebug:
        break;
    }
    c_.host.log(l, text);
  }

 private:
  ExecutionContext& c_;
};

bool literal_string(const Expr& a, std::string* out) {
  if (a.kind != ExprKind::kString) return false;
  if (a.text.find('$') != std::string::npos) return false;  // a format with references
  *out = a.text;
  return true;
}

}  // namespace

const sipproxy::FunctionSpec* find_module_function(const Program& program, std::string_view name) {
  for (const sipproxy::ModuleDescriptor* d : program.module_descriptors) {
    for (const auto& f : d->functions) {
      if (f.name == name) return &f;
    }
  }
  return nullptr;
}

std::optional<ActionFn> compile_module_call(CompileEnv& env, const Expr& call,
                                            const sipproxy::FunctionSpec& spec) {
  if (call.args.size() < spec.min_args || call.args.size() > spec.args.size()) {
    std::string range = std::to_string(spec.min_args);
    if (spec.args.size() != spec.min_args) range += " to " + std::to_string(spec.args.size());
    env.error(call.loc, call.text + "() takes " + range + " argument(s), " +
                            std::to_string(call.args.size()) + " given");
    return std::nullopt;
  }
  std::vector<ExprFn> values;
  std::vector<sipproxy::ConstArg> consts;
  for (std::size_t i = 0; i < call.args.size(); ++i) {
    const Expr& a = *call.args[i];
    const sipproxy::ArgSpec& as = spec.args[i];
    sipproxy::ConstArg c;
    if (a.kind == ExprKind::kInt) {
      c.is_constant = true;
      c.i = a.int_value;
      c.text = std::to_string(a.int_value);
    } else if (literal_string(a, &c.text)) {
      c.is_constant = true;
      char* end = nullptr;
      c.i = std::strtoll(c.text.c_str(), &end, 10);
      if (as.kind == sipproxy::ArgKind::kInt && (c.text.empty() || *end != '\0')) {
        env.error(a.loc,
                  call.text + "(): " + as.name + " must be a number, not \"" + c.text + "\"");
        return std::nullopt;
      }
    } else {
      c.text = a.text;
    }
    if (as.constant && !c.is_constant) {
      env.error(a.loc, call.text + "(): " + as.name + " must be a literal");
      return std::nullopt;
    }
    auto v = arg_value(env, a);
    if (!v) return std::nullopt;
    values.push_back(std::move(*v));
    consts.push_back(std::move(c));
  }
  std::shared_ptr<const void> state;
  if (spec.fixup) {
    if (auto err = spec.fixup(consts, &state)) {
      env.error(call.loc, call.text + "(): " + *err);
      return std::nullopt;
    }
  }
  const sipproxy::FunctionSpec* fn = &spec;  // descriptors live as long as the process
  return ActionFn([fn, values = std::move(values), state](ExecutionContext& c) {
    ContextCall sc(c);
    if ((fn->routes & sc.route()) == 0) {
      c.host.log(kLogErr, fn->name + "() cannot be used in this route");
      return -1;
    }
    std::vector<sipproxy::ArgValue> args(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      Value v = values[i](c);
      args[i].s = v.to_str();
      args[i].i = v.to_int();
    }
    return fn->run(sc, args, state.get());
  });
}

std::optional<CompiledPv> compile_module_pv(const Program& program, const PvRef& pv) {
  for (const sipproxy::ModuleDescriptor* d : program.module_descriptors) {
    for (const auto& p : d->pvs) {
      if (p.name != pv.name) continue;
      const sipproxy::PvSpec* spec = &p;
      CompiledPv out;
      out.get = [spec](ExecutionContext& c) {
        ContextCall sc(c);
        std::optional<std::string> v = spec->get(sc);
        return v ? Value::of(std::move(*v)) : Value::null();
      };
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace strowger::proxy::script::engine
