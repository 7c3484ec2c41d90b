// libFuzzer target for WebSocket sessions: arbitrary bytes (after a valid handshake or not) fed
// whole and in random chunks must give the same messages, the same answer bytes and the same
// end state; ticks and sends in between must not crash. Seed: corpus/ws/, -dict=ws.dict.
#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "modules/websocket/ws_session.h"

namespace ws = strowger::modules::websocket;

namespace {

constexpr std::string_view kUpgrade =
    "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: sip\r\n\r\n";

struct Sink final : strowger::sipproxy::WsSink {
  bool on_message(std::string_view m) override {
    if (m.empty() || m.size() > limit) std::abort();
    messages.emplace_back(m);
    return messages.size() < stop_after;
  }
  std::vector<std::string> messages;
  std::size_t limit = 0;
  std::size_t stop_after = 0;
};

struct Run {
  std::vector<std::string> messages;
  std::string out;
  bool alive = true;
  bool open = false;
};

std::string drain(evbuffer* b) {
  std::string s(evbuffer_get_length(b), '\0');
  if (!s.empty()) evbuffer_remove(b, s.data(), s.size());
  return s;
}

// Feeds input in chunks (chunk 0: all at once; else sizes from a small PRNG seeded with it);
// with ticks, also ticks (and sends) between chunks.
Run feed(ws::Service& service, std::string_view input, std::uint32_t chunk_seed, bool ticks,
         std::size_t stop_after) {
  strowger::sipproxy::ConnectionInfo conn;
  conn.id = 1;
  auto session = service.accept(conn, 0);
  evbuffer* in = evbuffer_new();
  evbuffer* out = evbuffer_new();
  Sink sink;
  sink.limit = service.config().max_message_size;
  sink.stop_after = stop_after;
  Run run;
  std::uint32_t rng = chunk_seed | 1;
  std::int64_t now = 0;
  std::size_t pos = 0;
  while (run.alive && pos < input.size()) {
    std::size_t n = input.size() - pos;
    if (chunk_seed != 0) {
      rng = rng * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (rng >> 16) % 97);
    }
    evbuffer_add(in, input.data() + pos, n);
    pos += n;
    run.alive = session->on_input(in, out, sink);
    if (ticks && run.alive) {
      now += 1000 * ((rng >> 8) % 16);
      run.alive = session->on_tick(now, out);
      if (run.alive && session->is_open() && !session->send("SIP/2.0 200 OK\r\n\r\n", out))
        std::abort();
    }
  }
  run.open = session->is_open();
  if (!run.alive && run.open) std::abort();  // a session that asks to close is not open
  run.messages = std::move(sink.messages);
  run.out = drain(out);
  evbuffer_free(in);
  evbuffer_free(out);
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Rejected handshakes log at info; the fuzzer makes millions of them.
  strowger::common::log_setup(strowger::common::LogLevel::kError,
                              strowger::common::LogFormat::kText, "ws_fuzz");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // Byte 0: prepend a valid handshake, keepalive mode, a small or default size limit.
  // Byte 1: chunking seed. Byte 2: after how many messages the sink reports the
  // connection gone (0: never).
  const std::uint8_t flags = data[0];
  ws::WsConfig config;
  config.max_message_size = (flags & 2) ? 300 : 65535;
  config.max_header_size = (flags & 4) ? 1024 : 8192;
  config.keepalive = static_cast<ws::Keepalive>((flags >> 3) % 3);
  config.keepalive_interval_ms = 3000;
  config.keepalive_timeout_ms = 2000;
  config.handshake_timeout_ms = 20000;
  if (flags & 0x40) config.policy.origins = {"https://a.example"};
  if (flags & 0x80) config.policy.paths = {"/ws"};
  ws::Service service(config, 1);
  std::string input;
  if (flags & 1) input.append(kUpgrade);
  input.append(reinterpret_cast<const char*>(data + 3), size - 3);
  const std::size_t stop_after = data[2] == 0 ? SIZE_MAX : data[2];

  const Run whole = feed(service, input, 0, false, stop_after);
  const Run chunked = feed(service, input, data[1] | 0x100u, false, stop_after);
  if (whole.messages != chunked.messages || whole.out != chunked.out ||
      whole.alive != chunked.alive || whole.open != chunked.open)
    std::abort();
  (void)feed(service, input, data[1] | 0x200u, true, stop_after);
  return 0;
}
