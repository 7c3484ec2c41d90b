// RFC 3263 4.1 transport selection (NAPTR services, SRV fallbacks) and RFC 2782 SRV ordering.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/dns/answer.h"
#include "proxy/transport/address.h"

namespace strowger::proxy::dns {

// An SRV name to query and the transport its targets speak.
struct SrvService {
  std::string name;  // "_sip._udp.example.com"
  transport::Protocol proto;
};

// The NAPTR records we can use (SIP+D2U, SIP+D2T, SIPS+D2T with flag "s"; only SIPS+D2T when
// the URI is sips), by order then preference, duplicates removed.
std::vector<SrvService> select_naptr(const std::vector<NaptrRecord>& records, bool sips_only);

// What to query when the domain has no usable NAPTR: _sip._udp, _sip._tcp, _sips._tcp (only
// _sips._tcp for a sips URI), in that order.
std::vector<SrvService> default_srv_services(std::string_view domain, bool sips_only);

// The SRV name for a transport chosen by the URI (RFC 3263 4.2), or nullopt when that
// transport has no SRV convention (WS, WSS).
std::optional<SrvService> srv_service_for(std::string_view domain, transport::Protocol proto,
                                          bool sips);

// RFC 2782: by priority, and within one priority in a weighted random order. Targets "."
// (the service is not offered there) are dropped.
std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, std::mt19937& rng);

}  // namespace strowger::proxy::dns
