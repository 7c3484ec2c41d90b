// TcpConnection: one SIP stream on a bufferevent (TCP, TLS, or a WebSocket session on either):
// framing, keep-alive, timeouts, closing.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/transport/event_handles.h"
#include "proxy/transport/transport.h"
#include "sipproxy/transport.h"

namespace strowger::proxy::transport {

class TcpTransport;

// Milliseconds on the monotonic clock.
std::int64_t monotonic_ms();

class TcpConnection final : private sipproxy::WsSink {
 public:
  enum class State {
    kConnecting,  // outgoing, connect() in progress; output is queued
    kOpen,
    kClosing,  // no more reading; closes once the output is flushed (or kFlushTimeoutMs)
    kClosed,   // callbacks off; waiting for the transport to free it
  };

  // Takes the bufferevent (which owns the socket). peer.connection_id is the connection's id.
  TcpConnection(TcpTransport& owner, BufferEventPtr bev, const Peer& peer, bool connecting,
                bool counts_for_source);
  ~TcpConnection() override;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Messages are WebSocket messages of this session instead of a SIP stream (before start()).
  void set_websocket(std::unique_ptr<sipproxy::WsSession> session) { ws_ = std::move(session); }
  // Installs the callbacks and the connect/idle timer. False if libevent refused.
  bool start();
  // Queues bytes; false (and the connection is closed) when the output bound would be exceeded.
  bool write(std::string_view bytes);
  void close_after_flush();
  // Stops the connection now, dropping unsent output.
  void close(const char* reason);

  std::uint64_t id() const { return peer_.connection_id; }
  const Peer& peer() const { return peer_; }
  State state() const { return state_; }
  bool writable() const { return state_ == State::kConnecting || state_ == State::kOpen; }
  bool counts_for_source() const { return counts_for_source_; }

 private:
  static void on_read_cb(bufferevent*, void* arg);
  static void on_write_cb(bufferevent*, void* arg);
  static void on_event_cb(bufferevent*, short what, void* arg);
  static void on_timer_cb(evutil_socket_t, short, void* arg);
  void on_read();
  void on_write();
  void on_event(short what);
  void on_timer();
  void on_read_sip();
  void on_read_websocket();
  bool on_message(std::string_view message) override;  // WsSink
  void arm_timer(std::int64_t ms);
  std::int64_t open_timer_ms() const;
  std::string tls_error(int err) const;  // the TLS layer's reason when there is one  // until the next idle check or WebSocket tick
  void note_skipped(std::string_view crlfs);
  void framing_error(int status, std::string_view head);
  std::size_t output_length() const;

  TcpTransport& owner_;
  BufferEventPtr bev_;
  EventPtr timer_;
  Peer peer_;
  State state_;
  bool counts_for_source_;
  std::int64_t last_activity_ms_;
  int keepalive_matched_ = 0;  // chars of "\r\n\r\n" seen in a row between messages
  std::unique_ptr<sipproxy::WsSession> ws_;
};

}  // namespace strowger::proxy::transport
