// $ruid through the real modules: usrloc.so and registrar.so loaded by a script, a REGISTER
// saved and an INVITE looked up in dry runs; $ruid is $null before lookup, the binding's after.
#include <gtest/gtest.h>

#include "common/log.h"
#include "sipproxy/usrloc.h"
#include "tests/unit/support/script_runner.h"
#include "tests/unit/support/test_module_host.h"

namespace strowger::proxy {
namespace {

using ServiceHost = test_support::TestModuleHost;

std::string run(const script::engine::Program& program, const std::string& text) {
  test_support::RouteRun route(program, text);
  return route.var("before") + "|" + route.var("after");
}

TEST(RuidPv, SetByLookupFromTheRuriContact) {
  // The modules resolve the logger from this executable: a call here keeps it linked in.
  LOG_DEBUG("ruid test: loading usrloc.so and registrar.so");
  ServiceHost host;
  auto program = test_support::load_script(
      "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
      "request_route {\n"
      "  if (is_method(\"REGISTER\")) { save(\"location\"); exit; }\n"
      "  if ($ruid == $null) { $var(before) = \"null\"; }\n"
      "  if (lookup(\"location\")) { $var(after) = $ruid; } else { $var(after) = \"none\"; }\n"
      "}\n",
      "ruid.cfg", host);
  ASSERT_NE(program, nullptr);
  auto loc = std::static_pointer_cast<sipproxy::usrloc::Location>(
      host.find(sipproxy::usrloc::kUsrlocService));
  ASSERT_NE(loc, nullptr);

  const std::string invite =
      "INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-2\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=2\r\nTo: <sip:alice@example.com>\r\n"
      "Call-ID: i1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(run(*program, invite), "null|none");
  run(*program,
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
      "To: <sip:alice@example.com>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n"
      "Contact: <sip:alice@192.0.2.10:5060>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n");
  auto bindings = loc->get("alice");
  ASSERT_EQ(bindings.size(), 1u);
  ASSERT_FALSE(bindings[0].ruid.empty());
  EXPECT_EQ(run(*program, invite), "null|" + bindings[0].ruid);
}

}  // namespace
}  // namespace strowger::proxy
