// TcpTransport: SIP over a stream on one worker's event_base (TCP, and with the modules' services
// TLS, WS and WSS): listeners, connection table, reuse, limits.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/sip/framing.h"
#include "proxy/transport/connection_directory.h"
#include "proxy/transport/event_handles.h"
#include "proxy/transport/transport.h"
#include "sipproxy/transport.h"

namespace strowger::proxy::transport {

class TcpConnection;

struct TcpCounters {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;    // accepts closed at once: max_connections or per-source limit
  std::uint64_t connecting = 0;  // outgoing connections started
  std::uint64_t closed = 0;
  std::uint64_t messages = 0;  // framed messages handed to the receiver
  std::uint64_t framing_errors = 0;
  std::uint64_t keepalive_pongs = 0;
  std::uint64_t overflows = 0;  // connections closed because their output grew past the bound
};

// Limits of 0 or less mean "no limit".
// The transport applies TcpLimits per worker (it cannot see the other workers). The worker
// setup splits the configured totals with this: max_connections and
// max_connections_per_source divided by the worker count, rounded up, at least 1.
config::TcpLimits tcp_limits_per_worker(const config::TcpLimits& total, int workers);

// What a stream transport other than plain TCP needs from the modules (not owned).
struct StreamServices {
  sipproxy::TlsService* tls = nullptr;       // TLS and WSS: wraps the socket
  sipproxy::WebSocketService* ws = nullptr;  // WS and WSS: frames SIP messages
};

class TcpTransport final : public Transport {
 public:
  // A connection whose unsent output exceeds this is closed: the peer is not reading.
  static constexpr std::size_t kMaxOutputBytes = 4u << 20;
  // How long a connection being closed may take to flush its last output.
  static constexpr int kFlushTimeoutMs = 5000;
  static constexpr int kListenBacklog = 1024;

  TcpTransport(event_base* base, Receiver& receiver, int worker_index,
               const config::TcpLimits& limits, std::size_t max_message_size,
               Protocol proto = Protocol::kTcp, StreamServices services = {});
  // Frees every connection and listener without calling the receiver.
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Opens this worker's listening socket for config listener `listener_index`.
  std::optional<std::string> listen(int listener_index, const Address& local);
  Address local_address(int listener_index) const;

  Protocol protocol() const override { return proto_; }
  std::uint64_t send(const Peer& to, std::string_view bytes) override;
  void close_after_flush(std::uint64_t connection_id) override;
  std::size_t connection_count() const override { return connections_.size(); }

  const TcpCounters& counters() const { return counters_; }
  int worker_index() const { return worker_index_; }
  // True if the connection exists on this worker and can still take output.
  bool is_open(std::uint64_t connection_id) const;
  // True if this worker has a connection to remote that can take output.
  bool has_connection_to(const Address& remote) { return find_by_remote(remote) != nullptr; }
  // Connections are announced here as they open and close (the workers' shared directory).
  void set_directory(ConnectionDirectory* directory) { directory_ = directory; }

  // For TcpConnection.
  event_base* base() const { return base_; }
  Receiver& receiver() { return receiver_; }
  const sip::StreamFramer& framer() const { return framer_; }
  const config::TcpLimits& limits() const { return limits_; }
  const StreamServices& services() const { return services_; }
  TcpCounters& mutable_counters() { return counters_; }
  // The connection stopped (its callbacks are off): unlink it now; tell the receiver and free
  // it from the loop, never from inside the caller's stack.
  void connection_closed(TcpConnection& c);

 private:
  struct Listener {
    TcpTransport* owner = nullptr;
    int index = -1;
    Address local;
    ListenerPtr listener;
    EventPtr resume;  // re-enables accepting after running out of descriptors
  };
  static void on_accept(evconnlistener* l, evutil_socket_t fd, sockaddr* sa, int len, void* arg);
  static void on_accept_error(evconnlistener* l, void* arg);
  static void on_resume(evutil_socket_t, short, void* arg);
  static void on_reap(evutil_socket_t, short, void* arg);
  void accept(Listener& l, int fd, const Address& remote);
  TcpConnection* connect(const Peer& to);
  TcpConnection* find_by_remote(const Address& remote);
  sipproxy::ConnectionInfo info(const Peer& peer, const Address& local) const;
  TcpConnection* add(std::unique_ptr<TcpConnection> c);
  const Listener* source_listener(const Peer& to) const;
  std::uint64_t next_id();
  bool log_allowed();
  bool at_capacity() const;  // max_connections reached (a limit <= 0 means none)

  event_base* base_;
  Receiver& receiver_;
  int worker_index_;
  Protocol proto_;
  StreamServices services_;
  ConnectionDirectory* directory_ = nullptr;
  config::TcpLimits limits_;
  sip::StreamFramer framer_;
  std::uint64_t counter_ = 0;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<std::uint64_t, std::unique_ptr<TcpConnection>> connections_;
  // Both accepted and outgoing connections, by remote address, for reuse (RFC 3261 18, 5923).
  std::unordered_map<Address, std::vector<std::uint64_t>, AddressHash> by_remote_;
  // Accepted connections per source IP (port 0).
  std::unordered_map<Address, int, AddressHash> per_source_;
  std::vector<std::unique_ptr<TcpConnection>> closed_;
  EventPtr reap_;
  std::int64_t log_window_ms_ = 0;
  int log_count_ = 0;
  TcpCounters counters_;
};

}  // namespace strowger::proxy::transport
