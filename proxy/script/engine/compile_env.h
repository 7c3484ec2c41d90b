// CompileEnv: what the compiler's parts (expressions, pvs, transformations, functions) share.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proxy/script/ast.h"
#include "proxy/script/diagnostics.h"
#include "proxy/script/engine/context.h"
#include "proxy/script/engine/program.h"

namespace strowger::proxy::script::engine {

struct CompileEnv {
  const Script& script;
  Program& program;
  Diagnostics& diag;
  std::map<std::string, int> flag_names;  // flags FLAG_NAT:5

  void error(SourceLoc loc, std::string message) { diag.error(loc, std::move(message)); }
  // Route index by kind and name; reports an error at loc when missing.
  std::optional<int> route_ref(RouteKind kind, const std::string& name, SourceLoc loc);
};

// A compiled pseudo-variable: getter (transformations applied) and, when assignable, a setter.
struct CompiledPv {
  ExprFn get;
  SetFn set;  // null when read-only
};
std::optional<CompiledPv> compile_pv(CompileEnv& env, const PvRef& pv);
// selects.cpp: @ruri.user, @via[2].branch, $sel(from.tag): the pseudo-variable they mean.
std::optional<std::string> select_as_pv(std::string_view name, std::string* error);
std::optional<CompiledPv> compile_select(CompileEnv& env, std::string_view name, SourceLoc loc);

using TransformFn = std::function<Value(ExecutionContext&, Value)>;
std::optional<TransformFn> compile_transform(CompileEnv& env, const PvTransform& t, SourceLoc loc);

// A string argument that may hold pseudo-variables ("$fU@$fd"); constant strings cost nothing.
std::optional<ExprFn> compile_format(CompileEnv& env, const std::string& text, SourceLoc loc);
std::optional<ExprFn> compile_expr(CompileEnv& env, const Expr& e);

// A function call as an expression (ret value as int; 0 stops the script).
std::optional<ExprFn> compile_call(CompileEnv& env, const Expr& call);

// Runs a route body (runtime.cpp); used by route(X).
int run_nodes(ExecutionContext& ctx, const std::vector<Node>& nodes, std::size_t start = 0);
int call_route(ExecutionContext& ctx, int route);

// Text helpers shared by the runtime parts.
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

}  // namespace strowger::proxy::script::engine
