// The websocket module's WebSocketService for the core: one Session per WS/WSS connection
// (opening handshake, then RFC 6455 frames carrying one SIP message per WebSocket message).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "modules/websocket/ws_frame.h"
#include "modules/websocket/ws_handshake.h"
#include "modules/websocket/ws_stats.h"
#include "sipproxy/transport.h"

namespace strowger::modules::websocket {

enum class Keepalive { kNone = 0, kPing = 1, kPong = 2 };

struct WsConfig {
  HandshakePolicy policy;
  std::size_t max_message_size = 65535;  // reassembled message; over it: close 1009
  std::size_t max_header_size = 8192;    // handshake head with its blank line; over it: 431
  std::int64_t handshake_timeout_ms = 10000;
  Keepalive keepalive = Keepalive::kPing;
  std::int64_t keepalive_interval_ms = 30000;  // idle time before a ping (or unsolicited pong)
  std::int64_t keepalive_timeout_ms = 10000;   // after a ping: no frame within this closes
  int log_lines_per_second = 10;               // rejected-handshake lines per worker
  std::int64_t tick_ms = 1000;
};

class Session final : public sipproxy::WsSession {
 public:
  Session(std::shared_ptr<const WsConfig> config, std::shared_ptr<WsStats> stats,
          const sipproxy::ConnectionInfo& conn, std::int64_t now_ms);
  ~Session() override;

  bool on_input(evbuffer* in, evbuffer* out, sipproxy::WsSink& sink) override;
  bool send(std::string_view message, evbuffer* out) override;
  bool on_tick(std::int64_t now_ms, evbuffer* out) override;
  bool is_open() const override { return state_ == State::kOpen; }

 private:
  enum class State { kHandshake, kOpen, kClosed };

  // Reads the request head; false when the connection must close (rejected).
  bool read_handshake(evbuffer* in, evbuffer* out);
  bool reject(Reject why, evbuffer* out, std::string_view origin);
  // Reads frames until in runs dry; false when the connection must close.
  bool read_frames(evbuffer* in, evbuffer* out, sipproxy::WsSink& sink);
  bool on_control(const FrameHeader& h, std::uint8_t* payload, evbuffer* out);
  // Writes a close frame with code, counts it and ends the session.
  bool fail(std::uint16_t code, Counter why, evbuffer* out);
  bool write_frame(Opcode op, const void* payload, std::size_t size, evbuffer* out);

  std::shared_ptr<const WsConfig> config_;
  std::shared_ptr<WsStats> stats_;
  std::size_t shard_;
  std::uint64_t connection_id_;
  std::string remote_;  // "ip:port", debug logs only

  State state_ = State::kHandshake;
  std::int64_t accepted_ms_;
  std::int64_t now_ms_;  // the latest time the core gave (accept or tick)
  std::size_t head_scanned_ = 0;

  // The frame being read: its payload is copied into message_ as it arrives.
  bool in_frame_ = false;
  bool frame_fin_ = false;
  std::uint64_t frame_remaining_ = 0;
  std::size_t frame_mask_offset_ = 0;
  std::uint8_t frame_mask_[4] = {0, 0, 0, 0};
  bool in_message_ = false;  // a fragmented message has started
  std::string message_;      // reassembly buffer, reused from message to message

  // Keepalive: input seen since the last tick, and the ping we wait an answer for.
  bool input_seen_ = false;
  std::int64_t last_input_ms_;
  std::int64_t last_keepalive_ms_;
  bool awaiting_pong_ = false;
  std::int64_t ping_sent_ms_ = 0;
};

class Service final : public sipproxy::WebSocketService {
 public:
  // workers: one stats shard each (a connection id's top byte names its worker).
  Service(WsConfig config, std::size_t workers);

  std::unique_ptr<sipproxy::WsSession> accept(const sipproxy::ConnectionInfo& conn,
                                              std::int64_t now_ms) override;
  std::int64_t tick_ms() const override { return config_->tick_ms; }
  const WsConfig& config() const { return *config_; }
  StatsSnapshot stats() const { return stats_->sum(); }

 private:
  std::shared_ptr<const WsConfig> config_;
  std::shared_ptr<WsStats> stats_;
};

}  // namespace strowger::modules::websocket
