// rr's parameter functions (add_rr_param, check_route_param), siputils' is_first_hop and kex's
// isdsturiset: what a NAT-aware script marks on its Record-Route and checks again in-dialog.
#include "proxy/script/engine/functions.h"
#include "proxy/script/engine/runtime.h"
#include "proxy/script/regex.h"

namespace strowger::proxy::script::engine {
namespace {

// add_rr_param(";nat=yes")
std::optional<ActionFn> add_rr_param(CompileEnv& env, const Expr& call) {
  auto values = arg_values(env, call);
  if (!values) return std::nullopt;
  ExprFn param = (*values)[0];
  return [param](ExecutionContext& c) {
    if (!c.msg().is_request()) return -1;
    return c.host.add_rr_param(param(c).to_str());
  };
}

// check_route_param("nat=yes"): the regular expression matches the parameters of the Route
// loose_route() consumed (ours, put there by record_route on the initial request).
std::optional<ActionFn> check_route_param(CompileEnv& env, const Expr& call) {
  auto text = arg_const_string(env, *call.args[0], "regex");
  if (!text) return std::nullopt;
  std::string err;
  std::shared_ptr<Regex> re = Regex::compile(*text, 0, &err);
  if (!re) {
    env.error(call.args[0]->loc, "bad regular expression: " + err);
    return std::nullopt;
  }
  return [re](ExecutionContext& c) {
    if (c.route_params.empty()) return -1;
    return re->search(c.route_params) ? 1 : -1;
  };
}

// is_first_hop(): the message has only the Via of the UA that sent it (a request from our own
// client, or a reply on its way to it).
int is_first_hop(ExecutionContext& c) {
  return c.msg().via_count() == 1 ? 1 : -1;
}

}  // namespace

void add_rr_functions(FunctionTable& t) {
  // kex's isdsturiset(): a destination ($du) was chosen (lookup, loose_route, an alias).
  t["isdsturiset"] = {0, 0, [](CompileEnv&, const Expr&) {
                        return std::optional<ActionFn>(
                            [](ExecutionContext& c) { return c.dst_uri.empty() ? -1 : 1; });
                      }};
  t["add_rr_param"] = {1, 1, add_rr_param};
  t["check_route_param"] = {1, 1, check_route_param};
  t["is_first_hop"] = {
      0, 0, [](CompileEnv&, const Expr&) {
        return std::optional<ActionFn>([](ExecutionContext& c) { return is_first_hop(c); });
      }};
}

}  // namespace strowger::proxy::script::engine
