// Endpoint: an IPv4 or IPv6 address + UDP port held as a sockaddr, comparable without formatting.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::rtprelay::media {

class Endpoint {
 public:
  Endpoint() { clear(); }
  // Parses a numeric address ("192.0.2.1", "::1", "[::1]"); nullopt for names or garbage.
  static std::optional<Endpoint> parse(std::string_view ip, std::uint16_t port);
  // Parses "ip:port" or "[ipv6]:port".
  static std::optional<Endpoint> parse_hostport(std::string_view s);
  static Endpoint from_sockaddr(const sockaddr* sa, socklen_t len);

  bool is_set() const { return ss_.ss_family != AF_UNSPEC; }
  bool is_v6() const { return ss_.ss_family == AF_INET6; }
  int family() const { return ss_.ss_family; }
  std::uint16_t port() const;
  Endpoint with_port(std::uint16_t port) const;
  void clear();

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss_); }
  socklen_t len() const { return len_; }
  // Address only (no port), e.g. "::1".
  std::string ip_string() const;
  // "1.2.3.4:5" or "[::1]:5"; "-" when unset.
  std::string to_string() const;

  // Same family, address and port; cheap enough for every packet.
  bool operator==(const Endpoint& o) const;
  bool same_address(const Endpoint& o) const;

  // Lets recvmmsg fill an Endpoint in place: point msg_name at sa() with capacity().
  static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }
  void set_len(socklen_t len) { len_ = len; }

 private:
  sockaddr_storage ss_;
  socklen_t len_ = 0;
};

}  // namespace strowger::rtprelay::media
