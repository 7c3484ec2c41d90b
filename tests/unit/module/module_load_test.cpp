// Loading a real module (pike.so) through a script: functions, parameters with validation,
// init, and the errors a wrong module line gives with file:line:col.
#include <gtest/gtest.h>

#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"
#include "tests/unit/support/test_module_host.h"

namespace strowger::proxy {
namespace {

using NoHost = test_support::TestModuleHost;

class ModuleLoad : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  }
  static std::string errors(const std::string& text) {
    return script::engine::compile_text(text, "m.cfg").format_diagnostics();
  }
};

constexpr const char* kInvite =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@example.org>;tag=1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n\r\n";

TEST_F(ModuleLoad, PikeRefusesAFloodingSource) {
  auto compiled = script::engine::compile_text(
      "loadmodule \"pike.so\"\n"
      "modparam(\"pike\", \"reqs_density_per_unit\", 3)\n"
      "modparam(\"pike\", \"sampling_time_unit\", 60)\n"
      "request_route { if (!pike_check_req()) { $var(r) = \"flood\"; exit; } $var(r) = \"ok\"; }\n",
      "m.cfg");
  ASSERT_TRUE(compiled.ok()) << compiled.format_diagnostics();
  NoHost host;
  ASSERT_EQ(module::ModuleRegistry::instance().init_all(host), std::nullopt);
  EXPECT_EQ(host.timers.size(), 1u);
  const module::LoadedModule* m = module::ModuleRegistry::instance().find("pike");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->initialized);
  EXPECT_EQ(m->params->get_int("reqs_density_per_unit"), 3);
  EXPECT_EQ(m->params->get_int("remove_latency"), 120);  // the default
  std::vector<std::string> results;
  for (int i = 0; i < 5; ++i) {
    auto msg = sip::Message::parse(kInvite);
    ASSERT_TRUE(msg.ok());
    script::engine::DryRunHost dry(std::move(msg.value()), {"udp", "192.0.2.10", 5060},
                                   {"udp", "192.0.2.1", 5060}, {});
    script::engine::ExecutionContext ctx(*compiled.program, dry);
    script::engine::run_route(ctx, compiled.program->request_route);
    results.push_back(ctx.vars["r"].to_str());
  }
  EXPECT_EQ(results, (std::vector<std::string>{"ok", "ok", "ok", "flood", "flood"}));
  // After init a reload may not change a parameter: it says that a restart is needed.
  EXPECT_NE(errors("loadmodule \"pike.so\"\nmodparam(\"pike\", \"reqs_density_per_unit\", 9)\n"
                   "request_route { exit; }\n")
                .find("m.cfg:2:1: parameter reqs_density_per_unit of pike changed: module "
                      "parameters need a restart"),
            std::string::npos);
}

TEST_F(ModuleLoad, ErrorsNameTheLine) {
  EXPECT_EQ(
      errors("loadmodule \"nosuch.so\"\nrequest_route { exit; }\n")
          .rfind("m.cfg:1:1: module nosuch is not available in Strowger (no nosuch.so in ", 0),
      0u);
  EXPECT_NE(errors("loadmodule \"pike.so\"\nmodparam(\"pike\", \"density\", 3)\n"
                   "request_route { exit; }\n")
                .find("m.cfg:2:1: module pike has no parameter 'density' (it has: "
                      "sampling_time_unit, reqs_density_per_unit, remove_latency)"),
            std::string::npos);
  EXPECT_NE(errors("loadmodule \"pike.so\"\nmodparam(\"pike\", \"remove_latency\", \"x\")\n"
                   "request_route { exit; }\n")
                .find("m.cfg:2:1: parameter remove_latency of pike is a number"),
            std::string::npos);
  EXPECT_NE(errors("loadmodule \"pike.so\"\nrequest_route { pike_check_req(1); }\n")
                .find("m.cfg:2:17: pike_check_req() takes 0 argument(s), 1 given"),
            std::string::npos);
  // Without loadmodule the function does not exist.
  EXPECT_NE(errors("request_route { pike_check_req(); }\n").find("unknown function"),
            std::string::npos);
}

}  // namespace
}  // namespace strowger::proxy
