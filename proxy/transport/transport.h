// The transport interface: what a worker's UDP/TCP (later TLS/WS) transports offer the core,
// and what they call back. Everything here runs on the owning worker's thread.
#pragma once
#include <cstdint>
#include <string_view>

#include "proxy/transport/address.h"

namespace strowger::proxy::transport {

// Implemented by the worker (it hands messages to the transaction layer).
class Receiver {
 public:
  virtual ~Receiver() = default;
  // One complete SIP message: a datagram, or one message framed out of a stream.
  virtual void on_message(std::string_view bytes, const Peer& from) = 0;
  // A stream could not be framed (oversize: 513, bad or missing Content-Length: 400).
  // head holds the bytes up to the end of the headers when they were complete (else empty),
  // so the core can answer the request; the transport closes the connection after that
  // answer is flushed.
  virtual void on_framing_error(std::string_view head, const Peer& from, int status) = 0;
  // A connection closed or failed to connect; transactions using it fail over or answer 503.
  virtual void on_connection_closed(std::uint64_t connection_id) = 0;
};

// One transport kind on one worker.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Protocol protocol() const = 0;
  // Sends one serialized message. Reliable transports use to.connection_id when it is alive,
  // else an existing connection to to.remote, else open a new one (asynchronously: a later
  // failure comes back through Receiver::on_connection_closed). Returns the connection id used
  // (1 for UDP) or 0 when the message could not be sent at all.
  virtual std::uint64_t send(const Peer& to, std::string_view bytes) = 0;
  // Closes a connection after its queued output is flushed (no-op for UDP).
  virtual void close_after_flush(std::uint64_t connection_id) = 0;
  virtual std::size_t connection_count() const = 0;
};

// Connection ids carry the owning worker in their top byte and the protocol in the next one, so
// any worker can tell whose it is and which transport holds it.
inline constexpr int kConnectionWorkerShift = 56;
inline constexpr int kConnectionProtocolShift = 48;
inline int connection_worker(std::uint64_t id) { return static_cast<int>(id >> kConnectionWorkerShift); }
inline Protocol connection_protocol(std::uint64_t id) {
  return static_cast<Protocol>((id >> kConnectionProtocolShift) & 0xff);
}

}  // namespace strowger::proxy::transport
