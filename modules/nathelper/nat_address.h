// Address tests and encodings nathelper shares: private (RFC 1918/6598) IPv4 ranges, IP text
// comparison, Kamailio's transport numbers (alias=ip~port~N) and the source URI of a message.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sipproxy/script.h"

namespace strowger::modules::nathelper {

// Kamailio's nat_addr_mode: 0 the default private ranges (10/8, 172.16/12, 192.168/16,
// 100.64/10, 192.0.0.0/29); 1 also the other IETF reserved 192.0.0.0/24.
enum class NatAddrMode { kDefault = 0, kReserved = 1 };

// 1 when text is a private IPv4 address, 0 when a public IPv4 address, -1 when not an IPv4
// address at all (IPv6 included: Kamailio's test is IPv4 only, so ULAs are never "private").
int is_private_ipv4(std::string_view text, NatAddrMode mode = NatAddrMode::kReserved);

// The same IP address written two ways ("::1" and "0:0::1", with or without brackets)?
// False when either is not an IP literal.
bool same_ip(std::string_view a, std::string_view b);
bool is_ip_literal(std::string_view text);  // IPv4 or IPv6, brackets allowed
bool is_ipv6_literal(std::string_view text);

// Kamailio's protocol numbers: udp 1, tcp 2, tls 3, sctp 4, ws 5, wss 6; 0 unknown.
int proto_number(std::string_view proto);  // case-insensitive
std::string_view proto_name(int number);   // "" unknown

// "sip:IP:PORT" plus ";transport=tcp|tls|sctp|ws|wss" when not UDP; IPv6 in brackets.
std::string source_uri(const sipproxy::Peer& source);
// "IP" or "[IPv6]" for a URI host.
std::string uri_host(std::string_view ip);

// The port Kamailio assumes when a Via or Contact gives none (whatever the transport).
inline constexpr std::uint16_t kSipPort = 5060;

}  // namespace strowger::modules::nathelper
