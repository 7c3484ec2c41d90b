// Module functions and pseudo-variables compiled into a Program (see proxy/include/sipproxy/).
#pragma once
#include <optional>
#include <string_view>

#include "proxy/script/engine/compile_env.h"
#include "proxy/script/engine/functions.h"
#include "sipproxy/script.h"

namespace strowger::proxy::script::engine {

// A function of a module the script loaded, or null.
const sipproxy::FunctionSpec* find_module_function(const Program& program, std::string_view name);
std::optional<ActionFn> compile_module_call(CompileEnv& env, const Expr& call,
                                            const sipproxy::FunctionSpec& spec);
// $name of a loaded module, or nullopt.
std::optional<CompiledPv> compile_module_pv(const Program& program, const PvRef& pv);

}  // namespace strowger::proxy::script::engine
