// Address: an IPv4/IPv6 socket address held by value, and the SIP transport protocols.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::proxy::transport {

enum class Protocol : std::uint8_t { kUdp, kTcp, kTls, kWs, kWss };
std::string_view protocol_name(Protocol p);  // "UDP", "TCP", "TLS", "WS", "WSS"
// "udp" ... "wss": transport= parameters, $proto, module and RPC peers.
std::string_view protocol_token(Protocol p);
std::optional<Protocol> protocol_from_name(std::string_view name);  // case-insensitive
inline bool is_reliable(Protocol p) {
  return p != Protocol::kUdp;
}
inline bool is_secure(Protocol p) {
  return p == Protocol::kTls || p == Protocol::kWss;
}
// RFC 7118: a WebSocket client is reachable only over the connection it opened.
inline bool is_websocket(Protocol p) {
  return p == Protocol::kWs || p == Protocol::kWss;
}

class Address {
 public:
  Address() = default;
  static std::optional<Address> from_ip_port(std::string_view ip, std::uint16_t port);
  static Address from_sockaddr(const sockaddr* sa, socklen_t len);

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss_); }
  socklen_t len() const { return len_; }
  socklen_t* len_ptr() { return &len_; }
  int family() const { return ss_.ss_family; }
  bool valid() const { return len_ != 0; }
  std::uint16_t port() const;
  void set_port(std::uint16_t port);
  std::string ip() const;            // "127.0.0.1", "::1"
  std::string host_for_uri() const;  // "127.0.0.1", "[::1]"
  std::string to_string() const;     // "127.0.0.1:5060", "[::1]:5060"
  bool operator==(const Address& o) const;
  std::size_t hash() const;

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

struct AddressHash {
  std::size_t operator()(const Address& a) const { return a.hash(); }
};

// Where a message came from, or where one goes.
struct Peer {
  Protocol proto = Protocol::kUdp;
  Address remote;
  // The listening socket (index in the config's listen list) that received it / should send it.
  int listener = -1;
  // Connection it arrived on (reliable transports); 0 for UDP or "any/new connection".
  std::uint64_t connection_id = 0;
  // Sending: use connection_id or an existing connection to remote, never open a new one
  // (an RFC 5626 flow, a contact behind NAT).
  bool no_connect = false;
  // Sending over a new TLS connection: the name the server certificate must carry (the host of
  // the URI it was resolved from, RFC 5922); null: the address is checked. Null when received.
  std::shared_ptr<const std::string> tls_name = nullptr;
};

}  // namespace strowger::proxy::transport
