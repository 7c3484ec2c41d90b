// Statement tests: every statement kind, Kamailio's semicolon rules, calls and their arguments.
#include <gtest/gtest.h>

#include "test_util.h"

namespace strowger::proxy::script {
namespace {

using test::statements;

TEST(Statements, CallsAndSemicolons) {
  EXPECT_EQ(statements("t_relay();"), "(call t_relay)");
  EXPECT_EQ(statements("sl_send_reply(\"404\", \"Not here\");"),
            "(call sl_send_reply \"404\" \"Not here\")");
  EXPECT_EQ(statements("sl_send_reply(404, \"x\"); xlog(\"L_INFO\", \"$ru\\n\");"),
            "(call sl_send_reply 404 \"x\") (call xlog \"L_INFO\" \"$ru\\n\")");
  EXPECT_EQ(statements("force_rport; set_reply_no_connect(); ;;"),
            "(call force_rport) (call set_reply_no_connect)");
}

TEST(Statements, RouteCalls) {
  EXPECT_EQ(statements("route(RELAY); route(\"RELAY\"); route($var(r)); route(2);"),
            "(call route (ident RELAY)) (call route \"RELAY\") (call route $var(r)) "
            "(call route (ident 2))");
}

TEST(Statements, CoreCommandsTakeNamesAndSockets) {
  EXPECT_EQ(statements("forward(10.0.0.1, 5060);"), "(call forward (ip 10.0.0.1) 5060)");
  EXPECT_EQ(statements("forward(sip.example.com);"), "(call forward (ident sip.example.com))");
  EXPECT_EQ(statements("forward(uri:host, uri:port);"),
            "(call forward (ident uri:host) (ident uri:port))");
  EXPECT_EQ(statements("force_send_socket(udp:10.0.0.1:5060);"),
            "(call force_send_socket (ident udp:10.0.0.1:5060))");
  EXPECT_EQ(statements("force_send_socket(tls:[::1]:5061);"),
            "(call force_send_socket (ident tls:[::1]:5061))");
  EXPECT_EQ(statements("setflag(FLT_ACC); isflagset(5);"),
            "(call setflag (ident FLT_ACC)) (call isflagset 5)");
}

TEST(Statements, ModuleFunctionsDoNotTakeBareNames) {
  std::string out = statements("t_on_failure(MANAGE_FAILURE);");
  EXPECT_NE(out.find("test.cfg:2:14: 'MANAGE_FAILURE' is not a value"), std::string::npos) << out;
  EXPECT_NE(statements("save(udp:1.2.3.4);").find("'udp' is not a value"), std::string::npos);
}

TEST(Statements, DefinesInArguments) {
  ParseOptions options;
  options.defines = {{"FLT_ACC", "1"}};
  EXPECT_EQ(statements("setflag(FLT_ACC);", options), "(call setflag 1)");
}

TEST(Statements, Assignments) {
  EXPECT_EQ(statements("$var(x) = 1;"), "(= $var(x) 1)");
  EXPECT_EQ(statements("$avp(x) = $null;"), "(= $avp(x) $null)");
  EXPECT_EQ(statements("$ru = \"sip:\" + $rU + \"@\" + $var(h);"),
            "(= $ru (+ (+ (+ \"sip:\" $rU) \"@\") $var(h)))");
  EXPECT_EQ(statements("$var(n) += 2;"), "(+= $var(n) 2)");
  EXPECT_EQ(statements("$var(b) = uri == myself;"), "(= $var(b) (== (field uri) myself))");
  EXPECT_EQ(statements("$var(ok) = t_relay();"), "(= $var(ok) (call t_relay))");
}

TEST(Statements, AssignmentErrors) {
  EXPECT_NE(statements("$(ru{uri.user}) = \"x\";").find("it has transformations"),
            std::string::npos);
  EXPECT_NE(statements("$var(x);").find("expected '=' after $var(x)"), std::string::npos);
  EXPECT_NE(statements("foo = 1;").find("only pseudo-variables"), std::string::npos);
}

TEST(Statements, IfElse) {
  EXPECT_EQ(statements("if (has_totag()) exit;"), "(if (call has_totag) (block (exit)))");
  EXPECT_EQ(statements("if ($rU == $null) { sl_send_reply(\"484\", \"x\"); exit; }"),
            "(if (== $rU $null) (block (call sl_send_reply \"484\" \"x\") (exit)))");
  EXPECT_EQ(statements("if (a()) b(); else c();"),
            "(if (call a) (block (call b)) (block (call c)))");
  EXPECT_EQ(
      statements("if (a()) { b(); } else if (c()) { d(); } else { e(); }"),
      "(if (call a) (block (call b)) (block (if (call c) (block (call d)) (block (call e)))))");
  EXPECT_EQ(statements("if (a()) ;"), "(if (call a) (block))");
  // Kamailio's if takes any expression; the parentheses are just grouping.
  EXPECT_EQ(statements("if is_method(\"INVITE\") { exit; }"),
            "(if (call is_method \"INVITE\") (block (exit)))");
}

TEST(Statements, DanglingElseBindsToTheInnerIf) {
  EXPECT_EQ(statements("if (a()) if (b()) c(); else d();"),
            "(if (call a) (block (if (call b) (block (call c)) (block (call d)))))");
}

TEST(Statements, Switch) {
  EXPECT_EQ(
      statements("switch ($var(rc)) {\n"
                 "  case -1:\n  case -3:\n    send_reply(\"404\", \"Not Found\");\n    exit;\n"
                 "  case -2:\n    send_reply(\"405\", \"Method Not Allowed\");\n    break;\n"
                 "  default:\n    exit;\n}"),
      "(switch $var(rc) (case -1) (case -3 (call send_reply \"404\" \"Not Found\") (exit)) "
      "(case -2 (call send_reply \"405\" \"Method Not Allowed\") (break)) (default (exit)))");
  EXPECT_EQ(
      statements("switch ($rm) { case \"INVITE\": route(I); break; case /\"^SUB\": exit; }"),
      "(switch $rm (case \"INVITE\" (call route (ident I)) (break)) (case/ \"^SUB\" (exit)))");
  EXPECT_EQ(statements("switch ($x) { }"), "(switch $x)");
}

TEST(Statements, SwitchErrors) {
  std::string two_defaults = statements("switch ($x) { default: exit; default: drop; }");
  EXPECT_NE(two_defaults.find("test.cfg:2:30: second 'default' in switch (the first is at "
                              "test.cfg:2:15)"),
            std::string::npos)
      << two_defaults;
  EXPECT_NE(statements("switch ($x) { case 1 exit; }").find("expected ':' after the case label"),
            std::string::npos);
  EXPECT_NE(statements("switch ($x) { exit; }").find("expected 'case' or 'default'"),
            std::string::npos);
  EXPECT_NE(statements("case 1: exit;").find("'case' outside of a switch"), std::string::npos);
}

TEST(Statements, While) {
  EXPECT_EQ(statements("$var(i) = 0; while ($var(i) < 10) { $var(i) = $var(i) + 1; }"),
            "(= $var(i) 0) (while (< $var(i) 10) (block (= $var(i) (+ $var(i) 1))))");
}

TEST(Statements, ReturnExitDropBreak) {
  EXPECT_EQ(statements("return;"), "(return)");
  EXPECT_EQ(statements("return 1;"), "(return 1)");
  EXPECT_EQ(statements("return -1;"), "(return -1)");
  EXPECT_EQ(statements("return(-2);"), "(return -2)");
  EXPECT_EQ(statements("return();"), "(return)");
  EXPECT_EQ(statements("return $var(rc);"), "(return $var(rc))");
  EXPECT_EQ(statements("exit;"), "(exit)");
  EXPECT_EQ(statements("exit();"), "(exit)");
  EXPECT_EQ(statements("drop;"), "(drop)");
  EXPECT_EQ(statements("drop();"), "(drop)");
  EXPECT_EQ(statements("while(1) { break; }"), "(while 1 (block (break)))");
}

TEST(Statements, NestedBlocks) {
  EXPECT_EQ(statements("{ a(); { b(); } }"), "(block (call a) (block (call b)))");
}

TEST(Statements, StatementPositions) {
  auto r = test::parse("request_route {\n\tif (a()) {\n\t\t$var(x) = 1;\n\t}\n}\n");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  const Route* route = r.script.find_route(RouteKind::kRequest);
  ASSERT_NE(route, nullptr);
  const Stmt& s = *route->body[0];
  EXPECT_EQ(r.where(s.loc), "test.cfg:2:2");
  EXPECT_EQ(r.where(s.expr->loc), "test.cfg:2:6");
  EXPECT_EQ(r.where(s.body[0]->loc), "test.cfg:3:3");
  EXPECT_EQ(r.where(s.body[0]->target->loc), "test.cfg:3:3");
  EXPECT_EQ(r.where(s.body[0]->expr->loc), "test.cfg:3:13");
}

}  // namespace
}  // namespace strowger::proxy::script
