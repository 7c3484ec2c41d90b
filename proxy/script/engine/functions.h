// The built-in script functions: one table of name -> argument count and compile step.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {

// What a compiled function does per message; returns Kamailio's code (>0 true, <0 false,
// 0 stop the script).
using ActionFn = std::function<int(ExecutionContext&)>;

struct FunctionSpec {
  std::size_t min_args;
  std::size_t max_args;
  // Checks and pre-parses the arguments; reports errors through env and returns nullopt.
  std::function<std::optional<ActionFn>(CompileEnv&, const Expr& call)> compile;
};
using FunctionTable = std::map<std::string, FunctionSpec, std::less<>>;

void add_core_functions(FunctionTable& t);  // functions_core.cpp: core, sl, tm, rr
void add_rr_functions(FunctionTable& t);    // functions_rr.cpp: rr's parameters, is_first_hop
void add_text_functions(FunctionTable& t);  // functions_text.cpp: textops, maxfwd, sanity, ...
void add_uri_functions(FunctionTable& t);   // functions_uri.cpp: rewrite*/set*, prefix, strip

// Argument helpers for the compile steps.
// A value: an int, a pseudo-variable or a string format ("$fU@$fd").
std::optional<ExprFn> arg_value(CompileEnv& env, const Expr& a);
// Every argument of call compiled with arg_value; nullopt when one fails (already reported).
std::optional<std::vector<ExprFn>> arg_values(CompileEnv& env, const Expr& call);
// A constant string (a literal, or a bare name when allow_ident).
std::optional<std::string> arg_const_string(CompileEnv& env, const Expr& a, const char* what,
                                            bool allow_ident = false);
// A constant int (a number or a numeric string, as Kamailio's fixups take "10").
std::optional<std::int64_t> arg_const_int(CompileEnv& env, const Expr& a, const char* what);
// A flag: a number 0..63 or a name declared with `flags`.
std::optional<int> arg_flag(CompileEnv& env, const Expr& a);

}  // namespace strowger::proxy::script::engine
