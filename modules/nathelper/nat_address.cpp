// Private-range tests, IP comparison and Kamailio's transport numbers for nathelper.
#include "modules/nathelper/nat_address.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace strowger::modules::nathelper {
namespace {

struct Net {
  std::uint32_t addr;
  std::uint32_t mask;
};

// Kamailio's nets_1918 table (nat_addr_mode 0), then the reserved ones (mode 1).
constexpr std::array<Net, 5> kPrivate = {{
    {0x0a000000, 0xff000000},  // 10.0.0.0/8
    {0xac100000, 0xfff00000},  // 172.16.0.0/12
    {0xc0a80000, 0xffff0000},  // 192.168.0.0/16
    {0x64400000, 0xffc00000},  // 100.64.0.0/10 (RFC 6598, carrier-grade NAT)
    {0xc0000000, 0xfffffff8},  // 192.0.0.0/29 (RFC 7335)
}};
constexpr Net kReserved = {0xc0000000, 0xffffff00};  // 192.0.0.0/24

std::string_view strip_brackets(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    return text.substr(1, text.size() - 2);
  return text;
}

// inet_pton needs a NUL-terminated string; addresses are short, so a stack buffer does.
bool parse_ip(std::string_view text, int family, void* out) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(family, buf, out) == 1;
}

}  // namespace

int is_private_ipv4(std::string_view text, NatAddrMode mode) {
  in_addr a{};
  if (!parse_ip(text, AF_INET, &a)) return -1;
  const std::uint32_t h = ntohl(a.s_addr);
  for (const Net& n : kPrivate)
    if ((h & n.mask) == n.addr) return 1;
  if (mode == NatAddrMode::kReserved && (h & kReserved.mask) == kReserved.addr) return 1;
  return 0;
}

bool is_ipv6_literal(std::string_view text) {
  in6_addr a{};
  return parse_ip(strip_brackets(text), AF_INET6, &a);
}

bool is_ip_literal(std::string_view text) {
  in_addr a{};
  return parse_ip(text, AF_INET, &a) || is_ipv6_literal(text);
}

bool same_ip(std::string_view a, std::string_view b) {
  in_addr a4{}, b4{};
  if (parse_ip(a, AF_INET, &a4)) return parse_ip(b, AF_INET, &b4) && a4.s_addr == b4.s_addr;
  in6_addr a6{}, b6{};
  if (!parse_ip(strip_brackets(a), AF_INET6, &a6)) return false;
  if (!parse_ip(strip_brackets(b), AF_INET6, &b6)) return false;
  return std::memcmp(&a6, &b6, sizeof(a6)) == 0;
}

int proto_number(std::string_view proto) {
  static constexpr std::array<std::string_view, 6> kNames = {"udp",  "tcp", "tls",
                                                             "sctp", "ws",  "wss"};
  for (std::size_t i = 0; i < kNames.size(); i++) {
    const std::string_view n = kNames[i];
    if (n.size() != proto.size()) continue;
    bool eq = true;
    for (std::size_t j = 0; j < n.size() && eq; j++)
      eq = (proto[j] | 0x20) == n[j];  // ASCII case-insensitive (letters only here)
    if (eq) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::string_view proto_name(int number) {
  switch (number) {
    case 1:
      return "udp";
    case 2:
      return "tcp";
    case 3:
      return "tls";
    case 4:
      return "sctp";
    case 5:
      return "ws";
    case 6:
      return "wss";
    default:
      return "";
  }
}

std::string uri_host(std::string_view ip) {
  if (ip.find(':') != std::string_view::npos && ip.front() != '[')
    return "[" + std::string(ip) + "]";
  return std::string(ip);
}

std::string source_uri(const sipproxy::Peer& source) {
  std::string uri = "sip:" + uri_host(source.ip) + ":" + std::to_string(source.port);
  const int n = proto_number(source.proto);
  if (n > 1) {
    uri += ";transport=";
    uri += proto_name(n);
  }
  return uri;
}

}  // namespace strowger::modules::nathelper
