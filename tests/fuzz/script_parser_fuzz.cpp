// libFuzzer target: the routing-script front end (preprocessor, lexer, parser) on any bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "proxy/script/parser.h"

namespace {

using namespace strowger::proxy::script;

// Visits every node, and parses every string as a format string as the compiler will.
void walk(const Expr& e) {
  if (e.kind == ExprKind::kString) {
    std::vector<FormatPart> parts;
    std::string error;
    std::size_t offset = 0;
    parse_format(e.text, &parts, &error, &offset);
  }
  if (e.pv) (void)pv_to_string(*e.pv);
  if (e.lhs) walk(*e.lhs);
  if (e.rhs) walk(*e.rhs);
  for (const auto& a : e.args) walk(*a);
}

void walk(const Stmt& s) {
  if (s.expr) walk(*s.expr);
  for (const auto& b : s.body) walk(*b);
  for (const auto& b : s.else_body) walk(*b);
  for (const auto& c : s.cases) {
    if (c.label) walk(*c.label);
    for (const auto& b : c.body) walk(*b);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ParseOptions options;
  options.defines = {{"WITH_NAT", ""}, {"WITH_MYSQL", ""}, {"WITH_AUTH", ""}, {"LEVEL", "3"}};
  options.max_tokens = 200000;
  // Nothing is read from disk: an include of a name starting with "self" reads the input
  // again (cycles, depth and fan-out limits), "empty" is an empty file, the rest is missing.
  options.read_file = [&text](const std::string& path) -> std::optional<std::string> {
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    if (base.rfind("self", 0) == 0) return text;
    if (base.rfind("empty", 0) == 0) return std::string();
    return std::nullopt;
  };
  ParseResult r = parse_script_text(text, "fuzz.cfg", options);
  for (const auto& route : r.script.routes) {
    for (const auto& s : route.body) {
      walk(*s);
      (void)to_string(*s);
    }
  }
  (void)r.format_diagnostics();
  return 0;
}
