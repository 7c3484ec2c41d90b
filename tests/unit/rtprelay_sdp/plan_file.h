// Reads the golden tests' NAME.plan text format into a RewritePlan (see golden/README.md).
#pragma once
#include <string>
#include <string_view>

#include "common/result.h"
#include "rtprelay/sdp/rewrite.h"

namespace strowger::rtprelay::sdp {

common::Result<RewritePlan> parse_plan_file(std::string_view text);

}  // namespace strowger::rtprelay::sdp
