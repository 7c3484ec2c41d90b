// Endpoint implementation: parsing, formatting and comparison of IPv4/IPv6 UDP endpoints.
#include "rtprelay/media/endpoint.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace strowger::rtprelay::media {

void Endpoint::clear() {
  std::memset(&ss_, 0, sizeof(ss_));
  ss_.ss_family = AF_UNSPEC;
  len_ = 0;
}

std::optional<Endpoint> Endpoint::parse(std::string_view ip, std::uint16_t port) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, ip.data(), ip.size());
  buf[ip.size()] = '\0';
  Endpoint e;
  if (ip.find(':') != std::string_view::npos) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&e.ss_);
    if (inet_pton(AF_INET6, buf, &s6->sin6_addr) != 1) return std::nullopt;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    e.len_ = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&e.ss_);
    if (inet_pton(AF_INET, buf, &s4->sin_addr) != 1) return std::nullopt;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    e.len_ = sizeof(sockaddr_in);
  }
  return e;
}

std::optional<Endpoint> Endpoint::parse_hostport(std::string_view s) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= s.size()) return std::nullopt;
  std::string_view host = s.substr(0, colon);
  // A bare IPv6 address without brackets is ambiguous: require "[...]".
  if (host.find(':') != std::string_view::npos && host.front() != '[') return std::nullopt;
  unsigned port = 0;
  auto [p, ec] = std::from_chars(s.data() + colon + 1, s.data() + s.size(), port);
  if (ec != std::errc() || p != s.data() + s.size() || port > 65535) return std::nullopt;
  return parse(host, static_cast<std::uint16_t>(port));
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  Endpoint e;
  if (sa == nullptr) return e;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&e.ss_, sa, sizeof(sockaddr_in));
    e.len_ = sizeof(sockaddr_in);
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&e.ss_, sa, sizeof(sockaddr_in6));
    e.len_ = sizeof(sockaddr_in6);
  }
  return e;
}

std::uint16_t Endpoint::port() const {
  if (ss_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  if (ss_.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  return 0;
}

Endpoint Endpoint::with_port(std::uint16_t port) const {
  Endpoint e = *this;
  if (ss_.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&e.ss_)->sin_port = htons(port);
  if (ss_.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&e.ss_)->sin6_port = htons(port);
  return e;
}

bool Endpoint::same_address(const Endpoint& o) const {
  if (ss_.ss_family != o.ss_.ss_family) return false;
  if (ss_.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&o.ss_)->sin_addr.s_addr;
  if (ss_.ss_family == AF_INET6)
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&o.ss_)->sin6_addr,
                       sizeof(in6_addr)) == 0;
  return true;  // both unset
}

bool Endpoint::operator==(const Endpoint& o) const {
  return same_address(o) && port() == o.port();
}

std::string Endpoint::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss_.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, buf, sizeof(buf));
  else if (ss_.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, buf, sizeof(buf));
  return buf;
}

std::string Endpoint::to_string() const {
  if (!is_set()) return "-";
  std::string ip = ip_string();
  std::string port_s = std::to_string(port());
  return is_v6() ? "[" + ip + "]:" + port_s : ip + ":" + port_s;
}

}  // namespace strowger::rtprelay::media
