// Helpers for the script front-end tests: parse snippets and dump what came out.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "proxy/script/parser.h"

namespace strowger::proxy::script::test {

inline ParseResult parse(std::string_view text, ParseOptions options = {}) {
  return parse_script_text(text, "test.cfg", options);
}

// Reader over an in-memory file set, for include tests without touching the disk.
inline FileReader memory_files(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

// The statements of `request_route { body }` as S-expressions, space separated; on
// errors the diagnostics instead, prefixed with "ERR ".
inline std::string statements(std::string_view body, ParseOptions options = {}) {
  auto r = parse("request_route {\n" + std::string(body) + "\n}\n", options);
  if (!r.ok()) return "ERR " + r.format_diagnostics();
  const Route* route = r.script.find_route(RouteKind::kRequest);
  if (route == nullptr) return "ERR no route";
  std::string out;
  for (const auto& s : route->body) out += (out.empty() ? "" : " ") + to_string(*s);
  return out;
}

// The value of `$var(x) = <expression>;` as an S-expression, or "ERR " + diagnostics.
inline std::string expr(std::string_view e) {
  auto r = parse("request_route {\n$var(x) = " + std::string(e) + ";\n}\n");
  if (!r.ok()) return "ERR " + r.format_diagnostics();
  const Route* route = r.script.find_route(RouteKind::kRequest);
  if (route == nullptr || route->body.size() != 1 || !route->body[0]->expr) return "ERR shape";
  return to_string(*route->body[0]->expr);
}

// The condition of `if (<condition>) exit;`.
inline std::string cond(std::string_view c) {
  auto r = parse("request_route {\nif (" + std::string(c) + ") exit;\n}\n");
  if (!r.ok()) return "ERR " + r.format_diagnostics();
  const Route* route = r.script.find_route(RouteKind::kRequest);
  if (route == nullptr || route->body.size() != 1 || !route->body[0]->expr) return "ERR shape";
  return to_string(*route->body[0]->expr);
}

}  // namespace strowger::proxy::script::test
