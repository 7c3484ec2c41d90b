// Test helper: builds DNS messages (RFC 1035 wire format) for the fake server and parser tests.
#pragma once
#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strowger::proxy::dns::testing {

using Bytes = std::vector<std::uint8_t>;

inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}

// Uncompressed; "" is the root.
inline Bytes encode_name(std::string_view name) {
  Bytes b;
  while (!name.empty()) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  b.push_back(0);
  return b;
}

inline Bytes rdata_a(const char* ip) {
  Bytes b(4);
  inet_pton(AF_INET, ip, b.data());
  return b;
}
inline Bytes rdata_aaaa(const char* ip) {
  Bytes b(16);
  inet_pton(AF_INET6, ip, b.data());
  return b;
}
inline Bytes rdata_srv(std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
                       std::string_view target) {
  Bytes b;
  put16(b, priority);
  put16(b, weight);
  put16(b, port);
  Bytes n = encode_name(target);
  b.insert(b.end(), n.begin(), n.end());
  return b;
}
inline void put_text(Bytes& b, std::string_view s) {
  b.push_back(static_cast<std::uint8_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}
inline Bytes rdata_naptr(std::uint16_t order, std::uint16_t preference, std::string_view flags,
                         std::string_view service, std::string_view regexp,
                         std::string_view replacement) {
  Bytes b;
  put16(b, order);
  put16(b, preference);
  put_text(b, flags);
  put_text(b, service);
  put_text(b, regexp);
  Bytes n = encode_name(replacement);
  b.insert(b.end(), n.begin(), n.end());
  return b;
}
inline Bytes rdata_soa(std::uint32_t minimum) {
  Bytes b = encode_name("ns.test");
  Bytes r = encode_name("hostmaster.test");
  b.insert(b.end(), r.begin(), r.end());
  for (std::uint32_t v : {1u, 3600u, 600u, 86400u}) put32(b, v);
  put32(b, minimum);
  return b;
}

struct WireRecord {
  std::string name;
  std::uint16_t type;
  std::uint32_t ttl;
  Bytes rdata;
};

inline void put_record(Bytes& b, const WireRecord& r) {
  Bytes n = encode_name(r.name);
  b.insert(b.end(), n.begin(), n.end());
  put16(b, r.type);
  put16(b, 1);  // IN
  put32(b, r.ttl);
  put16(b, static_cast<std::uint16_t>(r.rdata.size()));
  b.insert(b.end(), r.rdata.begin(), r.rdata.end());
}

inline Bytes question(std::string_view name, std::uint16_t type) {
  Bytes b = encode_name(name);
  put16(b, type);
  put16(b, 1);
  return b;
}

// A response with the given question bytes (copied from the query) and sections.
inline Bytes response(std::uint16_t id, std::uint8_t rcode, const Bytes& question_bytes,
                      const std::vector<WireRecord>& answers,
                      const std::vector<WireRecord>& authority = {},
                      const std::vector<WireRecord>& additional = {}) {
  Bytes b;
  put16(b, id);
  put16(b, static_cast<std::uint16_t>(0x8400 | 0x0100 | 0x0080 | rcode));  // QR AA RD RA
  put16(b, question_bytes.empty() ? 0 : 1);
  put16(b, static_cast<std::uint16_t>(answers.size()));
  put16(b, static_cast<std::uint16_t>(authority.size()));
  put16(b, static_cast<std::uint16_t>(additional.size()));
  b.insert(b.end(), question_bytes.begin(), question_bytes.end());
  for (const auto* section : {&answers, &authority, &additional}) {
    for (const WireRecord& r : *section) put_record(b, r);
  }
  return b;
}

}  // namespace strowger::proxy::dns::testing
