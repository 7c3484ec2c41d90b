// Every shipped routing script passes `sipproxy --check` (the real binary, loading the real
// modules) under each switch combination an operator is told to use.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kSource = STROWGER_SOURCE_DIR;

// Runs sipproxy --check; returns its exit status and leaves its output in *out.
int check(const fs::path& script, const std::vector<std::string>& defines, std::string* out) {
  // Under ASan, LeakSanitizer's exit scan crashes on the dynamic TLS of modules loaded but never
  // run (GCC 12's LSan: "DTLS 7 at 0x0-0x1000001102", "Tracer caught signal 11"), as --check
  // leaves them. Leaks are the daemon suites' business; this test is about compiling.
  std::string cmd = "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" " +
                    std::string(STROWGER_SIPPROXY) + " --check";
  for (const std::string& d : defines) cmd += " -D " + d;
  cmd += " '" + script.string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RoutingScripts, EveryScriptPassesTheCheck) {
  int scripts = 0;
  for (const auto& entry : fs::directory_iterator(kSource / "routing-scripts")) {
    if (entry.path().extension() != ".cfg") continue;
    scripts++;
    std::string out;
    EXPECT_EQ(check(entry.path(), {}, &out), 0) << entry.path() << "\n" << out;
  }
  EXPECT_GE(scripts, 2);
}

TEST(RoutingScripts, DefaultCfgUnderEverySwitch) {
  const fs::path script = kSource / "routing-scripts/default.cfg";
  const std::vector<std::vector<std::string>> sets = {
      {"WITH_NAT"},
      {"WITH_WEBSOCKETS"},
      {"WITH_TLS"},
      {"WITH_AUTH", "WITH_REGISTRAR", "WITH_RTPRELAY", "WITH_TLS", "WITH_WEBSOCKETS"},  // deploy
      {"WITH_AUTH", "WITH_REGISTRAR", "WITH_RTPRELAY", "WITH_NAT", "WITH_WEBSOCKETS"},
  };
  for (const auto& defines : sets) {
    std::string out;
    EXPECT_EQ(check(script, defines, &out), 0) << out;
  }
}

}  // namespace
