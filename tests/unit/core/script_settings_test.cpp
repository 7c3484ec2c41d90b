// Global settings of a routing script against sipproxy.yaml: agreeing ones pass, conflicting
// ones are errors with the script's file:line:col.
#include <gtest/gtest.h>

#include "proxy/core/routing_script.h"
#include "proxy/script/engine/compiler.h"

namespace strowger::proxy::core {
namespace {

config::ProxyConfig yaml() {
  config::ProxyConfig cfg;
  cfg.file = "sipproxy.yaml";
  cfg.listen.push_back({transport::Protocol::kUdp, "127.0.0.1", 5060, "", 2});
  cfg.listen.push_back({transport::Protocol::kTcp, "127.0.0.1", 5060, "", 5});
  cfg.aliases = {"sip.example.com"};
  cfg.workers = 4;
  return cfg;
}

std::vector<std::string> check(const std::string& globals) {
  auto compiled = script::engine::compile_text(globals + "request_route { exit; }\n", "s.cfg");
  EXPECT_TRUE(compiled.ok()) << compiled.format_diagnostics();
  if (!compiled.ok()) return {"did not compile"};
  return check_script_settings(*compiled.program, *compiled.sources, yaml());
}

TEST(ScriptSettings, AgreeingSettingsPass) {
  EXPECT_TRUE(
      check("listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060\nlisten=127.0.0.1\n"
            "port=5060\nchildren=4\nalias=sip.example.com\nalias=\"sip.example.com:5060\"\n")
          .empty());
}

TEST(ScriptSettings, ConflictsNameTheScriptLine) {
  auto errors = check(
      "debug=2\nlisten=udp:10.0.0.1:5060\nchildren=8\nalias=other.example.com\n"
      "port=5070\nadvertised_address=\"1.2.3.4\"\n");
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0].rfind("s.cfg:2:", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("not a listen socket of sipproxy.yaml"), std::string::npos);
  EXPECT_EQ(errors[1].rfind("s.cfg:3:", 0), 0u) << errors[1];
  EXPECT_NE(errors[1].find("workers: 4"), std::string::npos);
  EXPECT_NE(errors[2].find("not among the aliases"), std::string::npos);
  EXPECT_NE(errors[3].find("no listen socket uses port 5070"), std::string::npos);
  EXPECT_NE(errors[4].find("set 'advertise'"), std::string::npos);
}

TEST(ScriptSettings, ProtocolMustMatch) {
  auto errors = check("listen=tls:127.0.0.1:5060\n");
  ASSERT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace strowger::proxy::core
