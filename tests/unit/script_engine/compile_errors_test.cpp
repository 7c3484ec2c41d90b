// Compile errors: every one with file:line:col, all reported in one run.
#include <gtest/gtest.h>

#include "tests/unit/script_engine/engine_test_util.h"

namespace strowger::proxy::script::engine::test {
namespace {

TEST(CompileErrors, UnknownThingsNamedWithPositions) {
  EXPECT_EQ(errors("request_route {\n  foo_bar(1);\n}\n"),
            "t.cfg:2:3: unknown function foo_bar() (not available in Strowger)\n");
  EXPECT_EQ(errors("request_route {\n  $var(x) = $nope;\n}\n"),
            "t.cfg:2:13: unknown pseudo-variable $nope\n");
  EXPECT_EQ(errors("request_route {\n  $var(x) = $(ru{s.nothing});\n}\n"),
            "t.cfg:2:13: unknown transformation {s.nothing}\n");
  EXPECT_EQ(errors("request_route {\n  route(MISSING);\n}\n"),
            "t.cfg:2:9: route[MISSING] is not defined\n");
  EXPECT_EQ(errors("request_route {\n  t_on_failure(\"NOPE\");\n}\n"),
            "t.cfg:2:16: failure_route[NOPE] is not defined\n");
  EXPECT_EQ(errors("request_route {\n  $si = \"1.2.3.4\";\n}\n"),
            "t.cfg:2:3: cannot assign to read-only pseudo-variable $si\n");
  EXPECT_EQ(errors("request_route {\n  sl_send_reply(\"404\");\n}\n"),
            "t.cfg:2:3: sl_send_reply() takes 2 argument(s), 1 given\n");
  EXPECT_EQ(errors("request_route {\n  sl_send_reply(\"99\", \"x\");\n}\n"),
            "t.cfg:2:17: reply code 99 is not 100..699\n");
  EXPECT_EQ(errors("request_route {\n  if ($ru =~ \"(\") exit;\n}\n").substr(0, 37),
            "t.cfg:2:14: bad regular expression: U");
  EXPECT_EQ(errors("request_route {\n  $var(x) = $(ru{s.substr,a,1});\n}\n"),
            "t.cfg:2:13: {s.substr}: parameter 1 ('a') must be a number\n");
  EXPECT_EQ(errors("request_route {\n  setflag(NOFLAG);\n}\n"),
            "t.cfg:2:11: unknown flag 'NOFLAG'\n");
  EXPECT_EQ(errors("request_route {\n  xlog(\"L_LOUD\", \"x\");\n}\n"),
            "t.cfg:2:8: unknown log level 'L_LOUD'\n");
}

TEST(CompileErrors, SeveralAtOnce) {
  std::string e = errors("request_route {\n  a();\n  b();\n  $var(x) = $zz;\n}\n");
  EXPECT_EQ(e,
            "t.cfg:2:3: unknown function a() (not available in Strowger)\n"
            "t.cfg:3:3: unknown function b() (not available in Strowger)\n"
            "t.cfg:4:13: unknown pseudo-variable $zz\n");
}

TEST(CompileErrors, GlobalsAndModules) {
  EXPECT_EQ(errors("children=4\nlisten=udp:127.0.0.1:5060\nalias=\"x.org\"\n"
                   "request_route { exit; }\n"),
            "");
  EXPECT_EQ(errors("frobnicate=1\nrequest_route { exit; }\n"),
            "t.cfg:1:1: unknown global setting 'frobnicate'\n");
  EXPECT_EQ(errors("loadmodule \"usrloc.so\"\nrequest_route { exit; }\n"),
            "t.cfg:1:1: module usrloc is not available in Strowger\n");
  EXPECT_EQ(errors("loadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timer\", 1000)\n"
                   "modparam(\"tm\", \"bogus\", 1)\nmodparam(\"rr\", \"enable_full_lr\", 1)\n"
                   "request_route { exit; }\n"),
            "t.cfg:3:1: module tm has no parameter 'bogus' in Strowger\n"
            "t.cfg:4:1: modparam for module rr, which is not loaded\n");
  EXPECT_EQ(errors("route[X] { exit; }\n"), "t.cfg: the script has no request_route\n");
}

TEST(CompileErrors, ShvsetInitialValues) {
  auto r = compile_text(
      "loadmodule \"pv.so\"\nmodparam(\"pv\", \"shvset\", \"maint=i:1\")\n"
      "request_route { exit; }\n",
      "t.cfg");
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  EXPECT_EQ(r.program->shared_vars->get("maint").repr(), "1");
}

}  // namespace
}  // namespace strowger::proxy::script::engine::test
