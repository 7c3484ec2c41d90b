// nathelper.so loaded by a script with the real usrloc.so and registrar.so (dlopen): a NATed
// REGISTER saved with fix_nated_register's received URI, an INVITE looked up to that address,
// an alias round trip, then the module's keepalive timer pinging the binding through the host
// and the reply coming back by Via branch prefix.
#include <gtest/gtest.h>

#include "common/log.h"
#include "sipproxy/usrloc.h"
#include "tests/unit/support/script_runner.h"
#include "tests/unit/support/test_module_host.h"

namespace strowger::proxy {
namespace {

struct Result {
  std::string nat, du, ru, contact;
};

Result run(const script::engine::Program& program, const std::string& text, sipproxy::Peer src) {
  test_support::RouteRun route(program, text, {src.proto, src.ip, src.port},
                               {"udp", "127.0.0.1", 5060});
  Result r{route.var("nat"), route.var("du"), route.var("ru"), {}};
  if (auto c = route.host().message().contact_uri()) r.contact = c->to_string();
  return r;
}

std::string msg(std::string_view method, std::string_view ruri, std::string_view extra) {
  return std::string(method) + " " + std::string(ruri) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bK-" + std::string(method) +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=1\r\n"
         "To: <sip:bob@example.com>\r\nCall-ID: " +
         std::string(method) + "-1\r\nCSeq: 1 " + std::string(method) + "\r\n" +
         std::string(extra) + "Content-Length: 0\r\n\r\n";
}

TEST(NathelperScript, RegisterLookupAliasAndKeepalive) {
  LOG_DEBUG("nathelper script test: loading usrloc.so, registrar.so, nathelper.so");
  test_support::TestModuleHost host;
  auto program = test_support::load_script(
      "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\nloadmodule \"nathelper.so\"\n"
      "modparam(\"nathelper\", \"natping_interval\", 15)\n"
      "modparam(\"nathelper\", \"ping_nated_only\", 1)\n"
      "modparam(\"nathelper\", \"sipping_from\", \"sip:pinger@example.com\")\n"
      "modparam(\"nathelper\", \"keepalive_timeout\", 60)\n"
      "modparam(\"nathelper\", \"received_avp\", \"$avp(RECEIVED)\")\n"
      "request_route {\n"
      "  force_rport();\n"
      "  if (nat_uac_test(\"19\")) {\n"
      "    $var(nat) = \"yes\";\n"
      "    if (is_method(\"REGISTER\")) { fix_nated_register(); } else { add_contact_alias(); }\n"
      "  }\n"
      "  if (is_method(\"REGISTER\")) { save(\"location\"); exit; }\n"
      "  if (is_method(\"BYE\")) { handle_ruri_alias(); $var(du) = $du; $var(ru) = $ru; exit; }\n"
      "  if (lookup(\"location\")) { $var(du) = $du; $var(ru) = $ru; }\n"
      "}\n",
      "nat.cfg", host);
  ASSERT_NE(program, nullptr);
  ASSERT_EQ(host.timers.size(), 2u);  // usrloc's expiry timer and nathelper's pings
  ASSERT_EQ(host.reply_hooks.size(), 1u);
  auto loc = std::static_pointer_cast<sipproxy::usrloc::Location>(
      host.find(sipproxy::usrloc::kUsrlocService));
  ASSERT_NE(loc, nullptr);

  const sipproxy::Peer nat_src{"udp", "127.0.0.1", 40000};
  Result reg = run(*program,
                   msg("REGISTER", "sip:example.com",
                       "Contact: <sip:bob@192.168.1.10:5062>\r\nExpires: 600\r\n"),
                   nat_src);
  EXPECT_EQ(reg.nat, "yes");
  auto bindings = loc->get("bob");
  ASSERT_EQ(bindings.size(), 1u);
  EXPECT_EQ(bindings[0].received, "sip:127.0.0.1:40000");
  EXPECT_TRUE(bindings[0].flags & sipproxy::usrloc::kFlagNat);

  Result inv =
      run(*program, msg("INVITE", "sip:bob@example.com", "Contact: <sip:carol@10.0.0.7:5080>\r\n"),
          {"udp", "127.0.0.1", 40002});
  EXPECT_EQ(inv.du, "sip:127.0.0.1:40000");
  EXPECT_EQ(inv.ru, "sip:bob@192.168.1.10:5062");
  EXPECT_EQ(inv.contact, "sip:carol@10.0.0.7:5080;alias=127.0.0.1~40002~1");

  Result bye = run(*program, msg("BYE", inv.contact, ""), {"udp", "127.0.0.1", 40000});
  EXPECT_EQ(bye.du, "sip:127.0.0.1:40002");
  EXPECT_EQ(bye.ru, "sip:carol@10.0.0.7:5080");

  // The keepalive timer: one OPTIONS to the REGISTER's source, never to the private Contact.
  host.timers[1]();
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0].to.ip, "127.0.0.1");
  EXPECT_EQ(host.sent[0].to.port, 40000);
  auto ping = sip::Message::parse(host.sent[0].bytes);
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping.value().method(), sip::Method::kOptions);
  auto via = ping.value().via(0);
  ASSERT_TRUE(via);
  EXPECT_TRUE(via->branch.starts_with(host.reply_hooks[0].prefix));
  auto reply = sip::Message::parse(ping.value().make_response(200, "OK", "ua"));
  ASSERT_TRUE(reply.ok());
  host.reply_hooks[0].fn(reply.value(), nat_src);

  const module::LoadedModule* m = module::ModuleRegistry::instance().find("nathelper");
  ASSERT_NE(m, nullptr);
  common::Json stats;
  for (const auto& rpc : m->descriptor->rpcs)
    if (rpc.name == "nathelper.stats") stats = rpc.handler(common::Json::object());
  EXPECT_EQ(stats["sip_pings"], 1);
  EXPECT_EQ(stats["replies"], 1);
  for (const auto& rpc : m->descriptor->rpcs)
    if (rpc.name == "nathelper.enable_ping") {
      EXPECT_EQ(rpc.handler(common::Json{{"value", "0"}})["enabled"], false);
      EXPECT_THROW(rpc.handler(common::Json{{"value", "x"}}), common::ControlError);
    }
  host.timers[1]();  // disabled: nothing more is sent
  EXPECT_EQ(host.sent.size(), 1u);
}

TEST(NathelperScript, BadParametersAreLoadErrors) {
  auto diag = [](const std::string& line) {
    return test_support::compile_with_modules(
               "loadmodule \"nathelper.so\"\n" + line + "\nrequest_route { exit; }\n", "bad.cfg")
        .format_diagnostics();
  };
  EXPECT_NE(diag("modparam(\"nathelper\", \"received_avp\", \"$var(x)\")"), "");
  EXPECT_NE(diag("modparam(\"nathelper\", \"sipping_from\", \"not a uri\")"), "");
  EXPECT_NE(diag("modparam(\"nathelper\", \"natping_interval\", -1)"), "");
  EXPECT_NE(
      test_support::compile_with_modules("loadmodule \"nathelper.so\"\n"
                                         "request_route { add_contact_alias(\"1.2.3.4\"); }\n",
                                         "bad.cfg")
          .format_diagnostics(),
      "");
}

}  // namespace
}  // namespace strowger::proxy
