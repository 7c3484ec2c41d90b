// ng message framing and reply builders.
#include "rtprelay/control/ng_message.h"

namespace strowger::rtprelay::control {

std::optional<NgMessage> split_message(std::string_view message) {
  std::size_t space = message.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  return NgMessage{message.substr(0, space), message.substr(space + 1)};
}

bool looks_like_cookie(std::string_view s) {
  if (s.empty() || s.size() > kMaxCookieBytes) return false;
  for (char c : s)
    if (c <= ' ' || c >= 0x7f) return false;
  return true;
}

std::string build_reply(std::string_view cookie, const bencode::Dict& reply) {
  std::string out;
  out.reserve(cookie.size() + 64);
  out.append(cookie);
  out.push_back(' ');
  bencode::encode_to(reply, out);
  return out;
}

bencode::Dict ok_reply() {
  bencode::Dict d;
  d.set("result", "ok");
  return d;
}

bencode::Dict pong_reply() {
  bencode::Dict d;
  d.set("result", "pong");
  return d;
}

bencode::Dict error_reply(std::string_view reason) {
  bencode::Dict d;
  set_error(d, reason);
  return d;
}

void set_error(bencode::Dict& reply, std::string_view reason) {
  reply.clear();
  reply.set("result", "error");
  reply.set("error-reason", reason);
}

void set_warning(bencode::Dict& reply, std::string_view warning) {
  reply.set("warning", warning);
}

bool is_error(const bencode::Dict& reply) {
  return reply.get_string("result") == "error";
}

}  // namespace strowger::rtprelay::control
