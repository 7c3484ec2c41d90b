// Message keywords in comparisons: method == "INVITE", uri == myself, src_ip == 10.0.0.0/8, ...
#pragma once
#include <optional>

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {

// e is a kBinary whose lhs is a kField or kMyself (or whose rhs is kMyself).
std::optional<ExprFn> compile_field_compare(CompileEnv& env, const Expr& e);

// host[:port] of a URI or a plain host is ours (used by `== myself` and loose_route).
bool uri_is_myself(ExecutionContext& ctx, const std::string& text);

}  // namespace strowger::proxy::script::engine
