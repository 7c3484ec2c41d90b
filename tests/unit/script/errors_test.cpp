// Error tests: file:line:col of each diagnostic, recovery to report them all, limits, bad input.
#include <gtest/gtest.h>

#include <random>

#include "test_util.h"

namespace strowger::proxy::script {
namespace {

using test::parse;

TEST(Errors, MissingSemicolonAfterCallIsReportedAtTheCallEnd) {
  auto r = parse("request_route {\n\tt_relay()\n\texit;\n}\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:2:11: expected ';' after the function call, found identifier 'exit'\n");
  // The statement after the missing ';' is still parsed.
  const Route* route = r.script.find_route(RouteKind::kRequest);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->body.size(), 2u);
}

TEST(Errors, MissingSemicolonBeforeElse) {
  auto r = parse("request_route {\n  if (method==\"INVITE\") route(X)\n  else exit;\n}\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:2:33: expected ';' after the function call, found identifier 'else'\n");
}

TEST(Errors, ExitBeforeClosingBraceNeedsASemicolon) {
  auto r = parse("request_route { exit }\n");
  EXPECT_EQ(r.format_diagnostics(), "test.cfg:1:21: expected ';' after 'exit', found '}'\n");
}

TEST(Errors, FunctionNameWithoutParentheses) {
  auto r = parse("request_route {\n  t_relay;\n}\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:2:10: expected '(' after the function name 't_relay', found ';'\n");
}

TEST(Errors, BadArgumentList) {
  auto r = parse("request_route {\n  f(1 2);\n  g(\"a\",);\n  exit;\n}\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:2:6: expected ',' or ')' in the arguments of 'f' (opened at test.cfg:2:4), "
            "found number 2\n"
            "test.cfg:3:9: expected an expression, found ')'\n");
}

TEST(Errors, UnterminatedStringStopsAtEndOfFile) {
  auto r = parse("request_route {\n  xlog(\"abc);\n}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics[0].message, "unterminated string (missing closing '\"')");
  EXPECT_EQ(r.where(r.diagnostics[0].loc), "test.cfg:2:8");
}

TEST(Errors, PreprocessorMessages) {
  EXPECT_EQ(parse("#!foo\n").format_diagnostics(),
            "test.cfg:1:1: unknown preprocessor directive '#!foo'\n");
  EXPECT_EQ(parse("route[A] { exit; }\n#!endif\n").format_diagnostics(),
            "test.cfg:2:1: #!endif without #!ifdef\n");
  EXPECT_EQ(parse("#!ifdef WITH_NAT\nroute[A] { exit; }\n").format_diagnostics(),
            "test.cfg:3:1: unterminated #!ifdef (opened at test.cfg:1:1)\n");
}

TEST(Errors, RecoveryReportsEveryBrokenStatementAndRoute) {
  auto r = parse(
      "request_route {\n"
      "  $var(a) = ;\n"  // 2: bad expression
      "  t_relay();\n"
      "  if (uri == ) exit;\n"  // 4: bad condition
      "  exit;\n"
      "}\n"
      "route[A] {\n"
      "  f(;\n"  // 8: bad call
      "  g();\n"
      "}\n"
      "what is this\n"  // 11: garbage at top level
      "route[B] { h(); }\n");
  EXPECT_EQ(r.error_count, 4u) << r.format_diagnostics();
  EXPECT_EQ(r.where(r.diagnostics[0].loc), "test.cfg:2:13");
  EXPECT_EQ(r.where(r.diagnostics[1].loc), "test.cfg:4:14");
  EXPECT_EQ(r.where(r.diagnostics[2].loc), "test.cfg:8:5");
  EXPECT_EQ(r.where(r.diagnostics[3].loc), "test.cfg:11:1");
  const Route* main = r.script.find_route(RouteKind::kRequest);
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->body.size(), 2u);  // t_relay(); exit;
  const Route* a = r.script.find_route(RouteKind::kRoute, "A");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->body.size(), 1u);  // g();
  EXPECT_NE(r.script.find_route(RouteKind::kRoute, "B"), nullptr);
}

TEST(Errors, MissingClosingBraceBeforeTheNextRoute) {
  auto r = parse("route[A] {\n  if (a()) {\n    b();\n}\nroute[B] {\n  c();\n}\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:5:1: missing '}' for the '{' at test.cfg:1:10 before 'route'\n");
  EXPECT_NE(r.script.find_route(RouteKind::kRoute, "A"), nullptr);
  const Route* b = r.script.find_route(RouteKind::kRoute, "B");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->body.size(), 1u);
}

TEST(Errors, MissingClosingBraceAtEndOfFile) {
  auto r = parse("route[A] {\n  b();\n");
  EXPECT_EQ(r.format_diagnostics(), "test.cfg:3:1: missing '}' for the '{' at test.cfg:1:10\n");
}

TEST(Errors, StrayTokensAtTopLevel) {
  auto r = parse("}\nt_relay();\nroute[A] { exit; }\n");
  EXPECT_EQ(r.error_count, 1u) << r.format_diagnostics();  // resumes at the route
  EXPECT_NE(r.format_diagnostics().find("test.cfg:1:1: unexpected '}' at top level"),
            std::string::npos);
  EXPECT_NE(r.script.find_route(RouteKind::kRoute, "A"), nullptr);
}

TEST(Errors, ErrorCapStopsTheFlood) {
  std::string text = "request_route {\n";
  for (int i = 0; i < 200; ++i) text += "  $var(x) = ;\n";
  text += "}\n";
  ParseOptions options;
  options.max_errors = 10;
  auto r = parse(text, options);
  ASSERT_EQ(r.diagnostics.size(), 11u);
  EXPECT_EQ(r.diagnostics.back().message, "too many errors, stopping");
  EXPECT_EQ(r.error_count, 11u);
}

TEST(Errors, DeeplyNestedBlocksHitTheLimit) {
  std::string text = "request_route {\n";
  for (int i = 0; i < 3000; ++i) text += "if (1) {\n";
  text += "exit;\n";
  for (int i = 0; i < 3000; ++i) text += "}\n";
  text += "}\n";
  auto r = parse(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.format_diagnostics().find("nesting too deep"), std::string::npos);
}

TEST(Errors, NestingLimitIsConfigurable) {
  ParseOptions options;
  options.max_nesting = 1000;
  std::string text = "request_route {\n";
  for (int i = 0; i < 200; ++i) text += "{";
  for (int i = 0; i < 200; ++i) text += "}";
  text += "}\n";
  EXPECT_TRUE(parse(text, options).ok());
  EXPECT_FALSE(parse(text).ok());
}

// Any byte string must give diagnostics, never a crash or a hang.
TEST(Errors, RandomInputNeverCrashes) {
  std::mt19937 rng(1234);
  const std::string alphabet = "{}()[];:,.=!<>~&|^+-*/%$@#\"'\\\n \tabcdefgh0123456789xX_";
  const char* words[] = {"route",
                         "if",
                         "else",
                         "switch",
                         "case",
                         "default",
                         "while",
                         "return",
                         "exit",
                         "#!ifdef A\n",
                         "#!endif\n",
                         "#!define A 1\n",
                         "$var(x)",
                         "request_route",
                         "modparam",
                         "listen=",
                         "$(ru{s.len})",
                         "myself",
                         "src_ip",
                         "uri",
                         "==",
                         "event_route[",
                         "include_file \"x\"\n"};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    int n = static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) {
      if (rng() % 4 == 0) {
        text += words[rng() % (sizeof(words) / sizeof(words[0]))];
      } else {
        text += alphabet[rng() % alphabet.size()];
      }
    }
    ParseOptions options;
    options.read_file = test::memory_files({{"x", text}});
    auto r = parse(text, options);
    (void)r.format_diagnostics();
  }
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>(rng() & 0xff);
  auto r = parse(binary);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace strowger::proxy::script
