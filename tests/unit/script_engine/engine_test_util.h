// Helpers for the engine tests: compile a snippet, run it on a message with a DryRunHost.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"

namespace strowger::proxy::script::engine::test {

extern const char* const kInvite;  // a plain INVITE from 192.0.2.10

// Compile errors of a whole script, "" when it compiles.
std::string errors(std::string_view script);

struct Run {
  std::shared_ptr<const Program> program;
  std::unique_ptr<DryRunHost> host;
  std::unique_ptr<ExecutionContext> ctx;
  Trace trace;
  RunOutcome outcome;
  std::string error;  // compile errors
};

// Compiles "request_route { body }" (plus extra top-level text) and runs it on message.
std::unique_ptr<Run> run(std::string_view body, std::string_view message = kInvite,
                         std::string_view extra = {});

// The value of $var(r) after `$var(r) = <expr>;` as Value::repr(), or "ERR ...".
std::string eval(std::string_view expr, std::string_view message = kInvite);

}  // namespace strowger::proxy::script::engine::test
