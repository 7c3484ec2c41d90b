// Expression semantics: Kamailio typing rules, truth rules, control flow.
#include <gtest/gtest.h>

#include "proxy/script/engine/dry_run.h"
#include "tests/unit/script_engine/engine_test_util.h"

namespace strowger::proxy::script::engine::test {
namespace {

TEST(Expr, Arithmetic) {
  EXPECT_EQ(eval("1 + 2 * 3"), "7");
  EXPECT_EQ(eval("(1 + 2) * 3"), "9");
  EXPECT_EQ(eval("7 / 2"), "3");
  EXPECT_EQ(eval("7 % 3"), "1");
  EXPECT_EQ(eval("7 / 0"), "0");  // logged, not a crash
  EXPECT_EQ(eval("-5 + 2"), "-3");
  EXPECT_EQ(eval("6 & 3"), "2");
  EXPECT_EQ(eval("6 | 3"), "7");
  EXPECT_EQ(eval("1 << 4"), "16");
}

TEST(Expr, LeftTypeDecides) {
  EXPECT_EQ(eval("\"a\" + 1"), "\"a1\"");
  EXPECT_EQ(eval("1 + \"2\""), "3");
  EXPECT_EQ(eval("\"10\" == 10"), "1");   // string compare of "10" and "10"
  EXPECT_EQ(eval("10 == \"010\""), "1");  // int compare
  EXPECT_EQ(eval("\"10\" == \"010\""), "-1");
  EXPECT_EQ(eval("\"abc\" < \"abd\""), "1");
  EXPECT_EQ(eval("2 < 10"), "1");
  EXPECT_EQ(eval("\"2\" < \"10\""), "-1");  // strings compare as text
  EXPECT_EQ(eval("5 == \"x\""), "-1");
  EXPECT_EQ(eval("\"x\" eq \"x\""), "1");
  EXPECT_EQ(eval("\"5\" ieq 5"), "1");
}

TEST(Expr, LogicAndNull) {
  EXPECT_EQ(eval("1 && 0"), "-1");
  EXPECT_EQ(eval("0 || 2"), "1");
  EXPECT_EQ(eval("!-1"), "1");
  EXPECT_EQ(eval("!1"), "-1");
  EXPECT_EQ(eval("$var(nope) == $null"), "1");
  EXPECT_EQ(eval("defined $var(nope)"), "-1");
  EXPECT_EQ(eval("defined $ru"), "1");
  EXPECT_EQ(eval("$null"), "$null");
  EXPECT_EQ(eval("strlen(\"abcd\")"), "4");
  EXPECT_EQ(eval("strempty(\"\")"), "1");
  EXPECT_EQ(eval("(int)\"42\""), "42");
  EXPECT_EQ(eval("(str)42"), "\"42\"");
}

TEST(Expr, RegexMatchIsCaseInsensitive) {
  EXPECT_EQ(eval("$rm =~ \"^inv\""), "1");
  EXPECT_EQ(eval("$rm !~ \"^inv\""), "-1");
  EXPECT_EQ(eval("$ru =~ \"@example\\.com$\""), "1");
  EXPECT_EQ(eval("$var(nope) =~ \".*\""), "-1");
}

TEST(Expr, Keywords) {
  EXPECT_EQ(eval("method == \"invite\""), "1");
  EXPECT_EQ(eval("method == INVITE"), "1");
  EXPECT_EQ(eval("uri == myself"), "-1");
  EXPECT_EQ(eval("src_ip == 192.0.2.0/24"), "1");
  EXPECT_EQ(eval("src_ip == 10.0.0.0/255.0.0.0"), "-1");
  EXPECT_EQ(eval("src_ip != 192.0.2.11"), "1");
  EXPECT_EQ(eval("proto == UDP"), "1");
  EXPECT_EQ(eval("proto == WS"), "-1");
  EXPECT_EQ(eval("af == INET"), "1");
  EXPECT_EQ(eval("src_port == 5060"), "1");
  EXPECT_EQ(eval("dst_port >= 5000"), "1");
  EXPECT_EQ(eval("from_uri =~ \"alice\""), "1");
}

TEST(Expr, MyselfUsesLocalAddressAndAliases) {
  const char* msg =
      "OPTIONS sip:127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-2\n"
      "From: <sip:a@sip.example.net>;tag=1\nTo: <sip:b@x>\nCall-ID: c\nCSeq: 1 OPTIONS\n\n";
  EXPECT_EQ(eval("uri == myself", msg), "1");
  EXPECT_EQ(eval("myself == uri", msg), "1");
  EXPECT_EQ(eval("from_uri == myself", msg), "-1");
  auto r = run("if (from_uri == myself) $var(r) = 1; else $var(r) = 2;", msg,
               "alias=\"sip.example.net\"");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["r"].repr(), "1");
}

TEST(Truth, NegativeIsFalseZeroExits) {
  auto r = run("if (-1) $var(a) = 1; else $var(a) = 2; $var(b) = 3;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["a"].repr(), "2");
  // route returning 0 exits the whole script
  r = run("route(Z); $var(after) = 1;", kInvite, "route[Z] { return 0; }");
  ASSERT_EQ(r->error, "");
  EXPECT_TRUE(r->outcome.exited);
  EXPECT_EQ(r->ctx->vars.count("after"), 0u);
  // a route returning -1 is false and the caller goes on
  r = run("if (!route(N)) $var(x) = \"neg\"; $var(after) = 1;", kInvite, "route[N] { return -1; }");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["x"].repr(), "\"neg\"");
  EXPECT_EQ(r->ctx->vars["after"].repr(), "1");
  // a function returning 0 (sanity_check with autodrop) exits too
  r = run("exit; $var(x) = 1;");
  EXPECT_TRUE(r->outcome.exited);
  EXPECT_EQ(r->ctx->vars.count("x"), 0u);
}

TEST(Flow, ReturnValuesAndDrop) {
  auto r = run("$var(v) = route(R); ", kInvite, "route[R] { return 5; }");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["v"].repr(), "5");
  r = run("route(R); $var(after) = $?;", kInvite, "route[R] { $var(x) = 1; }");
  EXPECT_EQ(r->ctx->vars["after"].repr(), "1");
  r = run("drop; $var(x) = 1;");
  EXPECT_TRUE(r->outcome.dropped);
  EXPECT_EQ(r->ctx->vars.count("x"), 0u);
}

TEST(Flow, SwitchFallthroughAndBreak) {
  auto r =
      run("$var(s) = \"\"; switch (2) { case 1: $var(s) = $var(s) + \"a\"; "
          "case 2: $var(s) = $var(s) + \"b\"; case 3: $var(s) = $var(s) + \"c\"; break; "
          "default: $var(s) = $var(s) + \"d\"; } $var(after) = 1;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["s"].repr(), "\"bc\"");
  EXPECT_EQ(r->ctx->vars["after"].repr(), "1");
  r = run("switch ($rm) { case \"BYE\": $var(s) = 1; break; default: $var(s) = 9; }");
  EXPECT_EQ(r->ctx->vars["s"].repr(), "9");
  r = run("switch ($rm) { case /\"^inv\": $var(s) = 1; break; default: $var(s) = 9; }");
  EXPECT_EQ(r->ctx->vars["s"].repr(), "1");
}

TEST(Flow, WhileLoopsAndCap) {
  auto r =
      run("$var(i) = 0; while ($var(i) < 10) { $var(i) = $var(i) + 1; if ($var(i) == 4) break; }");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["i"].repr(), "4");
  r = run("$var(i) = 0; while (1) { $var(i) += 1; } $var(after) = 1;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["i"].repr(), "100");  // Kamailio's max_while_loops
  EXPECT_EQ(r->ctx->vars["after"].repr(), "1");
  EXPECT_NE(r->trace.out.find("runaway while loop"), std::string::npos);
}

TEST(Flow, RecursionIsCapped) {
  auto r = run("route(L); $var(after) = 1;", kInvite, "route[L] { route(L); }");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["after"].repr(), "1");
  EXPECT_NE(r->trace.out.find("too many nested route calls"), std::string::npos);
}

// Runs request_route of script (no trace: a million trace lines would dominate the test).
std::unique_ptr<Run> run_untraced(const std::string& script, std::uint32_t max_run_steps) {
  auto r = std::make_unique<Run>();
  CompileOptions options;
  options.max_run_steps = max_run_steps;
  auto compiled = compile_text(script, "t.cfg", options);
  if (!compiled.ok()) {
    r->error = compiled.format_diagnostics();
    return r;
  }
  r->program = compiled.program;
  auto msg = sip::Message::parse(normalize_message_text(kInvite));
  if (!msg.ok()) {
    r->error = "message: " + msg.error().message;
    return r;
  }
  r->host = std::make_unique<DryRunHost>(std::move(msg.value()), Peer{"udp", "192.0.2.10", 5060},
                                         Peer{"udp", "127.0.0.1", 5060}, r->program->aliases);
  r->ctx = std::make_unique<ExecutionContext>(*r->program, *r->host);
  r->outcome = run_route(*r->ctx, r->program->request_route);
  return r;
}

// Found by script_compile_fuzz: each route call and loop was bounded, but a route calling
// itself twice is 2^100 calls and nested loops multiply, so one message held a worker forever.
TEST(Flow, WholeRunHasAStepBudget) {
  const std::string twice =
      "route[A] { $var(n) = $var(n) + 1; route(A); route(A); }\n"
      "request_route { route(A); $var(after) = 1; }\n";
  auto r = run_untraced(twice, 1'000'000);  // the default budget
  ASSERT_EQ(r->error, "");
  EXPECT_TRUE(r->outcome.exited);
  EXPECT_EQ(r->ctx->vars["n"].repr(), "999999");  // request_route is the first step
  EXPECT_EQ(r->ctx->vars.count("after"), 0u);

  const std::string nested =
      "max_while_loops=1000000\n"
      "request_route { while (1) { while (1) { $var(n) += 1; } } $var(after) = 1; }\n";
  r = run_untraced(nested, 1000);
  ASSERT_EQ(r->error, "");
  EXPECT_TRUE(r->outcome.exited);
  EXPECT_EQ(r->ctx->vars["n"].repr(), "998");  // request_route, 1 outer, 998 inner
  EXPECT_EQ(r->ctx->vars.count("after"), 0u);

  // The budget is per run: a second run of the same context starts from zero.
  r->outcome = run_route(*r->ctx, r->program->request_route);
  EXPECT_EQ(r->ctx->vars["n"].repr(), "1996");
}

// A loop doubling a string took all memory (std::bad_alloc ends the process): strings the
// script builds stop at kMaxBuiltString, the expression giving $null and an error log.
TEST(Flow, BuiltStringsAreCapped) {
  for (const char* body : {"$var(x) = $var(x) + $var(x);", "$var(x) += $var(x);"}) {
    auto r = run(std::string("$var(x) = \"ab\"; $var(n) = 0; while ($var(n) < 40) { ") + body +
                 " $var(n) += 1; if ($var(x) == $null) break; }");
    ASSERT_EQ(r->error, "") << body;
    EXPECT_EQ(r->ctx->vars["n"].repr(), "15") << body;  // 2 << 15 bytes is the first too long
    EXPECT_NE(r->trace.out.find("string longer than 65535 bytes built by '+"), std::string::npos)
        << body;
  }
  // Format strings (function arguments) are bounded the same way.
  auto r =
      run("$var(x) = \"0123456789\"; $var(n) = 0;"
          "while ($var(n) < 12) { $var(x) = $var(x) + $var(x); $var(n) += 1; }"
          "xlog(\"$var(x)$var(x)\");");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["x"].s.size(), 40960u);
  EXPECT_NE(r->trace.out.find("string longer than 65535 bytes built by a format"),
            std::string::npos);
  EXPECT_EQ(eval("\"ab\" + \"cd\""), "\"abcd\"");
}

}  // namespace
}  // namespace strowger::proxy::script::engine::test
