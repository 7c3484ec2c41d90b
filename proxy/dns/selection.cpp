// NAPTR/SRV selection rules of RFC 3263 4.1 and the RFC 2782 weighted ordering.
#include "proxy/dns/selection.h"

#include <algorithm>

namespace strowger::proxy::dns {
namespace {

using transport::Protocol;

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

std::optional<Protocol> naptr_protocol(std::string_view service, bool sips_only) {
  if (iequals(service, "SIPS+D2T")) return Protocol::kTls;
  if (sips_only) return std::nullopt;
  if (iequals(service, "SIP+D2U")) return Protocol::kUdp;
  if (iequals(service, "SIP+D2T")) return Protocol::kTcp;
  return std::nullopt;
}

}  // namespace

std::vector<SrvService> select_naptr(const std::vector<NaptrRecord>& records, bool sips_only) {
  std::vector<const NaptrRecord*> usable;
  for (const NaptrRecord& r : records) {
    // Only terminal "s" records: SIP NAPTRs name an SRV; we do not rewrite with regexps.
    if (!iequals(r.flags, "s") || r.replacement.empty()) continue;
    if (!naptr_protocol(r.service, sips_only)) continue;
    usable.push_back(&r);
  }
  std::stable_sort(usable.begin(), usable.end(), [](const NaptrRecord* a, const NaptrRecord* b) {
    return a->order != b->order ? a->order < b->order : a->preference < b->preference;
  });
  std::vector<SrvService> out;
  for (const NaptrRecord* r : usable) {
    SrvService s{r->replacement, *naptr_protocol(r->service, sips_only)};
    const bool seen = std::any_of(out.begin(), out.end(), [&](const SrvService& o) {
      return o.name == s.name && o.proto == s.proto;
    });
    if (!seen) out.push_back(std::move(s));
  }
  return out;
}

std::vector<SrvService> default_srv_services(std::string_view domain, bool sips_only) {
  const std::string d(domain);
  if (sips_only) return {{"_sips._tcp." + d, Protocol::kTls}};
  return {{"_sip._udp." + d, Protocol::kUdp},
          {"_sip._tcp." + d, Protocol::kTcp},
          {"_sips._tcp." + d, Protocol::kTls}};
}

std::optional<SrvService> srv_service_for(std::string_view domain, Protocol proto, bool sips) {
  const std::string d(domain);
  switch (proto) {
    case Protocol::kUdp:
      return SrvService{"_sip._udp." + d, Protocol::kUdp};
    case Protocol::kTcp:
      if (sips) return SrvService{"_sips._tcp." + d, Protocol::kTls};
      return SrvService{"_sip._tcp." + d, Protocol::kTcp};
    case Protocol::kTls:
      return SrvService{"_sips._tcp." + d, Protocol::kTls};
    case Protocol::kWs:
    case Protocol::kWss:
      return std::nullopt;
  }
  return std::nullopt;
}

std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, std::mt19937& rng) {
  std::erase_if(records, [](const SrvRecord& r) { return r.target.empty(); });
  std::stable_sort(records.begin(), records.end(),
                   [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
  std::vector<SrvRecord> out;
  out.reserve(records.size());
  auto group = records.begin();
  while (group != records.end()) {
    auto group_end = std::find_if(
        group, records.end(), [&](const SrvRecord& r) { return r.priority != group->priority; });
    // RFC 2782: zero-weight records first, so they get a small chance to be picked early.
    std::vector<SrvRecord> pool(std::make_move_iterator(group), std::make_move_iterator(group_end));
    std::stable_partition(pool.begin(), pool.end(),
                          [](const SrvRecord& r) { return r.weight == 0; });
    while (!pool.empty()) {
      std::uint32_t sum = 0;
      for (const SrvRecord& r : pool) sum += r.weight;
      const std::uint32_t pick = std::uniform_int_distribution<std::uint32_t>(0, sum)(rng);
      std::uint32_t running = 0;
      auto chosen = pool.begin();
      for (auto it = pool.begin(); it != pool.end(); ++it) {
        running += it->weight;
        if (running >= pick) {
          chosen = it;
          break;
        }
      }
      out.push_back(std::move(*chosen));
      pool.erase(chosen);
    }
    group = group_end;
  }
  return out;
}

}  // namespace strowger::proxy::dns
