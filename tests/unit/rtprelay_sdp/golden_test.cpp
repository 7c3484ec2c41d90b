// Golden tests: golden/NAME.in.sdp + NAME.plan must rewrite to exactly NAME.out.sdp.
// STROWGER_UPDATE_GOLDEN=1 writes the .out.sdp files instead (review the diff before keeping).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "plan_file.h"
#include "rtprelay/sdp/rewrite.h"

namespace strowger::rtprelay::sdp {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(SDP_GOLDEN_DIR)) {
    std::string f = e.path().filename().string();
    const std::string suffix = ".in.sdp";
    if (f.size() > suffix.size() && f.ends_with(suffix))
      names.push_back(f.substr(0, f.size() - suffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, RewritesExactly) {
  fs::path dir = SDP_GOLDEN_DIR;
  std::string name = GetParam();
  std::string in = read_all(dir / (name + ".in.sdp"));
  std::string plan_text = read_all(dir / (name + ".plan"));
  ASSERT_FALSE(in.empty());
  ASSERT_FALSE(plan_text.empty()) << "missing " << name << ".plan";
  auto sdp = parse(in);
  ASSERT_TRUE(sdp.ok()) << sdp.error().message;
  auto plan = parse_plan_file(plan_text);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  auto out = rewrite(*sdp, *plan);
  ASSERT_TRUE(out.ok()) << out.error().message;
  if (std::getenv("STROWGER_UPDATE_GOLDEN")) {
    std::ofstream(dir / (name + ".out.sdp"), std::ios::binary) << *out;
    return;
  }
  std::string want = read_all(dir / (name + ".out.sdp"));
  ASSERT_FALSE(want.empty()) << "missing " << name << ".out.sdp";
  EXPECT_EQ(*out, want);
  // What we write must parse again, with the same number of media sections.
  auto again = parse(*out);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->media.size(), sdp->media.size());
}

INSTANTIATE_TEST_SUITE_P(Sdp, Golden, ::testing::ValuesIn(golden_names()),
                         [](const auto& info) { return info.param; });

TEST(GoldenSet, HasTheCasesTheIssueAsksFor) {
  EXPECT_GE(golden_names().size(), 15u);
}

}  // namespace
}  // namespace strowger::rtprelay::sdp
