// Unit tests for load_config: the shipped config loads, every error names file:line, and sipproxy
// exits 2 on one.
#include "proxy/config/config.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/yaml_config.h"

namespace strowger::proxy::config {
namespace {

namespace fs = std::filesystem;

// A valid file the error tests start from; line numbers below count from its first line.
constexpr const char* kListen =
    "listen:\n"                 // 1
    "  - proto: udp\n"          // 2
    "    address: 127.0.0.1\n"  // 3
    "    port: 5060\n";         // 4

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "strowger-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& text, const std::string& name = "sipproxy.yaml") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The ConfigError text for `path`, or "" when it loads.
  static std::string load_error(const std::string& path) {
    try {
      load_config(path);
    } catch (const common::ConfigError& e) {
      return e.what();
    }
    return "";
  }

  // The error must start with "path:line: " and mention `fragment`.
  void expect_error(const std::string& text, int line, const std::string& fragment) {
    const std::string path = write(text);
    const std::string err = load_error(path);
    const std::string prefix = path + ":" + std::to_string(line) + ": ";
    EXPECT_EQ(err.substr(0, prefix.size()), prefix) << "error: " << err;
    EXPECT_NE(err.find(fragment), std::string::npos) << "error: " << err;
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DeployedConfigLoads) {
  const ProxyConfig cfg = load_config(DEPLOY_CONFIG);
  EXPECT_EQ(cfg.file, DEPLOY_CONFIG);
  // UDP/TCP 5060, TLS 5061, WS 8080, WSS 8443, all on loopback (secure by default).
  ASSERT_EQ(cfg.listen.size(), 5u);
  const std::pair<transport::Protocol, int> want[] = {{transport::Protocol::kUdp, 5060},
                                                      {transport::Protocol::kTcp, 5060},
                                                      {transport::Protocol::kTls, 5061},
                                                      {transport::Protocol::kWs, 8080},
                                                      {transport::Protocol::kWss, 8443}};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(cfg.listen[i].proto, want[i].first);
    EXPECT_EQ(cfg.listen[i].port, want[i].second);
    EXPECT_EQ(cfg.listen[i].address, "127.0.0.1");
  }
  EXPECT_EQ(cfg.timers.t1_ms, 500);
  EXPECT_EQ(cfg.timers.timer_c_ms, 180000);
  EXPECT_EQ(cfg.max_message_size, 65535u);
  EXPECT_TRUE(cfg.record_route);
  // The deployed proxy runs the default routing script, found next to the YAML's folder.
  EXPECT_NE(cfg.script.file.find("routing-scripts/default.cfg"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(cfg.script.file)) << cfg.script.file;
}

TEST_F(ConfigTest, ScriptRelativeToTheYamlWithDefines) {
  const std::string path = write(std::string(kListen) +
                                 "script:\n"
                                 "  file: routing.cfg\n"
                                 "  defines: [WITH_NAT, \"WS_PORT=8080\"]\n");
  const ProxyConfig cfg = load_config(path);
  ASSERT_EQ(cfg.listen.size(), 1u);
  EXPECT_EQ(cfg.listen[0].line, 2);
  const std::string dir = path.substr(0, path.rfind('/') + 1);
  EXPECT_EQ(cfg.script.file, dir + "routing.cfg");
  EXPECT_EQ(cfg.script.line, 6);
  ASSERT_EQ(cfg.script.defines.size(), 2u);
  EXPECT_EQ(cfg.script.defines[0], (std::pair<std::string, std::string>{"WITH_NAT", ""}));
  EXPECT_EQ(cfg.script.defines[1], (std::pair<std::string, std::string>{"WS_PORT", "8080"}));
}

TEST_F(ConfigTest, ScriptErrors) {
  expect_error(std::string(kListen) + "script:\n  defines: [A]\n", 6, "script needs 'file'");
  expect_error(std::string(kListen) + "script:\n  file: a.cfg\n  defines: A\n", 7,
               "defines must be a list");
  expect_error(std::string(kListen) + "script:\n  file: a.cfg\n  fle: b\n", 7,
               "unknown setting 'fle' in script");
}

TEST_F(ConfigTest, UnknownTopLevelKey) {
  expect_error(std::string(kListen) + "workers: 2\nroutez: []\n", 6,
               "unknown setting 'routez' in the top level");
}

TEST_F(ConfigTest, UnknownKeyInListen) {
  expect_error(std::string(kListen) + "    adress: 127.0.0.1\n", 5,
               "unknown setting 'adress' in listen");
}

TEST_F(ConfigTest, BadProto) {
  expect_error("listen:\n  - address: 127.0.0.1\n    proto: sctp\n    port: 5060\n", 3,
               "unsupported proto 'sctp'");
  expect_error("listen:\n  - address: 127.0.0.1\n    proto: quic\n", 3,
               "unsupported proto 'quic' (udp, tcp, tls, ws or wss)");
}

TEST_F(ConfigTest, SecureAndWebSocketListeners) {
  const ProxyConfig cfg = load_config(write(
      "listen:\n  - {proto: tls, address: 127.0.0.1, port: 5061}\n"
      "  - {proto: ws, address: 127.0.0.1, port: 8080}\n"
      "  - {proto: wss, address: 127.0.0.1, port: 8443}\n"
      "tls:\n  certificate: x.pem\n"));
  ASSERT_EQ(cfg.listen.size(), 3u);
  EXPECT_EQ(cfg.listen[0].proto, transport::Protocol::kTls);
  EXPECT_EQ(cfg.listen[1].proto, transport::Protocol::kWs);
  EXPECT_EQ(cfg.listen[2].proto, transport::Protocol::kWss);
}

TEST_F(ConfigTest, BadAddress) {
  expect_error("listen:\n  - proto: udp\n    port: 5060\n    address: 300.1.2.3\n", 4,
               "address '300.1.2.3' is not an IPv4 or IPv6 address");
  expect_error("listen:\n  - proto: tcp\n\n    address: localhost\n", 4,
               "'localhost' is not an IPv4");
}

TEST_F(ConfigTest, PortOutOfRange) {
  expect_error("listen:\n  - proto: udp\n    address: 127.0.0.1\n    port: 65536\n", 4,
               "port must be between 1 and 65535");
  expect_error("listen:\n  - proto: udp\n    port: 0\n    address: 127.0.0.1\n", 3,
               "port must be between");
  expect_error("listen:\n  - proto: udp\n    address: 127.0.0.1\n    port: http\n", 4,
               "port must be a number");
}

TEST_F(ConfigTest, DuplicateListen) {
  expect_error(std::string(kListen) + "  - proto: tcp\n    address: 127.0.0.1\n    port: 5060\n" +
                   "  - proto: udp\n    address: 127.0.0.1\n    port: 5060\n",
               8, "duplicate listen udp 127.0.0.1:5060");
}

TEST_F(ConfigTest, RepeatedKeyIsAnError) {
  // yaml-cpp would keep the first port; the second (a typo) must not be silently ignored.
  expect_error(std::string(kListen) + "    port: 5070\n", 5, "'port' is set twice");
}

TEST_F(ConfigTest, BadLogLevel) {
  expect_error(std::string(kListen) + "log:\n  format: text\n  level: loud\n", 7,
               "log level must be");
}

TEST_F(ConfigTest, T2SmallerThanT1) {
  // The message points at the t2_ms line.
  expect_error(std::string(kListen) + "sip:\n  t1_ms: 500\n  t2_ms: 400\n", 7,
               "t2_ms must not be smaller than t1_ms");
}

TEST_F(ConfigTest, RoutesMovedToTheScript) {
  expect_error(std::string(kListen) + "routes:\n  - user: a\n    targets: [sip:127.0.0.1:5071]\n",
               6, "routing belongs to the routing script");
}

TEST_F(ConfigTest, InvalidYamlSyntax) {
  expect_error(std::string(kListen) + "log:\n  level: [info\n", 7, "");
  expect_error(std::string(kListen) + "workers: 2\n\"unterminated: 1\n", 6, "");
}

TEST_F(ConfigTest, MissingFile) {
  const std::string path = (dir_ / "nope.yaml").string();
  EXPECT_EQ(load_error(path), path + ":0: cannot read the file");
}

TEST_F(ConfigTest, EmptyFile) {
  expect_error("", 1, "the file is empty");
  expect_error("# only a comment\n\n", 1, "the file is empty");
}

// Runs sipproxy with `args`; returns its exit code and fills stdout/stderr. A config that wrongly
// loads would leave the proxy running, so it is killed after 10 s (exit 137) instead of hanging.
int run_sipproxy(const std::string& args, const fs::path& dir, std::string* out, std::string* err) {
  const fs::path out_path = dir / "stdout.txt", err_path = dir / "stderr.txt";
  const std::string cmd = std::string("timeout -s KILL 10 '") + SIPPROXY_BIN + "' " + args + " >'" +
                          out_path.string() + "' 2>'" + err_path.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  *out = slurp(out_path);
  *err = slurp(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(ConfigTest, BinaryExitsTwoOnBadConfig) {
  const std::string path =
      write("listen:\n  - proto: udp\n    address: 127.0.0.1\n    port: 99999\n", "bad.yaml");
  std::string out, err;
  // Without --check-config too: a bad file must stop the proxy before it binds anything.
  EXPECT_EQ(run_sipproxy("-c '" + path + "'", dir_, &out, &err), 2);
  EXPECT_NE(err.find(path + ":4: port must be between 1 and 65535"), std::string::npos) << err;
  EXPECT_EQ(run_sipproxy("--check-config -c '" + path + "'", dir_, &out, &err), 2);
  EXPECT_NE(err.find(path + ":4: port must be between 1 and 65535"), std::string::npos) << err;
}

TEST_F(ConfigTest, BinaryCheckConfigAcceptsDeployedFile) {
  std::string out, err;
  EXPECT_EQ(
      run_sipproxy(std::string("--check-config -c '") + DEPLOY_CONFIG + "'", dir_, &out, &err), 0)
      << err;
  EXPECT_NE(out.find("ok"), std::string::npos) << out;
}

}  // namespace
}  // namespace strowger::proxy::config
