// Address and Protocol: parsing, printing, comparing and hashing socket addresses.
#include "proxy/transport/address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>

#include <cstring>

namespace strowger::proxy::transport {
namespace {

constexpr std::string_view kProtocolNames[] = {"UDP", "TCP", "TLS", "WS", "WSS"};
constexpr std::string_view kProtocolTokens[] = {"udp", "tcp", "tls", "ws", "wss"};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// FNV-1a: addresses are short, and this keeps the hash independent of padding bytes.
std::size_t fnv1a(const void* data, std::size_t n, std::size_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  auto i = static_cast<std::size_t>(p);
  return i < std::size(kProtocolNames) ? kProtocolNames[i] : std::string_view("?");
}

std::string_view protocol_token(Protocol p) {
  auto i = static_cast<std::size_t>(p);
  return i < std::size(kProtocolTokens) ? kProtocolTokens[i] : std::string_view("?");
}

std::optional<Protocol> protocol_from_name(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kProtocolNames); ++i) {
    if (iequals(name, kProtocolNames[i])) return static_cast<Protocol>(i);
  }
  return std::nullopt;
}

std::optional<Address> Address::from_ip_port(std::string_view ip, std::uint16_t port) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  // Longest valid text: an IPv6 literal (45) plus a "%interface" scope.
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (ip.empty() || ip.size() >= sizeof text || ip.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';

  Address a;
  if (ip.find(':') == std::string_view::npos) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.ss_);
    if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) return std::nullopt;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    a.len_ = sizeof(sockaddr_in);
    return a;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.ss_);
  if (ip.find('%') == std::string_view::npos) {
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) return std::nullopt;
  } else {
    // Scoped link-local literal (fe80::1%eth0): only getaddrinfo resolves the scope.
    addrinfo hints{};
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(text, nullptr, &hints, &res) != 0 || res == nullptr) return std::nullopt;
    std::memcpy(sin6, res->ai_addr, sizeof(sockaddr_in6));
    freeaddrinfo(res);
  }
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  a.len_ = sizeof(sockaddr_in6);
  return a;
}

Address Address::from_sockaddr(const sockaddr* sa, socklen_t len) {
  Address a;
  if (sa == nullptr) return a;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&a.ss_, sa, sizeof(sockaddr_in));
    a.len_ = sizeof(sockaddr_in);
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&a.ss_, sa, sizeof(sockaddr_in6));
    a.len_ = sizeof(sockaddr_in6);
  }
  return a;
}

std::uint16_t Address::port() const {
  if (len_ == 0) return 0;
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
}

void Address::set_port(std::uint16_t port) {
  if (family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&ss_)->sin_port = htons(port);
  } else if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&ss_)->sin6_port = htons(port);
  }
}

std::string Address::ip() const {
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (family() == AF_INET && len_ != 0) {
    if (!inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, buf, sizeof buf))
      return {};
    return buf;
  }
  if (family() == AF_INET6 && len_ != 0) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss_);
    if (!inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf)) return {};
    std::string out = buf;
    if (sin6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE];
      out += '%';
      out += if_indextoname(sin6->sin6_scope_id, name) ? std::string(name)
                                                       : std::to_string(sin6->sin6_scope_id);
    }
    return out;
  }
  return {};
}

std::string Address::host_for_uri() const {
  if (family() == AF_INET6 && len_ != 0) return "[" + ip() + "]";
  return ip();
}

std::string Address::to_string() const {
  if (len_ == 0) return {};
  return host_for_uri() + ":" + std::to_string(port());
}

bool Address::operator==(const Address& o) const {
  if (len_ != o.len_ || family() != o.family()) return false;
  if (len_ == 0) return true;
  if (family() == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss_);
    const auto* b = reinterpret_cast<const sockaddr_in*>(&o.ss_);
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss_);
  const auto* b = reinterpret_cast<const sockaddr_in6*>(&o.ss_);
  return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
         std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

std::size_t Address::hash() const {
  std::size_t h = 14695981039346656037ull;
  if (len_ == 0) return h;
  if (family() == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss_);
    h = fnv1a(&a->sin_addr, sizeof a->sin_addr, h);
    return fnv1a(&a->sin_port, sizeof a->sin_port, h);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss_);
  h = fnv1a(&a->sin6_addr, sizeof a->sin6_addr, h);
  h = fnv1a(&a->sin6_scope_id, sizeof a->sin6_scope_id, h);
  return fnv1a(&a->sin6_port, sizeof a->sin6_port, h);
}

}  // namespace strowger::proxy::transport
