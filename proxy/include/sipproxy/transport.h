// The transport services modules give the core: TLS on the workers' bufferevents (tls module)
// and WebSocket sessions over a stream (websocket module). The core owns sockets, connections,
// timers and the connection table; a module only wraps a socket or turns stream bytes into SIP
// messages. Everything on a connection runs on the worker thread that owns it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct bufferevent;
struct evbuffer;
struct event_base;

namespace strowger::sipproxy {

// The connection a service call is about (for logs, SNI choice, tls.list).
struct ConnectionInfo {
  std::uint64_t id = 0;  // the core's connection id (its top byte is the owning worker)
  std::string proto;     // "tls", "ws", "wss"
  std::string remote_ip;  // IPv6 without brackets
  std::uint16_t remote_port = 0;
  std::string local_ip;
  std::uint16_t local_port = 0;
};

// ---- tls: ModuleHost::find(kTlsService) -------------------------------------------------

inline constexpr const char* kTlsService = "tls";

class TlsService {
 public:
  virtual ~TlsService() = default;
  // Server side of an accepted socket: a bufferevent that runs the TLS handshake and then
  // carries the plaintext (bufferevent_openssl over fd, BEV_OPT_CLOSE_ON_FREE: freeing it closes
  // fd and frees the SSL). nullptr with *error set when no TLS session could be made (fd is then
  // still the caller's to close).
  virtual bufferevent* accept(event_base* loop, int fd, const ConnectionInfo& conn,
                              std::string* error) = 0;
  // Client side: a bufferevent on no socket yet (fd -1) in the connecting state; the core calls
  // bufferevent_socket_connect() on it. server_name is sent as SNI and the server certificate is
  // verified against it (a host name, or the IP when there is none) unless verification is off.
  virtual bufferevent* connect(event_base* loop, const ConnectionInfo& conn,
                               const std::string& server_name, std::string* error) = 0;
  // Why a TLS bufferevent failed (handshake or verification), for the core's log line.
  virtual std::string last_error(bufferevent* bev) const = 0;
};

// ---- websocket: ModuleHost::find(kWebSocketService) -----------------------------------------

inline constexpr const char* kWebSocketService = "websocket";

// Where a session delivers the SIP messages it unframes (the core's connection).
class WsSink {
 public:
  virtual ~WsSink() = default;
  // One complete WebSocket message (text or binary) = one SIP message (RFC 7118 5.1); the view
  // is valid during the call only. Returns false when the connection was closed meanwhile:
  // the session must stop reading and return from on_input.
  virtual bool on_message(std::string_view message) = 0;
};

// One server-side WebSocket connection (RFC 6455): the HTTP Upgrade handshake, then frames.
// The core never opens WebSocket connections (RFC 7118: clients are not reachable otherwise).
class WsSession {
 public:
  virtual ~WsSession() = default;
  // Consumes what it can of in (handshake request or frames), writes what it answers (the 101
  // or an HTTP 4xx, pongs, close frames) to out, and hands each complete message to sink.
  // Returns false when the connection must close once out is flushed (bad handshake, protocol
  // error, size limit, close handshake done).
  virtual bool on_input(evbuffer* in, evbuffer* out, WsSink& sink) = 0;
  // Frames one SIP message (a text frame, unmasked: we are the server). False when the session
  // cannot carry messages (handshake not finished, closing).
  virtual bool send(std::string_view message, evbuffer* out) = 0;
  // Called every WebSocketService::tick_ms() on the worker: keepalive pings, pong and
  // handshake timeouts. False: close the connection now.
  virtual bool on_tick(std::int64_t now_ms, evbuffer* out) = 0;
  // The handshake is done and messages can flow.
  virtual bool is_open() const = 0;
};

class WebSocketService {
 public:
  virtual ~WebSocketService() = default;
  virtual std::unique_ptr<WsSession> accept(const ConnectionInfo& conn, std::int64_t now_ms) = 0;
  virtual std::int64_t tick_ms() const = 0;
};

}  // namespace strowger::sipproxy
