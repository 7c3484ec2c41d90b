// Resolver implementation: URI -> (transport, port, host) per RFC 3263 4.1/4.2, then the
// NAPTR -> SRV -> A/AAAA chain over the cache and shared queries.
#include "proxy/dns/resolver.h"

#include <algorithm>

#include "common/log.h"
#include "proxy/dns/cares_channel.h"

namespace strowger::proxy::dns {
namespace {

using transport::Address;
using transport::Protocol;

constexpr std::uint32_t kHostsTtlS = 30;
constexpr std::size_t kMaxHops = 16;     // SRV targets tried per resolution
constexpr std::size_t kMaxTargets = 32;  // addresses handed back

std::uint16_t default_port(Protocol p) {
  return p == Protocol::kTls || p == Protocol::kWss ? 5061 : 5060;
}

std::string strip_brackets(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// "localhost" and its subdomains are loopback (RFC 6761 6.3) even when the hosts file says
// nothing, and are never sent to a DNS server.
bool is_localhost(std::string_view name) {
  return name == "localhost" || (name.size() > 10 && name.ends_with(".localhost"));
}

}  // namespace

struct Resolver::Hop {
  std::string name;
  std::uint16_t port = 0;
  Protocol proto = Protocol::kUdp;
  std::vector<Address> glue;  // addresses the SRV answer carried; no lookup needed then
};

struct Resolver::Resolution {
  struct Addresses {
    AnswerPtr hosts, a, aaaa;
  };

  std::uint64_t id = 0;
  Callback cb;
  std::string host;  // the TARGET of RFC 3263 (maddr or host), normalized
  bool sips = false;
  std::optional<Protocol> proto;  // from the transport parameter
  std::uint16_t port = 0;         // 0: none in the URI
  int outstanding = 0;            // lookups of the current stage not answered yet
  std::vector<SrvService> services;
  std::vector<AnswerPtr> srv_answers;
  std::vector<Hop> hops;
  std::unordered_map<std::string, Addresses> addresses;

  Protocol default_proto() const { return proto.value_or(sips ? Protocol::kTls : Protocol::kUdp); }
};

Resolver::Resolver(event_base* base, const common::Clock& clock, Options opts)
    : cache_(clock, Cache::Limits{static_cast<std::uint32_t>(std::max(0, opts.max_cache_ttl_s)),
                                  static_cast<std::uint32_t>(std::max(0, opts.negative_ttl_s)),
                                  opts.max_cache_entries}),
      rng_(std::random_device{}()) {
  CaresChannel::Options co{std::move(opts.servers), opts.timeout_ms, opts.tries};
  channel_ = CaresChannel::create(base, co, &error_);
  if (!channel_) LOG_ERROR("dns: %s; only IP addresses and localhost will resolve", error_.c_str());
}

Resolver::~Resolver() {
  *alive_ = false;
  channel_.reset();  // drops the queries' callbacks first: they point into this object
  resolutions_.clear();
  in_flight_.clear();
}

std::uint64_t Resolver::resolve(const sip::Uri& uri, Callback cb) {
  ++stats_.resolves;
  auto fail = [&] {
    ++stats_.failures;
    cb({});
    return std::uint64_t{0};
  };
  if (!uri.is_sip()) return fail();
  auto r = std::make_unique<Resolution>();
  r->sips = uri.scheme == "sips";
  std::string host = uri.host_bare();
  if (auto maddr = uri.param("maddr"); maddr && !maddr->empty()) host = strip_brackets(*maddr);
  if (auto t = uri.param("transport")) {
    auto p = transport::protocol_from_name(*t);
    if (!p) return fail();  // a transport we do not speak (sctp, ...)
    if (r->sips) {
      // SIPS means TLS all the way (RFC 3261 26.2.2): UDP cannot carry it.
      if (*p == Protocol::kUdp) return fail();
      if (*p == Protocol::kTcp) p = Protocol::kTls;
      if (*p == Protocol::kWs) p = Protocol::kWss;
    }
    r->proto = p;
  }
  r->port = uri.port;

  if (auto literal =
          Address::from_ip_port(host, r->port ? r->port : default_port(r->default_proto()))) {
    cb({Target{r->default_proto(), *literal}});
    return 0;
  }
  auto name = normalize_name(host);
  if (!name) return fail();
  r->host = std::move(*name);
  r->id = next_id_++;
  r->cb = std::move(cb);
  const std::uint64_t id = r->id;
  Resolution& ref = *r;
  resolutions_.emplace(id, std::move(r));
  const std::shared_ptr<bool> alive = alive_;
  start(ref);
  if (!*alive) return 0;
  return resolutions_.contains(id) ? id : 0;
}

void Resolver::cancel(std::uint64_t id) {
  resolutions_.erase(id);
}

Resolver::Resolution* Resolver::find(std::uint64_t id) {
  auto it = resolutions_.find(id);
  return it == resolutions_.end() ? nullptr : it->second.get();
}

void Resolver::start(Resolution& r) {
  // Like c-ares' "fb" lookup order: a name the hosts file knows is not asked of DNS at all.
  const bool in_hosts = hosts_lookup(r.host)->status == AnswerStatus::kOk;
  if (r.port != 0 || in_hosts) {
    // RFC 3263 4.2: with a port, no SRV; the transport is the URI's or the default.
    const Protocol p = r.default_proto();
    lookup_hops(r, {Hop{r.host, r.port ? r.port : default_port(p), p, {}}});
    return;
  }
  if (r.proto) {
    if (auto service = srv_service_for(r.host, *r.proto, r.sips)) {
      lookup_srv(r, {std::move(*service)});
    } else {
      lookup_hops(r, {Hop{r.host, default_port(*r.proto), *r.proto, {}}});
    }
    return;
  }
  lookup_naptr(r);
}

void Resolver::lookup_naptr(Resolution& r) {
  const std::uint64_t id = r.id;
  lookup(r.host, RrType::kNaptr, [this, id](const AnswerPtr& a) {
    Resolution* r = find(id);
    if (!r) return;
    // No server answers, or the domain does not exist: SRV and A for it cannot do better.
    if (a->status == AnswerStatus::kTimeout || a->status == AnswerStatus::kNxDomain) {
      finish(*r, {});
      return;
    }
    std::vector<SrvService> services;
    if (a->status == AnswerStatus::kOk) services = select_naptr(a->naptr, r->sips);
    if (services.empty()) services = default_srv_services(r->host, r->sips);
    lookup_srv(*r, std::move(services));
  });
}

void Resolver::lookup_srv(Resolution& r, std::vector<SrvService> services) {
  r.services = std::move(services);
  r.srv_answers.assign(r.services.size(), nullptr);
  // One extra count while queries are being issued: answers from the cache arrive at once.
  r.outstanding = static_cast<int>(r.services.size()) + 1;
  const std::uint64_t id = r.id;
  for (std::size_t i = 0; i < r.services.size(); ++i) {
    lookup(r.services[i].name, RrType::kSrv, [this, id, i](const AnswerPtr& a) {
      Resolution* r = find(id);
      if (!r) return;
      r->srv_answers[i] = a;
      if (--r->outstanding == 0) on_srv_done(*r);
    });
  }
  if (--r.outstanding == 0) on_srv_done(r);
}

void Resolver::on_srv_done(Resolution& r) {
  std::vector<Hop> hops;
  bool answered = false;
  for (std::size_t i = 0; i < r.services.size(); ++i) {
    const AnswerPtr& a = r.srv_answers[i];
    if (!a || a->status == AnswerStatus::kTimeout) continue;
    answered = true;
    if (a->status != AnswerStatus::kOk) continue;
    for (SrvRecord& srv : order_srv(a->srv, rng_)) {
      if (srv.port == 0 || hops.size() >= kMaxHops) continue;
      Hop hop{srv.target, srv.port, r.services[i].proto, {}};
      for (const Glue& g : a->glue) {
        if (g.name == srv.target) hop.glue.push_back(g.addr);
      }
      // RFC 2782 wants a name here, but IP literals are published; asking DNS for one fails.
      if (auto literal = Address::from_ip_port(srv.target, 0)) hop.glue = {*literal};
      hops.push_back(std::move(hop));
    }
  }
  if (!hops.empty()) {
    lookup_hops(r, std::move(hops));
    return;
  }
  if (!answered) {
    finish(r, {});
    return;
  }
  // No SRV: RFC 3263 4.2 falls back to A/AAAA of the domain on the default port.
  const Protocol p = r.default_proto();
  lookup_hops(r, {Hop{r.host, default_port(p), p, {}}});
}

void Resolver::lookup_hops(Resolution& r, std::vector<Hop> hops) {
  r.hops = std::move(hops);
  r.addresses.clear();
  r.outstanding = 1;
  const std::uint64_t id = r.id;
  for (const Hop& hop : r.hops) {
    if (!hop.glue.empty() || r.addresses.contains(hop.name)) continue;
    Resolution::Addresses& addrs = r.addresses[hop.name];
    addrs.hosts = hosts_lookup(hop.name);
    if (addrs.hosts->status == AnswerStatus::kOk) continue;
    r.outstanding += 2;
    for (RrType type : {RrType::kA, RrType::kAaaa}) {
      lookup(hop.name, type, [this, id, type, name = hop.name](const AnswerPtr& a) {
        Resolution* r = find(id);
        if (!r) return;
        Resolution::Addresses& addrs = r->addresses[name];
        (type == RrType::kA ? addrs.a : addrs.aaaa) = a;
        if (--r->outstanding == 0) on_hops_done(*r);
      });
    }
  }
  if (--r.outstanding == 0) on_hops_done(r);
}

void Resolver::on_hops_done(Resolution& r) {
  std::vector<Target> targets;
  std::vector<Address> addrs;
  for (const Hop& hop : r.hops) {
    addrs = hop.glue;
    if (addrs.empty()) {
      const Resolution::Addresses& found = r.addresses[hop.name];
      for (const AnswerPtr& a : {found.hosts, found.a, found.aaaa}) {
        if (a && a->status == AnswerStatus::kOk) {
          addrs.insert(addrs.end(), a->addresses.begin(), a->addresses.end());
        }
      }
    }
    std::stable_partition(addrs.begin(), addrs.end(),
                          [](const Address& a) { return a.family() == AF_INET; });
    for (Address& addr : addrs) {
      addr.set_port(hop.port);
      const bool dup = std::any_of(targets.begin(), targets.end(), [&](const Target& t) {
        return t.proto == hop.proto && t.addr == addr;
      });
      if (!dup && targets.size() < kMaxTargets) targets.push_back(Target{hop.proto, addr});
    }
  }
  finish(r, std::move(targets));
}

void Resolver::finish(Resolution& r, std::vector<Target> targets) {
  Callback cb = std::move(r.cb);
  if (targets.empty()) ++stats_.failures;
  resolutions_.erase(r.id);
  cb(std::move(targets));  // last: it may destroy this Resolver
}

AnswerPtr Resolver::hosts_lookup(const std::string& name) {
  if (AnswerPtr cached = cache_.find(name, RrType::kHostsFile)) return cached;
  auto answer = std::make_shared<Answer>();
  if (channel_) {
    answer->addresses = channel_->hosts_lookup(name, AF_INET);
    auto v6 = channel_->hosts_lookup(name, AF_INET6);
    answer->addresses.insert(answer->addresses.end(), v6.begin(), v6.end());
  }
  if (answer->addresses.empty() && is_localhost(name)) {
    answer->addresses.push_back(*Address::from_ip_port("127.0.0.1", 0));
    answer->addresses.push_back(*Address::from_ip_port("::1", 0));
  }
  answer->status = answer->addresses.empty() ? AnswerStatus::kNoData : AnswerStatus::kOk;
  answer->ttl_s = kHostsTtlS;
  cache_.put(name, RrType::kHostsFile, answer);
  return answer;
}

void Resolver::lookup(const std::string& name, RrType type, AnswerCallback done) {
  if (AnswerPtr cached = cache_.find(name, type)) {
    ++stats_.cache_hits;
    done(cached);
    return;
  }
  std::string key = std::to_string(static_cast<unsigned>(type)) + '/' + name;
  auto [it, inserted] = in_flight_.try_emplace(key);
  it->second.push_back(std::move(done));
  if (!inserted) {
    ++stats_.coalesced;
    return;
  }
  // Names from NAPTR/SRV data may hold any byte; never hand c-ares one that is not a host name.
  if (!channel_ || normalize_name(name) != name) {
    auto failed = std::make_shared<Answer>();
    failed->status = AnswerStatus::kServerFailure;
    on_query_done(key, name, type, std::move(failed));
    return;
  }
  ++stats_.queries;
  LOG_DEBUG("dns: query %s %s", std::string(rr_type_name(type)).c_str(), name.c_str());
  channel_->query(name, static_cast<std::uint16_t>(type),
                  [this, key, name, type](CaresChannel::Outcome outcome,
                                          std::span<const std::uint8_t> response) {
                    auto a = std::make_shared<Answer>();
                    switch (outcome) {
                      case CaresChannel::Outcome::kResponse:
                        *a = parse_answer(response, name, type);
                        break;
                      case CaresChannel::Outcome::kTimeout:
                        a->status = AnswerStatus::kTimeout;
                        break;
                      case CaresChannel::Outcome::kServerFailure:
                        a->status = AnswerStatus::kServerFailure;
                        break;
                    }
                    on_query_done(key, name, type, std::move(a));
                  });
}

void Resolver::on_query_done(const std::string& key, const std::string& name, RrType type,
                             AnswerPtr a) {
  cache_.put(name, type, a);
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  std::vector<AnswerCallback> waiters = std::move(it->second);
  in_flight_.erase(it);
  const std::shared_ptr<bool> alive = alive_;
  for (AnswerCallback& w : waiters) {
    w(a);
    if (!*alive) return;  // a resolve callback destroyed us
  }
}

}  // namespace strowger::proxy::dns
