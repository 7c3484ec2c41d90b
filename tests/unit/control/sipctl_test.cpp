// The built sipctl binary against a ControlServer: output formats, sockets, exit codes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/control_server.h"
#include "tests/unit/control/test_support.h"

#ifndef SIPCTL_BINARY
#error "SIPCTL_BINARY must name the built sipctl"
#endif

namespace strowger::common {
namespace {

using test::ProcessResult;
using test::TempDir;

class SipctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ControlServer>(ControlServerOptions{.socket_path = socket()});
    server_->add_method("core.version", [](const Json&) {
      return Json{{"name", "sipproxy"}, {"version", "0.1.0"}};
    });
    server_->add_method("echo", [](const Json& params) { return params; });
    server_->add_method("nothing", [](const Json&) { return Json(); });
    server_->add_method("ul.show", [](const Json&) {
      return Json::parse(R"({"aor":"sip:alice@example.org","contacts":[
          {"uri":"sip:alice@192.0.2.1:5060","expires":300},
          {"uri":"sip:alice@192.0.2.2:5060","expires":60}]})");
    });
    server_->add_method("fail",
                        [](const Json&) -> Json { throw ControlError(-32001, "no such AOR"); });
    server_->add_method("slow", [](const Json&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      return Json(true);
    });
    auto err = server_->start();
    ASSERT_FALSE(err.has_value()) << *err;
  }

  std::string socket() const { return dir_.file("sipproxy.sock"); }

  ProcessResult sipctl(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {}) {
    return test::run_process(SIPCTL_BINARY, args, env);
  }

  TempDir dir_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(SipctlTest, PrintsTextByDefault) {
  auto r = sipctl({"-s", socket(), "core.version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "name: sipproxy\nversion: 0.1.0\n");
  EXPECT_EQ(r.err, "");

  r = sipctl({"-s", socket(), "ul.show"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "aor: sip:alice@example.org\n"
            "contacts:\n"
            "  - expires: 300\n"
            "    uri: sip:alice@192.0.2.1:5060\n"
            "  - expires: 60\n"
            "    uri: sip:alice@192.0.2.2:5060\n");

  r = sipctl({"-s", socket(), "nothing"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
}

TEST_F(SipctlTest, PrintsJsonOnRequest) {
  auto r = sipctl({"--json", "-s", socket(), "ul.show"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["contacts"][1]["expires"], 60);
  r = sipctl({"--socket=" + socket(), "-j", "nothing"});
  EXPECT_EQ(r.out, "null\n");
}

TEST_F(SipctlTest, ArgumentsBecomeParams) {
  auto r = sipctl({"-s", socket(), "--json", "echo", "aor=sip:bob@example.org", "expires=60",
                   "ext=0123", "force=true", "list:=[1,2]"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json::parse(R"({"aor":"sip:bob@example.org","expires":60,
                                     "ext":"0123","force":true,"list":[1,2]})"));
  r = sipctl({"-s", socket(), "echo", "sip:carol@example.org;transport=tcp", "-5", "two words"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "- sip:carol@example.org;transport=tcp\n- -5\n- two words\n");
}

TEST_F(SipctlTest, ServerErrorsExitOne) {
  auto r = sipctl({"-s", socket(), "fail"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error -32001: no such AOR\n");
  EXPECT_EQ(r.out, "");
  r = sipctl({"-s", socket(), "no.such.command"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error -32601: unknown method 'no.such.command'\n");
}

TEST_F(SipctlTest, CannotConnectExitsThree) {
  const std::string missing = dir_.file("missing.sock");
  auto r = sipctl({"-s", missing, "core.version"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "sipctl: cannot connect to " + missing +
                       ": No such file or directory (is sipproxy running?)\n");
  r = sipctl({"relay", "core.version"}, {{"STROWGER_RTPRELAY_SOCKET", missing}});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("(is rtprelay running?)"), std::string::npos) << r.err;
}

TEST_F(SipctlTest, DefaultSocketPath) {
  if (std::filesystem::exists("/run/strowger/sipproxy.sock")) {
    GTEST_SKIP() << "a real sipproxy socket exists on this machine";
  }
  auto r = sipctl({"core.version"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("cannot connect to /run/strowger/sipproxy.sock: "), std::string::npos)
      << r.err;
}

TEST_F(SipctlTest, SocketFromEnvironmentAndOptionWins) {
  const std::string missing = dir_.file("missing.sock");
  auto r = sipctl({"core.version"}, {{"STROWGER_SIPPROXY_SOCKET", socket()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = sipctl({"-s", socket(), "core.version"}, {{"STROWGER_SIPPROXY_SOCKET", missing}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = sipctl({"-s", missing, "core.version"}, {{"STROWGER_SIPPROXY_SOCKET", socket()}});
  EXPECT_EQ(r.exit_code, 3);
  // The relay has its own variable: the proxy's does not leak into it.
  r = sipctl({"relay", "core.version"},
             {{"STROWGER_RTPRELAY_SOCKET", socket()}, {"STROWGER_SIPPROXY_SOCKET", missing}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "name: sipproxy\nversion: 0.1.0\n");
}

TEST_F(SipctlTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"-s"},
           {"--bogus", "core.version"},
           {"relay"},
           {"-t", "soon", "core.version"},
           {"-s", socket(), "echo", "a=1", "positional"},
           {"-s", socket(), "echo", "a=1", "a=2"},
           {"-s", socket(), "echo", "a:={bad"},
       }) {
    auto r = sipctl(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_NE(r.err.find("sipctl: "), std::string::npos);
  }
}

TEST_F(SipctlTest, HelpListsCommonCommands) {
  auto r = sipctl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s :
       {"core.version", "core.uptime", "core.stats", "rpc.methods", "/run/strowger/sipproxy.sock",
        "/run/strowger/rtprelay.sock", "STROWGER_SIPPROXY_SOCKET", "sipctl relay"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

TEST_F(SipctlTest, NoAnswerInTimeExitsFour) {
  auto r = sipctl({"-s", socket(), "-t", "0.2", "slow"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("no answer in time"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strowger::common
