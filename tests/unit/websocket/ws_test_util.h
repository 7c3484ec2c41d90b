// Test helpers for the websocket tests: an evbuffer owner, client (masked) frames, a sink.
#pragma once
#include <event2/buffer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sipproxy/transport.h"

namespace strowger::modules::websocket::test {

class EvBuf {
 public:
  EvBuf() : b_(evbuffer_new()) {}
  ~EvBuf() { evbuffer_free(b_); }
  EvBuf(const EvBuf&) = delete;
  EvBuf& operator=(const EvBuf&) = delete;
  evbuffer* get() const { return b_; }
  operator evbuffer*() const { return b_; }  // NOLINT: passes where an evbuffer* is wanted
  void add(std::string_view s) { evbuffer_add(b_, s.data(), s.size()); }
  std::size_t size() const { return evbuffer_get_length(b_); }
  // Removes and returns everything.
  std::string take() {
    std::string s(size(), '\0');
    if (!s.empty()) evbuffer_remove(b_, s.data(), s.size());
    return s;
  }

 private:
  evbuffer* b_;
};

// A client frame: masked (unless told not), FIN as given, with the length encoding the
// payload needs (or forced 64-bit).
inline std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true,
                                bool masked = true, std::uint8_t rsv = 0, bool len64 = false) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | opcode));
  const std::uint8_t mbit = masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (len64) {
    f.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  } else if (n < 126) {
    f.push_back(static_cast<char>(mbit | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(mbit | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) f.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f.push_back(masked ? static_cast<char>(payload[i] ^ mask[i & 3]) : payload[i]);
  return f;
}

// A server frame as we expect it (unmasked, FIN).
inline std::string server_frame(std::uint8_t opcode, std::string_view payload) {
  return client_frame(opcode, payload, true, false);
}

struct Sink final : sipproxy::WsSink {
  bool on_message(std::string_view m) override {
    messages.emplace_back(m);
    return alive;
  }
  std::vector<std::string> messages;
  bool alive = true;
};

inline constexpr const char* kUpgrade =
    "GET /ws HTTP/1.1\r\n"
    "Host: sip.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: https://www.example.com\r\n"
    "Sec-WebSocket-Protocol: sip\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

}  // namespace strowger::modules::websocket::test
