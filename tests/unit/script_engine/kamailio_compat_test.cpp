// Compatibility: Debian's kamailio.cfg compiles with no diagnostic other than modules and
// functions Strowger does not have yet (the test suite installs kamailio, so the file exists).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "proxy/script/engine/compiler.h"

namespace strowger::proxy::script::engine {
namespace {

constexpr const char* kKamailioCfg = "/etc/kamailio/kamailio.cfg";

void expect_only_missing_features(const std::vector<std::pair<std::string, std::string>>& defines) {
  CompileResult result = compile_file(kKamailioCfg, defines);
  static const std::regex kMissingModule(
      R"(^module [A-Za-z0-9_]+ is not available in Strowger( \(no .*\))?$)");
  static const std::regex kMissingFunction(
      R"(^unknown function [A-Za-z0-9_.]+\(\) \(not available in Strowger\)$)");
  std::set<std::string> missing;
  for (const Diagnostic& d : result.diagnostics) {
    if (d.message == "too many errors, stopping") continue;
    const bool allowed = std::regex_match(d.message, kMissingModule) ||
                         std::regex_match(d.message, kMissingFunction);
    EXPECT_TRUE(allowed) << "line " << d.loc.line << ":" << d.loc.col << ": " << d.message;
    missing.insert(d.message);
  }
  std::string defs;
  for (const auto& [name, value] : defines) defs += " -D " + name;
  std::cout << "kamailio.cfg" << defs << ": " << missing.size() << " missing features\n";
  for (const std::string& m : missing) std::cout << "  " << m << "\n";
}

TEST(KamailioCompat, DefaultConfigNeedsOnlyMissingModulesAndFunctions) {
  if (!std::filesystem::exists(kKamailioCfg)) GTEST_SKIP() << kKamailioCfg << " not installed";
  expect_only_missing_features({});
  expect_only_missing_features({{"WITH_NAT", ""}});
  expect_only_missing_features({{"WITH_DEBUG", ""},
                                {"WITH_NAT", ""},
                                {"WITH_AUTH", ""},
                                {"WITH_MYSQL", ""},
                                {"WITH_USRLOCDB", ""}});
}

}  // namespace
}  // namespace strowger::proxy::script::engine
