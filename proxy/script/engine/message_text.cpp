// Whole-message text edits: fix Content-Length and reparse after an edit sofia has no call for.
#include "proxy/script/engine/message_text.h"

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {

std::string fix_content_length(std::string text) {
  auto end = text.find("\r\n\r\n");
  if (end == std::string::npos) return text;
  std::size_t body = text.size() - (end + 4);
  std::string value = std::to_string(body);
  std::size_t line = text.find("\r\n");
  while (line != std::string::npos && line < end) {
    std::size_t start = line + 2;
    std::size_t colon = text.find(':', start);
    std::size_t eol = text.find("\r\n", start);
    if (colon != std::string::npos && colon < eol) {
      std::string name = text.substr(start, colon - start);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      if (iequals(name, "Content-Length") || iequals(name, "l")) {
        text.replace(colon + 1, eol - colon - 1, " " + value);
        return text;
      }
    }
    line = eol;
  }
  text.insert(end + 2, "Content-Length: " + value + "\r\n");
  return text;
}

bool replace_message(sip::Message& msg, std::string text) {
  auto parsed = sip::Message::parse(fix_content_length(std::move(text)));
  if (!parsed.ok()) return false;
  msg = std::move(parsed.value());
  return true;
}

}  // namespace strowger::proxy::script::engine
