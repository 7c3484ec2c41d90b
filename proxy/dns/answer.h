// Answer: what one DNS query (name, type) returned, parsed from the wire (RFC 1035) with TTLs.
// We parse responses ourselves because c-ares 1.18.1's SRV/NAPTR parsers drop the TTLs and the
// additional section, both of which the cache and RFC 3263 need.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/transport/address.h"

namespace strowger::proxy::dns {

enum class RrType : std::uint16_t {
  kHostsFile = 0,  // not a DNS type: the cache keeps hosts-file lookups under it
  kA = 1,
  kCname = 5,
  kSoa = 6,
  kAaaa = 28,
  kSrv = 33,
  kNaptr = 35,
};
std::string_view rr_type_name(RrType type);

struct SrvRecord {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;  // lower case, no trailing dot; "" for the root ("service not here")
};

struct NaptrRecord {
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  std::string flags;
  std::string service;
  std::string regexp;
  std::string replacement;  // lower case, no trailing dot; "" for the root
};

// An address the server volunteered in the additional section (for an SRV target).
struct Glue {
  std::string name;
  transport::Address addr;  // port 0
};

enum class AnswerStatus : std::uint8_t {
  kOk,             // records of the asked type (after following CNAMEs)
  kNoData,         // the name exists but has no record of that type
  kNxDomain,       // the name does not exist
  kServerFailure,  // SERVFAIL/REFUSED/FORMERR/NOTIMP, or a response we could not parse
  kTimeout,        // no server answered
};

struct Answer {
  AnswerStatus status = AnswerStatus::kServerFailure;
  // Seconds the answer may be kept: the smallest TTL of the records used, or for a negative
  // answer min(SOA TTL, SOA minimum) (RFC 2308 5); nullopt when the response does not say.
  std::optional<std::uint32_t> ttl_s;
  std::vector<transport::Address> addresses;  // A or AAAA (port 0), in answer order
  std::vector<SrvRecord> srv;
  std::vector<NaptrRecord> naptr;
  std::vector<Glue> glue;  // A/AAAA of this answer's SRV targets from the additional section
};
using AnswerPtr = std::shared_ptr<const Answer>;

// Parses a response to a query for (qname, qtype); qname lower case without trailing dot.
// Never reads outside `response`; anything malformed gives kServerFailure.
Answer parse_answer(std::span<const std::uint8_t> response, std::string_view qname, RrType qtype);

// Normalizes a host name for DNS: lower case, without one trailing dot. nullopt when it cannot
// be a DNS name (empty, too long, empty label, characters outside letters, digits, '-', '_').
std::optional<std::string> normalize_name(std::string_view host);

}  // namespace strowger::proxy::dns
