// ng message framing: "<cookie> <bencoded dictionary>" split into its parts, and the replies
// (ok, error with error-reason, pong) built back with the request's cookie.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/bencode.h"

namespace strowger::rtprelay::control {

namespace bencode = common::bencode;

// Longer cookies are refused (Kamailio's are about 20 bytes); bounds what a TCP reader buffers
// before it has seen a space.
inline constexpr std::size_t kMaxCookieBytes = 256;

struct NgMessage {
  std::string_view cookie;  // never empty, no space
  std::string_view body;    // everything after the first space (the bencoded dictionary)
};

// Splits at the first space. nullopt when there is no space, or the message starts with one
// (no cookie: rtpengine drops such datagrams).
std::optional<NgMessage> split_message(std::string_view message);

// True for a non-empty run of printable non-space bytes no longer than kMaxCookieBytes: what
// a message without a space must look like to be answered (with an error) rather than dropped.
bool looks_like_cookie(std::string_view s);

// "<cookie> <bencoded reply>".
std::string build_reply(std::string_view cookie, const bencode::Dict& reply);

bencode::Dict ok_reply();                            // { result: ok }
bencode::Dict pong_reply();                          // { result: pong }
bencode::Dict error_reply(std::string_view reason);  // { result: error, error-reason: ... }

// Turns `reply` into an error: the protocol wants no other keys beside result and error-reason.
void set_error(bencode::Dict& reply, std::string_view reason);
// Adds a non-fatal warning to an ok reply.
void set_warning(bencode::Dict& reply, std::string_view warning);
bool is_error(const bencode::Dict& reply);

}  // namespace strowger::rtprelay::control
