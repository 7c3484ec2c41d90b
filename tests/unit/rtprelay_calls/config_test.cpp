// rtprelay.yaml loading (file:line errors) and the rtprelay binary's exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/yaml_config.h"
#include "rtprelay/calls/relay_config.h"

namespace strowger::rtprelay::calls {
namespace {

const char* kGood = R"(interfaces:
  - name: default
    address: 127.0.0.1
    advertise: 192.0.2.1
  - name: default
    address: "::1"
port_range: {min: 30000, max: 40000}
ng:
  udp: ["127.0.0.1:2223"]
timeouts: {media_s: 5}
)";

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "t.yaml");
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RelayConfig, DeployFileLoads) {
  RelayConfig c = load_config(DEPLOY_CONFIG);
  ASSERT_EQ(c.interfaces.size(), 2u);
  EXPECT_EQ(c.interfaces[1].address, "::1");
  EXPECT_EQ(c.ng_udp.size(), 1u);
  EXPECT_EQ(c.port_min, 30000);
  EXPECT_EQ(c.delete_delay_s, 30);
}

TEST(RelayConfig, GoodTextLoads) {
  RelayConfig c = parse_config(kGood, "t.yaml");
  EXPECT_EQ(c.interfaces[0].advertise, "192.0.2.1");
  EXPECT_EQ(c.media_timeout_s, 5);
}

TEST(RelayConfig, ErrorsNameFileAndLine) {
  std::string g = kGood;
  EXPECT_EQ(error_of(std::string(g).replace(g.find("127.0.0.1\n"), 9, "1.2.3")),
            "t.yaml:3: '1.2.3' is not an IPv4 or IPv6 address");
  EXPECT_NE(
      error_of(std::string(g).replace(g.find("max: 40000"), 10, "max: 20000")).find("t.yaml:7:"),
      std::string::npos);
  EXPECT_NE(error_of(std::string(g).replace(g.find("min: 30000"), 10, "min: 30001")).find("even"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(g).replace(g.find("max: 40000"), 10, "max: 30002")).find("fewer"),
            std::string::npos);
  EXPECT_NE(
      error_of(std::string(g).replace(g.find("max: 40000"), 10, "max: 70000")).find("between"),
      std::string::npos);
  EXPECT_EQ(error_of(g + "bogus: 1\n"), "t.yaml:11: unknown setting 'bogus' in the top level");
  EXPECT_EQ(error_of(g + "workers: 1\nworkers: 2\n"),
            "t.yaml:12: 'workers' is set twice in the top level");
  EXPECT_NE(error_of("interfaces: []\nng: {udp: [\"127.0.0.1:1\"]}\n").find("t.yaml:1:"),
            std::string::npos);
  EXPECT_NE(
      error_of("interfaces:\n  - address: 127.0.0.1\nng: {udp: []}\n").find("t.yaml:3: ng needs"),
      std::string::npos);
  EXPECT_NE(
      error_of("interfaces:\n  - address: 127.0.0.1\nng: {udp: [\"nohost\"]}\n").find("t.yaml:3:"),
      std::string::npos);
  EXPECT_NE(error_of("interfaces:\n  - address: 127.0.0.1\n  - address: 127.0.0.2\n"
                     "ng: {udp: [\"127.0.0.1:1\"]}\n")
                .find("t.yaml:3: interface 'default' already has an IPv4"),
            std::string::npos);
}

// Runs the built binary; returns its exit status and stderr.
int run(const std::string& args, std::string* err) {
  std::string cmd = std::string(RTPRELAY_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof(buf), p)) *err += buf;
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RelayBinary, BadConfigIsFileLineAndExit2) {
  std::string path = "/tmp/rtprelay_bad_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(path) << "interfaces:\n  - address: 127.0.0.1\nng: {udp: "
                         "[\"127.0.0.1:1\"]}\nport_range: {min: 5000, max: 4000}\n";
  std::string err;
  EXPECT_EQ(run("-c " + path + " --check-config", &err), 2);
  EXPECT_NE(err.find(path + ":4: port_range min must be below max"), std::string::npos) << err;
  err.clear();
  EXPECT_EQ(run("-c " + path, &err), 2);
  EXPECT_NE(err.find(path + ":4:"), std::string::npos) << err;
  unlink(path.c_str());
  err.clear();
  EXPECT_EQ(run(std::string("-c ") + DEPLOY_CONFIG + " --check-config", &err), 0) << err;
  err.clear();
  EXPECT_EQ(run("-V", &err), 0);
  EXPECT_NE(err.find("rtprelay"), std::string::npos);
}

}  // namespace
}  // namespace strowger::rtprelay::calls
