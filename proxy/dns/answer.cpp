// DNS response parsing (RFC 1035 4.1, RFC 2782, RFC 3403, RFC 2308) into an Answer.
#include "proxy/dns/answer.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace strowger::proxy::dns {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxName = 255;
constexpr int kMaxPointerHops = 64;
constexpr int kMaxCnameChain = 8;
// A response may carry thousands of records over TCP; nothing sane for SIP needs that many.
constexpr std::size_t kMaxRecordsKept = 64;
constexpr std::uint16_t kClassIn = 1;

enum Rcode : std::uint8_t { kNoError = 0, kNxDomainCode = 3 };
enum class Section : std::uint8_t { kAnswer, kAuthority, kAdditional };

struct Reader {
  std::span<const std::uint8_t> msg;

  bool u16(std::size_t pos, std::uint16_t* out) const {
    if (pos + 2 > msg.size()) return false;
    *out = static_cast<std::uint16_t>(msg[pos] << 8 | msg[pos + 1]);
    return true;
  }
  bool u32(std::size_t pos, std::uint32_t* out) const {
    if (pos + 4 > msg.size()) return false;
    *out = static_cast<std::uint32_t>(msg[pos]) << 24 |
           static_cast<std::uint32_t>(msg[pos + 1]) << 16 |
           static_cast<std::uint32_t>(msg[pos + 2]) << 8 | msg[pos + 3];
    return true;
  }

  // Reads a possibly compressed name at *pos, lower-cased, dotted, without the root dot, and
  // moves *pos past it. Pointer loops end at kMaxPointerHops.
  bool name(std::size_t* pos, std::string* out) const {
    out->clear();
    std::size_t p = *pos;
    bool jumped = false;
    int hops = 0;
    for (;;) {
      if (p >= msg.size()) return false;
      const std::uint8_t len = msg[p];
      if (len == 0) {
        if (!jumped) *pos = p + 1;
        return true;
      }
      if ((len & 0xC0) == 0xC0) {
        if (p + 1 >= msg.size()) return false;
        const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | msg[p + 1];
        if (!jumped) *pos = p + 2;
        jumped = true;
        if (++hops > kMaxPointerHops || target >= msg.size()) return false;
        p = target;
        continue;
      }
      if ((len & 0xC0) != 0) return false;  // extended label types are obsolete
      if (p + 1 + len > msg.size()) return false;
      if (!out->empty()) out->push_back('.');
      for (std::size_t i = 0; i < len; ++i) {
        const unsigned char c = msg[p + 1 + i];
        out->push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      }
      if (out->size() > kMaxName) return false;
      p += 1 + len;
    }
  }

  // A <character-string> inside [*pos, end).
  bool text(std::size_t* pos, std::size_t end, std::string* out) const {
    if (*pos >= end) return false;
    const std::size_t len = msg[*pos];
    if (*pos + 1 + len > end) return false;
    out->assign(reinterpret_cast<const char*>(msg.data() + *pos + 1), len);
    *pos += 1 + len;
    return true;
  }
};

struct RawRecord {
  Section section;
  std::string owner;
  std::uint16_t type;
  std::uint32_t ttl;
  std::size_t rdata;  // offset in the message
  std::uint16_t rdlength;
};

std::optional<transport::Address> read_address(const Reader& r, const RawRecord& rec) {
  sockaddr_storage ss{};
  if (rec.type == static_cast<std::uint16_t>(RrType::kA) && rec.rdlength == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, r.msg.data() + rec.rdata, 4);
    return transport::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in));
  }
  if (rec.type == static_cast<std::uint16_t>(RrType::kAaaa) && rec.rdlength == 16) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, r.msg.data() + rec.rdata, 16);
    return transport::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss),
                                             sizeof(sockaddr_in6));
  }
  return std::nullopt;
}

bool read_srv(const Reader& r, const RawRecord& rec, SrvRecord* out) {
  std::size_t p = rec.rdata;
  const std::size_t end = rec.rdata + rec.rdlength;
  if (rec.rdlength < 7) return false;
  if (!r.u16(p, &out->priority) || !r.u16(p + 2, &out->weight) || !r.u16(p + 4, &out->port)) {
    return false;
  }
  p += 6;
  return r.name(&p, &out->target) && p <= end;
}

bool read_naptr(const Reader& r, const RawRecord& rec, NaptrRecord* out) {
  std::size_t p = rec.rdata;
  const std::size_t end = rec.rdata + rec.rdlength;
  if (rec.rdlength < 8) return false;
  if (!r.u16(p, &out->order) || !r.u16(p + 2, &out->preference)) return false;
  p += 4;
  if (!r.text(&p, end, &out->flags) || !r.text(&p, end, &out->service) ||
      !r.text(&p, end, &out->regexp)) {
    return false;
  }
  return r.name(&p, &out->replacement) && p <= end;
}

// RFC 2308 5: a negative answer lives min(SOA TTL, SOA MINIMUM).
std::optional<std::uint32_t> negative_ttl(const Reader& r, const std::vector<RawRecord>& records) {
  for (const RawRecord& rec : records) {
    if (rec.section != Section::kAuthority ||
        rec.type != static_cast<std::uint16_t>(RrType::kSoa)) {
      continue;
    }
    std::size_t p = rec.rdata;
    std::string ignored;
    std::uint32_t minimum = 0;
    if (!r.name(&p, &ignored) || !r.name(&p, &ignored)) continue;
    // serial, refresh, retry, expire, minimum
    if (p + 20 > rec.rdata + rec.rdlength || !r.u32(p + 16, &minimum)) continue;
    return std::min(rec.ttl, minimum);
  }
  return std::nullopt;
}

void lower_ttl(Answer* a, std::uint32_t ttl) {
  a->ttl_s = a->ttl_s ? std::min(*a->ttl_s, ttl) : ttl;
}

}  // namespace

std::string_view rr_type_name(RrType type) {
  switch (type) {
    case RrType::kHostsFile:
      return "hosts";
    case RrType::kA:
      return "A";
    case RrType::kCname:
      return "CNAME";
    case RrType::kSoa:
      return "SOA";
    case RrType::kAaaa:
      return "AAAA";
    case RrType::kSrv:
      return "SRV";
    case RrType::kNaptr:
      return "NAPTR";
  }
  return "?";
}

Answer parse_answer(std::span<const std::uint8_t> response, std::string_view qname, RrType qtype) {
  Answer answer;
  const Reader r{response};
  std::uint16_t flags = 0, qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  if (response.size() < kHeaderSize || !r.u16(2, &flags) || !r.u16(4, &qdcount) ||
      !r.u16(6, &ancount) || !r.u16(8, &nscount) || !r.u16(10, &arcount)) {
    return answer;
  }
  if ((flags & 0x8000) == 0) return answer;  // not a response
  const std::uint8_t rcode = flags & 0x000F;
  if (rcode != kNoError && rcode != kNxDomainCode) return answer;

  std::size_t pos = kHeaderSize;
  std::string name;
  for (std::uint16_t i = 0; i < qdcount; ++i) {
    if (!r.name(&pos, &name) || pos + 4 > response.size()) return answer;
    pos += 4;
  }
  std::vector<RawRecord> records;
  const std::size_t total = std::size_t{ancount} + nscount + arcount;
  for (std::size_t i = 0; i < total; ++i) {
    RawRecord rec;
    rec.section = i < ancount                          ? Section::kAnswer
                  : i < std::size_t{ancount} + nscount ? Section::kAuthority
                                                       : Section::kAdditional;
    std::uint16_t rclass = 0;
    if (!r.name(&pos, &rec.owner) || !r.u16(pos, &rec.type) || !r.u16(pos + 2, &rclass) ||
        !r.u32(pos + 4, &rec.ttl) || !r.u16(pos + 8, &rec.rdlength)) {
      return answer;
    }
    rec.rdata = pos + 10;
    if (rec.rdata + rec.rdlength > response.size()) return answer;
    pos = rec.rdata + rec.rdlength;
    // RFC 2181 8: a TTL with the top bit set is treated as zero.
    if (rec.ttl & 0x80000000u) rec.ttl = 0;
    if (rclass == kClassIn && records.size() < 4 * kMaxRecordsKept)
      records.push_back(std::move(rec));
  }

  // Follow the CNAME chain from qname to the owner of the records we asked for.
  const auto wanted = static_cast<std::uint16_t>(qtype);
  const auto cname = static_cast<std::uint16_t>(RrType::kCname);
  std::string owner(qname);
  std::optional<std::uint32_t> chain_ttl;
  for (int hop = 0; hop <= kMaxCnameChain; ++hop) {
    const bool has_wanted = std::any_of(records.begin(), records.end(), [&](const RawRecord& rec) {
      return rec.section == Section::kAnswer && rec.type == wanted && rec.owner == owner;
    });
    if (has_wanted) break;
    auto alias = std::find_if(records.begin(), records.end(), [&](const RawRecord& rec) {
      return rec.section == Section::kAnswer && rec.type == cname && rec.owner == owner;
    });
    if (alias == records.end()) break;
    std::size_t p = alias->rdata;
    std::string next;
    if (!r.name(&p, &next)) return answer;
    chain_ttl = chain_ttl ? std::min(*chain_ttl, alias->ttl) : alias->ttl;
    owner = std::move(next);
  }

  for (const RawRecord& rec : records) {
    if (rec.section != Section::kAnswer || rec.type != wanted || rec.owner != owner) continue;
    bool kept = false;
    if (qtype == RrType::kA || qtype == RrType::kAaaa) {
      if (auto addr = read_address(r, rec); addr && answer.addresses.size() < kMaxRecordsKept) {
        answer.addresses.push_back(*addr);
        kept = true;
      }
    } else if (qtype == RrType::kSrv) {
      SrvRecord srv;
      if (!read_srv(r, rec, &srv)) return answer;
      if (answer.srv.size() < kMaxRecordsKept) {
        answer.srv.push_back(std::move(srv));
        kept = true;
      }
    } else if (qtype == RrType::kNaptr) {
      NaptrRecord naptr;
      if (!read_naptr(r, rec, &naptr)) return answer;
      if (answer.naptr.size() < kMaxRecordsKept) {
        answer.naptr.push_back(std::move(naptr));
        kept = true;
      }
    }
    if (kept) lower_ttl(&answer, rec.ttl);
  }

  const bool found = !answer.addresses.empty() || !answer.srv.empty() || !answer.naptr.empty();
  if (!found) {
    answer.status = rcode == kNxDomainCode ? AnswerStatus::kNxDomain : AnswerStatus::kNoData;
    answer.ttl_s = negative_ttl(r, records);
    return answer;
  }
  answer.status = AnswerStatus::kOk;
  if (chain_ttl) lower_ttl(&answer, *chain_ttl);

  if (qtype == RrType::kSrv) {
    for (const RawRecord& rec : records) {
      if (rec.section != Section::kAdditional || answer.glue.size() >= kMaxRecordsKept) continue;
      const bool is_target = std::any_of(answer.srv.begin(), answer.srv.end(),
                                         [&](const SrvRecord& s) { return s.target == rec.owner; });
      if (!is_target) continue;
      if (auto addr = read_address(r, rec)) {
        answer.glue.push_back(Glue{rec.owner, *addr});
        lower_ttl(&answer, rec.ttl);
      }
    }
  }
  return answer;
}

std::optional<std::string> normalize_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return std::nullopt;
  std::string out;
  out.reserve(host.size());
  std::size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
      out.push_back(c);
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return std::nullopt;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace strowger::proxy::dns
