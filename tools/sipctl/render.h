// Text rendering of a JSON-RPC result for people: "key: value" lines, "- item" lists.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace strowger::tools::sipctl {

// Objects print as indented "key: value" lines, arrays as "- item" lists, strings without
// quotes; control characters are escaped so a hostile User-Agent cannot drive the terminal.
// A null result prints nothing. The text ends with a newline unless it is empty.
std::string render_text(const nlohmann::json& result);

}  // namespace strowger::tools::sipctl
