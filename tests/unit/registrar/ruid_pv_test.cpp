// $ruid through the real modules: usrloc.so and registrar.so loaded by a script, a REGISTER
// saved and an INVITE looked up in dry runs; $ruid is $null before lookup, the binding's after.
#include <gtest/gtest.h>

#include <map>

#include "common/log.h"
#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"
#include "sipproxy/usrloc.h"
#include "tests/unit/support/test_module_host.h"

namespace strowger::proxy {
namespace {

using ServiceHost = test_support::TestModuleHost;

std::string run(const script::engine::Program& program, const std::string& text) {
  auto msg = sip::Message::parse(text);
  EXPECT_TRUE(msg.ok()) << text;
  script::engine::DryRunHost dry(std::move(msg.value()), {"udp", "192.0.2.10", 5060},
                                 {"udp", "192.0.2.1", 5060}, {});
  script::engine::ExecutionContext ctx(program, dry);
  script::engine::run_route(ctx, program.request_route);
  return ctx.vars["before"].to_str() + "|" + ctx.vars["after"].to_str();
}

TEST(RuidPv, SetByLookupFromTheRuriContact) {
  // The modules resolve the logger from this executable: a call here keeps it linked in.
  LOG_DEBUG("ruid test: loading usrloc.so and registrar.so");
  module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  auto compiled = script::engine::compile_text(
      "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
      "request_route {\n"
      "  if (is_method(\"REGISTER\")) { save(\"location\"); exit; }\n"
      "  if ($ruid == $null) { $var(before) = \"null\"; }\n"
      "  if (lookup(\"location\")) { $var(after) = $ruid; } else { $var(after) = \"none\"; }\n"
      "}\n",
      "ruid.cfg");
  ASSERT_TRUE(compiled.ok()) << compiled.format_diagnostics();
  ServiceHost host;
  ASSERT_EQ(module::ModuleRegistry::instance().init_all(host), std::nullopt);
  auto loc = std::static_pointer_cast<sipproxy::usrloc::Location>(
      host.find(sipproxy::usrloc::kUsrlocService));
  ASSERT_NE(loc, nullptr);

  const std::string invite =
      "INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-2\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=2\r\nTo: <sip:alice@example.com>\r\n"
      "Call-ID: i1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(run(*compiled.program, invite), "null|none");
  run(*compiled.program,
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
      "To: <sip:alice@example.com>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n"
      "Contact: <sip:alice@192.0.2.10:5060>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n");
  auto bindings = loc->get("alice");
  ASSERT_EQ(bindings.size(), 1u);
  ASSERT_FALSE(bindings[0].ruid.empty());
  EXPECT_EQ(run(*compiled.program, invite), "null|" + bindings[0].ruid);
}

}  // namespace
}  // namespace strowger::proxy
