// Top-level tests: global settings, loadmodule/loadpath/modparam, flags, route blocks by kind.
#include <gtest/gtest.h>

#include "test_util.h"

namespace strowger::proxy::script {
namespace {

using test::parse;

const GlobalParam& global(const ParseResult& r, std::string_view name) {
  const GlobalParam* g = r.script.find_global(name);
  EXPECT_NE(g, nullptr) << name;
  static const GlobalParam kNone;
  return g != nullptr ? *g : kNone;
}

TEST(TopLevel, SimpleGlobalValues) {
  auto r = parse(
      "debug=2\nlog_stderror=no\nchildren=8\ndebug_x = -1\nlog_facility=LOG_LOCAL0\n"
      "log_prefix=\"{$mt $ci} \"\nenable_tls=yes\ntcp_connection_lifetime=3605\nport=5060\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  ASSERT_EQ(r.script.globals.size(), 9u);
  EXPECT_EQ(global(r, "debug").values[0].int_value, 2);
  const GlobalValue& no = global(r, "log_stderror").values[0];
  EXPECT_EQ(no.kind, GlobalValue::Kind::kInt);
  EXPECT_EQ(no.int_value, 0);
  EXPECT_EQ(no.text, "no");
  EXPECT_EQ(global(r, "debug_x").values[0].int_value, -1);
  EXPECT_EQ(global(r, "log_facility").values[0].kind, GlobalValue::Kind::kIdent);
  EXPECT_EQ(global(r, "log_facility").values[0].text, "LOG_LOCAL0");
  EXPECT_EQ(global(r, "log_prefix").values[0].kind, GlobalValue::Kind::kString);
  EXPECT_EQ(global(r, "log_prefix").values[0].text, "{$mt $ci} ");
  EXPECT_EQ(global(r, "enable_tls").values[0].int_value, 1);
  EXPECT_EQ(r.where(global(r, "port").loc), "test.cfg:9:1");
}

TEST(TopLevel, ListenForms) {
  auto r = parse(
      "listen=udp:127.0.0.1:5060\n"
      "listen=tcp:10.0.0.1:5060 advertise 203.0.113.5:5060 name \"pub\"\n"
      "listen=udp:[::1]:5062 tcp:[::1]:5062\n"
      "listen=eth0\n"
      "listen=sctp:(10.0.0.1, 10.0.0.2):5060\n"
      "listen=tls:sip-1.example.com:5061 virtual\n"
      "listen=udp:*:5060\n"
      "alias=\"example.com\"\n"
      "alias=example.net:5060 other.example.net\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  ASSERT_EQ(r.script.globals.size(), 9u);
  const auto& g = r.script.globals;
  EXPECT_EQ(g[0].values[0].kind, GlobalValue::Kind::kComposite);
  EXPECT_EQ(g[0].values[0].text, "udp:127.0.0.1:5060");
  EXPECT_EQ(g[1].values[0].text, "tcp:10.0.0.1:5060");
  EXPECT_TRUE(g[1].has_advertise);
  EXPECT_EQ(g[1].advertise.text, "203.0.113.5:5060");
  EXPECT_EQ(g[1].socket_name, "pub");
  ASSERT_EQ(g[2].values.size(), 2u);
  EXPECT_EQ(g[2].values[0].text, "udp:[::1]:5062");
  EXPECT_EQ(g[2].values[1].text, "tcp:[::1]:5062");
  EXPECT_EQ(g[3].values[0].kind, GlobalValue::Kind::kIdent);
  EXPECT_EQ(g[3].values[0].text, "eth0");
  EXPECT_EQ(g[4].values[0].text, "sctp:(10.0.0.1,10.0.0.2):5060");
  EXPECT_EQ(g[5].values[0].text, "tls:sip-1.example.com:5061");
  EXPECT_TRUE(g[5].is_virtual);
  EXPECT_EQ(g[6].values[0].text, "udp:*:5060");
  EXPECT_EQ(g[7].values[0].kind, GlobalValue::Kind::kString);
  ASSERT_EQ(g[8].values.size(), 2u);
  EXPECT_EQ(g[8].values[1].text, "other.example.net");
}

TEST(TopLevel, CfgVariables) {
  auto r = parse(
      "pstn.gw_ip = \"\" desc \"PSTN GW Address\"\npstn.gw_port = 5060\ngrp[2].var = \"x\"\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  EXPECT_EQ(global(r, "pstn.gw_ip").description, "PSTN GW Address");
  EXPECT_EQ(global(r, "pstn.gw_ip").values[0].kind, GlobalValue::Kind::kString);
  EXPECT_EQ(global(r, "pstn.gw_port").values[0].int_value, 5060);
  EXPECT_EQ(global(r, "grp[2].var").values[0].text, "x");
}

TEST(TopLevel, GlobalsInsideIfdef) {
  ParseOptions options;
  options.defines = {{"WITH_TLS", ""}};
  const char* text = "#!ifdef WITH_TLS\nenable_tls=yes\n#!endif\nchildren=4\n";
  EXPECT_EQ(parse(text).script.globals.size(), 1u);
  EXPECT_EQ(parse(text, options).script.globals.size(), 2u);
}

TEST(TopLevel, ModulesAndParams) {
  auto r = parse(
      "mpath=\"/usr/lib/kamailio/modules/\"\nloadpath \"/opt/mods\"\n"
      "loadmodule \"tm.so\"\nloadmodule \"sl\"\n"
      "#!define FLT_ACC 1\n"
      "modparam(\"tm\", \"fr_timer\", 30000)\n"
      "modparam(\"acc\", \"log_flag\", FLT_ACC);\n"
      "modparam(\"nathelper|registrar\", \"received_avp\", \"$avp(RECEIVED)\")\n"
      "modparam(\"acc\", \"log_extra\",\n\t\"src_user=$fU;\"\n\t\"dst_user=$rU\")\n"
      "modparam(\"x\", \"neg\", -5)\nmodparam(\"auth_db\", \"calculate_ha1\", yes)\n"
      "modparamx(\"x\", \"y\", \"$env(HOME)\")\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  ASSERT_EQ(r.script.load_paths.size(), 2u);
  EXPECT_EQ(r.script.load_paths[1].path, "/opt/mods");
  ASSERT_EQ(r.script.modules.size(), 2u);
  EXPECT_EQ(r.script.modules[0].path, "tm.so");
  EXPECT_EQ(r.where(r.script.modules[1].loc), "test.cfg:4:1");
  const auto& m = r.script.modparams;
  ASSERT_EQ(m.size(), 7u);
  EXPECT_TRUE(m[0].is_int);
  EXPECT_EQ(m[0].int_value, 30000);
  EXPECT_EQ(m[1].int_value, 1);
  EXPECT_EQ(m[2].module, "nathelper|registrar");
  EXPECT_EQ(m[2].str_value, "$avp(RECEIVED)");
  EXPECT_EQ(m[3].str_value, "src_user=$fU;dst_user=$rU");
  EXPECT_EQ(m[4].int_value, -5);
  EXPECT_EQ(m[5].int_value, 1);
  EXPECT_TRUE(m[6].evaluate);
  EXPECT_EQ(r.where(m[6].value_loc), "test.cfg:14:21");
}

TEST(TopLevel, ModparamErrors) {
  auto r = parse(
      "modparam(\"tm\", fr_timer, 1)\nmodparam(\"tm\", \"a\", $var(x))\nloadmodule tm\n"
      "request_route { exit; }\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:1:16: expected the parameter name as a string in modparam(\"module\", "
            "\"parameter\", value), found identifier 'fr_timer'\n"
            "test.cfg:2:21: expected a string or an integer value in modparam(\"module\", "
            "\"parameter\", value), found pseudo-variable $var(x)\n"
            "test.cfg:3:12: expected the module file name as a string after 'loadmodule', found "
            "identifier 'tm'\n");
  EXPECT_NE(r.script.find_route(RouteKind::kRequest), nullptr);  // parsing went on
}

TEST(TopLevel, FlagDeclarations) {
  auto r = parse("flags FLAG_ACC : 1, \"FLAG_B\", FLAG_C:7\navpflags dialog_cookie\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  ASSERT_EQ(r.script.flags.size(), 4u);
  EXPECT_EQ(r.script.flags[0].bit, 1);
  EXPECT_EQ(r.script.flags[1].name, "FLAG_B");
  EXPECT_EQ(r.script.flags[1].bit, -1);
  EXPECT_EQ(r.script.flags[2].bit, 7);
  EXPECT_TRUE(r.script.flags[3].avp_flag);
}

TEST(TopLevel, RouteKindsAndNames) {
  auto r = parse(
      "route { exit; }\n"
      "route[RELAY] { exit; }\n"
      "route[\"QUOTED\"] { exit; }\n"
      "route[7] { exit; }\n"
      "reply_route { return; }\n"
      "onreply_route[MANAGE_REPLY] { return; }\n"
      "failure_route[MANAGE_FAILURE] { return; }\n"
      "failure_route { return; }\n"
      "branch_route[MANAGE_BRANCH] { return; }\n"
      "onsend_route { return; }\n"
      "event_route[xhttp:request] { exit; }\n"
      "event_route[tm:local-request] { return; }\n"
      "event_route[htable:mod-init] { return; }\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  const Script& s = r.script;
  EXPECT_EQ(s.routes.size(), 13u);
  EXPECT_NE(s.find_route(RouteKind::kRequest), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kRoute, "RELAY"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kRoute, "QUOTED"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kRoute, "7"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kReply), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kOnReply, "MANAGE_REPLY"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kFailure, "MANAGE_FAILURE"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kFailure, ""), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kBranch, "MANAGE_BRANCH"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kOnSend), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kEvent, "xhttp:request"), nullptr);
  EXPECT_NE(s.find_route(RouteKind::kEvent, "tm:local-request"), nullptr);
  const Route* relay = s.find_route(RouteKind::kRoute, "RELAY");
  EXPECT_EQ(r.where(relay->loc), "test.cfg:2:1");
  EXPECT_EQ(r.where(relay->name_loc), "test.cfg:2:7");
  EXPECT_EQ(std::string(route_kind_keyword(RouteKind::kOnReply)), "onreply_route");
}

TEST(TopLevel, DuplicateRoutesNameBothPlaces) {
  auto r = parse(
      "route[A] { exit; }\nroute[A] { exit; }\nrequest_route { exit; }\nroute { exit; }\n"
      "reply_route { return; }\nonreply_route[0] { return; }\n"
      "failure_route[A] { exit; }\n");  // another table: not a duplicate
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:2:7: duplicate route[A] (first defined at test.cfg:1:7)\n"
            "test.cfg:4:1: duplicate route (first defined at test.cfg:3:1)\n"
            "test.cfg:6:15: duplicate onreply_route (first defined at test.cfg:5:1)\n");
}

TEST(TopLevel, RouteHeaderErrors) {
  EXPECT_NE(parse("request_route[X] { exit; }")
                .format_diagnostics()
                .find("'request_route' takes no name"),
            std::string::npos);
  EXPECT_NE(parse("event_route[xhttp] { exit; }")
                .format_diagnostics()
                .find("invalid event route name 'xhttp' (expected module:event)"),
            std::string::npos);
  EXPECT_NE(parse("event_route { exit; }")
                .format_diagnostics()
                .find("expected '[module:event]' after 'event_route'"),
            std::string::npos);
  EXPECT_NE(
      parse("route[A] exit;").format_diagnostics().find("expected '{' to open the route block"),
      std::string::npos);
  EXPECT_NE(parse("route[] { }").format_diagnostics().find("expected a route name"),
            std::string::npos);
}

TEST(TopLevel, EmptyRouteBlocksAreAccepted) {
  auto r = parse("request_route {\n}\nroute[X] { }\n");
  EXPECT_TRUE(r.ok()) << r.format_diagnostics();
}

TEST(TopLevel, IncludeFileInsideARoute) {
  ParseOptions options;
  options.read_file = test::memory_files({{"part.cfg", "xlog(\"included\");\n"}});
  auto r = parse_script_text("request_route {\n include_file \"part.cfg\"\n exit;\n}\n", "main.cfg",
                             options);
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  const Route* route = r.script.find_route(RouteKind::kRequest);
  ASSERT_EQ(route->body.size(), 2u);
  EXPECT_EQ(r.where(route->body[0]->loc), "part.cfg:1:1");
}

}  // namespace
}  // namespace strowger::proxy::script
