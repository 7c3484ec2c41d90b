// Renders JSON values as YAML-like text for sipctl's default output.
#include "tools/sipctl/render.h"

#include <cstdio>
#include <vector>

namespace strowger::tools::sipctl {
namespace {

using Json = nlohmann::json;
using Lines = std::vector<std::string>;

// Deeper structures are printed as compact JSON: no real answer nests this far.
constexpr int kMaxDepth = 32;

// Splits on newlines (unless !split) and escapes every other control character (and DEL).
Lines string_lines(const std::string& s, bool split = true) {
  Lines lines(1);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n' && split) {
      lines.emplace_back();
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      lines.back() += buf;
    } else {
      lines.back() += ch;
    }
  }
  return lines;
}

bool is_leaf(const Json& v) {
  return !v.is_structured() || v.empty();
}

std::string json_text(const Json& v) {
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Lines leaf_lines(const Json& v) {
  if (v.is_string()) return string_lines(v.get_ref<const std::string&>());
  if (v.is_null()) return {"null"};
  return string_lines(json_text(v));  // numbers, booleans, {} and []
}

Lines value_lines(const Json& v, int depth);

// `head` followed by `body`: the first line after `first`, the rest after `others`.
void append_block(Lines& out, const std::string& first, const std::string& others,
                  const Lines& body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    out.push_back((i == 0 ? first : others) + body[i]);
  }
}

Lines value_lines(const Json& v, int depth) {
  if (is_leaf(v)) return leaf_lines(v);
  if (depth >= kMaxDepth) return string_lines(json_text(v));
  Lines out;
  if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      const std::string label = string_lines(key, false).front() + ":";
      if (is_leaf(item)) {
        append_block(out, label + " ", "  ", leaf_lines(item));
      } else {
        out.push_back(label);
        append_block(out, "  ", "  ", value_lines(item, depth + 1));
      }
    }
  } else {
    for (const Json& item : v) append_block(out, "- ", "  ", value_lines(item, depth + 1));
  }
  return out;
}

}  // namespace

std::string render_text(const Json& result) {
  if (result.is_null()) return std::string();
  std::string text;
  for (const std::string& line : value_lines(result, 0)) {
    text += line;
    text += '\n';
  }
  return text;
}

}  // namespace strowger::tools::sipctl
