// sipctl's argument parsing and text rendering, without a daemon.
#include <gtest/gtest.h>

#include <map>

#include "tools/sipctl/cli.h"
#include "tools/sipctl/render.h"

namespace strowger::tools::sipctl {
namespace {

CommandLine parse(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env = {}) {
  return parse_command_line(args, [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(SipctlArguments, Values) {
  EXPECT_EQ(argument_value("42"), Json(42));
  EXPECT_EQ(argument_value("-7"), Json(-7));
  EXPECT_EQ(argument_value("1.5"), Json(1.5));
  EXPECT_EQ(argument_value("2e3"), Json(2000.0));
  EXPECT_EQ(argument_value("true"), Json(true));
  EXPECT_EQ(argument_value("false"), Json(false));
  EXPECT_EQ(argument_value("0123"), Json("0123"));  // a phone number, not octal
  EXPECT_EQ(argument_value("+33123"), Json("+33123"));
  EXPECT_EQ(argument_value("99999999999999999999999"), Json("99999999999999999999999"));
  EXPECT_EQ(argument_value("18446744073709551615"), Json(18446744073709551615ull));
  EXPECT_EQ(argument_value("1e999"), Json("1e999"));
  EXPECT_EQ(argument_value("1-2"), Json("1-2"));
  EXPECT_EQ(argument_value("-"), Json("-"));
  EXPECT_EQ(argument_value(""), Json(""));
  EXPECT_EQ(argument_value("null"), Json("null"));
  EXPECT_EQ(argument_value(" 5"), Json(" 5"));
}

TEST(SipctlArguments, Params) {
  Json params;
  std::string error;
  ASSERT_TRUE(parse_params({}, &params, &error));
  EXPECT_TRUE(params.is_null());
  ASSERT_TRUE(parse_params({"alice", "5"}, &params, &error));
  EXPECT_EQ(params, Json::parse(R"(["alice",5])"));
  ASSERT_TRUE(parse_params({"aor=sip:a@b", "n=3", "raw:=\"7\"", "x.y-z=1"}, &params, &error));
  EXPECT_EQ(params, Json::parse(R"({"aor":"sip:a@b","n":3,"raw":"7","x.y-z":1})"));
  // Not keys: these are positional values that happen to hold '='.
  ASSERT_TRUE(parse_params({"sip:a@b;lr=on", "=x", "1a=2"}, &params, &error));
  EXPECT_EQ(params, Json::parse(R"(["sip:a@b;lr=on","=x","1a=2"])"));
  ASSERT_TRUE(parse_params({"empty="}, &params, &error));
  EXPECT_EQ(params, Json::parse(R"({"empty":""})"));

  EXPECT_FALSE(parse_params({"a=1", "b"}, &params, &error));
  EXPECT_NE(error.find("mix"), std::string::npos);
  EXPECT_FALSE(parse_params({"a=1", "a:=2"}, &params, &error));
  EXPECT_NE(error.find("twice"), std::string::npos);
  EXPECT_FALSE(parse_params({"a:=nope"}, &params, &error));
}

TEST(SipctlCommandLine, SocketSelection) {
  auto c = parse({"core.version"});
  ASSERT_EQ(c.kind, CommandLine::Kind::kRun);
  EXPECT_EQ(c.invocation.socket_path, "/run/strowger/sipproxy.sock");
  EXPECT_EQ(c.invocation.target->daemon, "sipproxy");
  EXPECT_EQ(c.invocation.method, "core.version");
  EXPECT_TRUE(c.invocation.params.is_null());
  EXPECT_FALSE(c.invocation.json_output);

  c = parse({"core.version"}, {{"STROWGER_SIPPROXY_SOCKET", "/tmp/p.sock"}});
  EXPECT_EQ(c.invocation.socket_path, "/tmp/p.sock");
  c = parse({"core.version"}, {{"STROWGER_SIPPROXY_SOCKET", ""}});
  EXPECT_EQ(c.invocation.socket_path, "/run/strowger/sipproxy.sock");
  c = parse({"-s", "/x.sock", "core.version"}, {{"STROWGER_SIPPROXY_SOCKET", "/tmp/p.sock"}});
  EXPECT_EQ(c.invocation.socket_path, "/x.sock");
  c = parse({"-s/y.sock", "core.version"});
  EXPECT_EQ(c.invocation.socket_path, "/y.sock");
  c = parse({"--socket", "/z.sock", "core.version"});
  EXPECT_EQ(c.invocation.socket_path, "/z.sock");

  c = parse({"relay", "--json", "core.stats"}, {{"STROWGER_SIPPROXY_SOCKET", "/tmp/p.sock"}});
  ASSERT_EQ(c.kind, CommandLine::Kind::kRun);
  EXPECT_EQ(c.invocation.target->daemon, "rtprelay");
  EXPECT_EQ(c.invocation.socket_path, "/run/strowger/rtprelay.sock");
  EXPECT_EQ(c.invocation.method, "core.stats");
  EXPECT_TRUE(c.invocation.json_output);
  c = parse({"relay", "core.stats"}, {{"STROWGER_RTPRELAY_SOCKET", "/tmp/r.sock"}});
  EXPECT_EQ(c.invocation.socket_path, "/tmp/r.sock");
}

TEST(SipctlCommandLine, OptionsStopAtTheCommand) {
  auto c = parse({"-t", "2.5", "echo", "-s", "--json", "relay"});
  ASSERT_EQ(c.kind, CommandLine::Kind::kRun);
  EXPECT_EQ(c.invocation.timeout_ms, 2500);
  EXPECT_FALSE(c.invocation.json_output);
  EXPECT_EQ(c.invocation.params, Json::parse(R"(["-s","--json","relay"])"));
  c = parse({"--", "-odd-name"});
  ASSERT_EQ(c.kind, CommandLine::Kind::kRun);
  EXPECT_EQ(c.invocation.method, "-odd-name");
}

TEST(SipctlCommandLine, HelpAndUsageErrors) {
  EXPECT_EQ(parse({"--help"}).kind, CommandLine::Kind::kHelp);
  EXPECT_EQ(parse({"-h", "x"}).kind, CommandLine::Kind::kHelp);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"-s"},
                                             {"-s", ""},
                                             {"-x", "a"},
                                             {"relay"},
                                             {"-t", "0", "a"},
                                             {"-t", "-1", "a"},
                                             {"--timeout=abc", "a"},
                                             {""},
                                             {"a", "k=1", "v"}}) {
    auto c = parse(args);
    EXPECT_EQ(c.kind, CommandLine::Kind::kUsageError) << ::testing::PrintToString(args);
    EXPECT_FALSE(c.error.empty());
  }
}

TEST(SipctlRender, Text) {
  EXPECT_EQ(render_text(Json()), "");
  EXPECT_EQ(render_text(Json("hello")), "hello\n");
  EXPECT_EQ(render_text(Json(42)), "42\n");
  EXPECT_EQ(render_text(Json::object()), "{}\n");
  EXPECT_EQ(render_text(Json::parse(R"({"a":1,"b":"x","c":null,"d":[],"e":{},"f":true})")),
            "a: 1\nb: x\nc: null\nd: []\ne: {}\nf: true\n");
  EXPECT_EQ(render_text(Json::parse(R"({"stats":{"tx":{"in":1,"out":2}},"list":[1,[2,3]]})")),
            "list:\n"
            "  - 1\n"
            "  - - 2\n"
            "    - 3\n"
            "stats:\n"
            "  tx:\n"
            "    in: 1\n"
            "    out: 2\n");
  EXPECT_EQ(render_text(Json::parse(R"([{"a":1,"b":2},"x"])")), "- a: 1\n  b: 2\n- x\n");
}

TEST(SipctlRender, EscapesControlCharactersAndIndentsLines) {
  EXPECT_EQ(render_text(Json::parse(R"({"ua":"evil\u001b[2Jphone\u007f","k\ney":1})")),
            "k\\x0aey: 1\nua: evil\\x1b[2Jphone\\x7f\n");
  EXPECT_EQ(render_text(Json::parse(R"({"msg":"line1\nline2","t":"a\tb"})")),
            "msg: line1\n  line2\nt: a\tb\n");
}

TEST(SipctlRender, DeepValuesDoNotRecurseForever) {
  Json deep = Json::array();
  Json* at = &deep;
  for (int i = 0; i < 100; ++i) {
    at->push_back(Json::array());
    at = &(*at)[0];
  }
  std::string text = render_text(deep);
  EXPECT_NE(text.find("[[["), std::string::npos);
}

}  // namespace
}  // namespace strowger::tools::sipctl
