// WebSocket frame headers (RFC 6455 5.2): parse a client frame header, write a server one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace strowger::modules::websocket {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes we send (RFC 6455 7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseTooBig = 1009;

// The longest header: 2 bytes + 8 of extended length + 4 of mask.
inline constexpr std::size_t kMaxFrameHeader = 14;
inline constexpr std::size_t kMaxControlPayload = 125;

struct FrameHeader {
  bool fin = false;
  Opcode opcode = Opcode::kContinuation;
  bool masked = false;
  std::uint8_t mask[4] = {0, 0, 0, 0};
  std::uint64_t payload_length = 0;
  std::size_t header_length = 0;  // bytes before the payload
};

enum class FrameParse { kNeedMore, kOk, kInvalid };

// Parses the header at the start of data. kInvalid covers what no valid frame can be whatever
// follows (reserved bits, unknown opcode, control frame too long or fragmented, a 64-bit
// length with its top bit set); the session then closes with 1002. Masking and message size
// are the session's rules (they need its state).
FrameParse parse_frame_header(const std::uint8_t* data, std::size_t size, FrameHeader* out);

inline bool is_control(Opcode op) {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

// Writes an unmasked header (FIN set) for a payload of length bytes; returns its size (<= 10).
std::size_t write_frame_header(Opcode opcode, std::uint64_t length, std::uint8_t* out);

// XORs data with the 4-byte mask, starting at mask byte offset % 4 (a payload unmasked in
// pieces continues where the last piece stopped).
void unmask(std::uint8_t* data, std::size_t size, const std::uint8_t mask[4], std::size_t offset);

// True when bytes are valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), which
// picks a text frame for an outgoing message and a binary one otherwise (RFC 7118 5.1).
bool is_valid_utf8(std::string_view bytes);

}  // namespace strowger::modules::websocket
