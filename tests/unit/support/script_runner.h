// Module tests through the script: compile a script whose loadmodule lines resolve to this
// build's .so files, init them on a test host, and run request_route over one message dry.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"

namespace strowger::test_support {

// The target that includes this defines STROWGER_MODULE_DIR (the build's lib/modules).
inline proxy::script::engine::CompileResult compile_with_modules(std::string_view text,
                                                                 const std::string& name) {
  proxy::module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  return proxy::script::engine::compile_text(text, name);
}

// Compiles `text` and inits every module it loaded on `host`. A failure of either is a test
// failure naming the diagnostics or the init error, and returns null.
inline std::shared_ptr<const proxy::script::engine::Program> load_script(
    std::string_view text, const std::string& name, sipproxy::ModuleHost& host) {
  auto compiled = compile_with_modules(text, name);
  if (!compiled.ok()) {
    ADD_FAILURE() << compiled.format_diagnostics();
    return nullptr;
  }
  if (auto err = proxy::module::ModuleRegistry::instance().init_all(host)) {
    ADD_FAILURE() << "init_all: " << *err;
    return nullptr;
  }
  return compiled.program;
}

// One request_route run over a message in a dry run. The host (the message as the script left
// it, the actions it took) and the context ($var) stay for the test to read.
class RouteRun {
 public:
  using Peer = proxy::script::engine::Peer;

  RouteRun(const proxy::script::engine::Program& program, std::string_view text,
           Peer source = {"udp", "192.0.2.10", 5060}, Peer local = {"udp", "192.0.2.1", 5060})
      : dry_(parse(text), std::move(source), std::move(local), {}), ctx_(program, dry_) {
    proxy::script::engine::run_route(ctx_, program.request_route);
  }
  RouteRun(const RouteRun&) = delete;
  RouteRun& operator=(const RouteRun&) = delete;

  std::string var(const std::string& name) { return ctx_.vars[name].to_str(); }
  proxy::script::engine::DryRunHost& host() { return dry_; }

 private:
  static proxy::sip::Message parse(std::string_view text) {
    auto msg = proxy::sip::Message::parse(text);
    EXPECT_TRUE(msg.ok()) << text;
    return std::move(msg.value());
  }

  proxy::script::engine::DryRunHost dry_;
  proxy::script::engine::ExecutionContext ctx_;
};

}  // namespace strowger::test_support
