// RTP/RTCP demultiplexing on one port (RFC 5761 section 4): RTCP packet types 192-223 fall in
// the RTP marker+payload-type byte where payload types 64-95 would, which RTP must not use.
#pragma once
#include <cstddef>
#include <cstdint>

namespace strowger::rtprelay::media {

inline bool looks_like_rtcp(const std::uint8_t* p, std::size_t len) {
  if (len < 8 || (p[0] >> 6) != 2) return false;  // RTCP header is 8 bytes, version 2
  return p[1] >= 192 && p[1] <= 223;
}

}  // namespace strowger::rtprelay::media
