// Golden dry runs of routing-scripts/default.cfg (with the real modules its switches load).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "proxy/module/registry.h"
#include "proxy/script/engine/dry_run.h"

namespace strowger::proxy::script::engine {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = STROWGER_SOURCE_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Set STROWGER_UPDATE_GOLDEN=1 to rewrite the expected traces (then review the diff).
TEST(Golden, DefaultCfgDryRuns) {
  // The modules resolve the core's logging from this executable: keep it linked in.
  [[maybe_unused]] volatile auto keep_log = &common::log_write;
  module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  fs::path dir = kSource / "tests/script/golden";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".sip") continue;
    cases++;
    DryRunOptions o;
    o.script_path = (kSource / "routing-scripts/default.cfg").string();
    o.message_path = entry.path().string();
    fs::path args = entry.path();
    args.replace_extension(".args");
    if (fs::exists(args)) {
      std::istringstream lines(slurp(args));
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("from=", 0) == 0) o.from = line.substr(5);
        if (line.rfind("local=", 0) == 0) o.local = line.substr(6);
        if (line.rfind("define=", 0) == 0) o.defines.emplace_back(line.substr(7), "");
      }
    }
    std::ostringstream out;
    EXPECT_EQ(run_dry_run(o, out), 0) << entry.path();
    fs::path expected = entry.path();
    expected.replace_extension(".trace");
    if (std::getenv("STROWGER_UPDATE_GOLDEN")) {
      std::ofstream(expected, std::ios::binary) << out.str();
      continue;
    }
    ASSERT_TRUE(fs::exists(expected)) << expected;
    EXPECT_EQ(out.str(), slurp(expected)) << entry.path();
  }
  EXPECT_GE(cases, 8);
}

TEST(Golden, CheckReportsErrorsWithPositions) {
  fs::path tmp = fs::temp_directory_path() / "strowger_check_bad.cfg";
  std::ofstream(tmp) << "request_route {\n  nosuch();\n}\n";
  CheckOptions o;
  o.script_path = tmp.string();
  std::ostringstream out;
  EXPECT_EQ(run_check(o, out), 1);
  EXPECT_EQ(out.str(),
            tmp.string() + ":2:3: unknown function nosuch() (not available in Strowger)\n");
  fs::remove(tmp);
}

}  // namespace
}  // namespace strowger::proxy::script::engine
