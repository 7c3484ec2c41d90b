// WebSocket frame headers: parsing the client's, writing ours, unmasking, UTF-8 check.
#include "modules/websocket/ws_frame.h"

#include <cstring>

namespace strowger::modules::websocket {

FrameParse parse_frame_header(const std::uint8_t* data, std::size_t size, FrameHeader* out) {
  if (size < 2) return FrameParse::kNeedMore;
  const std::uint8_t b0 = data[0];
  const std::uint8_t b1 = data[1];
  // No extension is negotiated, so any reserved bit is an error (RFC 6455 5.2).
  if ((b0 & 0x70) != 0) return FrameParse::kInvalid;
  const std::uint8_t op = b0 & 0x0F;
  switch (op) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
      break;
    default:
      return FrameParse::kInvalid;
  }
  FrameHeader h;
  h.fin = (b0 & 0x80) != 0;
  h.opcode = static_cast<Opcode>(op);
  h.masked = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;
  std::size_t pos = 2;
  if (is_control(h.opcode) && (!h.fin || len7 > kMaxControlPayload)) return FrameParse::kInvalid;
  if (len7 == 126) {
    if (size < pos + 2) return FrameParse::kNeedMore;
    h.payload_length = (std::uint64_t{data[2]} << 8) | data[3];
    pos += 2;
  } else if (len7 == 127) {
    if (size < pos + 8) return FrameParse::kNeedMore;
    std::uint64_t len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | data[2 + i];
    // The most significant bit MUST be 0 (RFC 6455 5.2).
    if ((len >> 63) != 0) return FrameParse::kInvalid;
    h.payload_length = len;
    pos += 8;
  } else {
    h.payload_length = len7;
  }
  if (h.masked) {
    if (size < pos + 4) return FrameParse::kNeedMore;
    std::memcpy(h.mask, data + pos, 4);
    pos += 4;
  }
  h.header_length = pos;
  *out = h;
  return FrameParse::kOk;
}

std::size_t write_frame_header(Opcode opcode, std::uint64_t length, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));
  if (length < 126) {
    out[1] = static_cast<std::uint8_t>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<std::uint8_t>(length >> 8);
    out[3] = static_cast<std::uint8_t>(length);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
  return 10;
}

void unmask(std::uint8_t* data, std::size_t size, const std::uint8_t mask[4], std::size_t offset) {
  for (std::size_t i = 0; i < size; ++i) data[i] ^= mask[(offset + i) & 3];
}

bool is_valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace strowger::modules::websocket
