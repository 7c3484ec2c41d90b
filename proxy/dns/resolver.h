// Resolver: RFC 3263 next-hop resolution of SIP/SIPS URIs (NAPTR -> SRV -> A/AAAA) on one
// worker's libevent base, asynchronous (c-ares), with a TTL cache and shared in-flight queries.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/timer_heap.h"
#include "proxy/dns/answer.h"
#include "proxy/dns/cache.h"
#include "proxy/dns/selection.h"
#include "proxy/sip/uri.h"
#include "proxy/transport/address.h"

struct event_base;

namespace strowger::proxy::dns {

class CaresChannel;

struct Target {
  transport::Protocol proto;
  transport::Address addr;
};

class Resolver {
 public:
  struct Options {
    std::vector<std::string> servers;  // "ip:port" ("[v6]:port"); empty = system resolv.conf
    int max_cache_ttl_s = 300;
    int negative_ttl_s = 30;  // NXDOMAIN/NODATA kept for the SOA's TTL, at most this (or this)
    int timeout_ms = 2000;    // per query and server, first try; c-ares doubles it on retries
    int tries = 2;
    std::size_t max_cache_entries = 10000;
  };
  struct Stats {
    std::uint64_t resolves = 0;    // resolve() calls
    std::uint64_t queries = 0;     // DNS queries sent
    std::uint64_t cache_hits = 0;  // lookups answered from the cache (hosts file included)
    std::uint64_t coalesced = 0;   // lookups that joined a query already in flight
    std::uint64_t failures = 0;    // resolve() calls answered with no target
  };
  // The targets to try, in order; empty when the URI cannot be resolved.
  using Callback = std::function<void(std::vector<Target>)>;

  // base and clock must outlive the Resolver; everything runs on base's thread.
  Resolver(event_base* base, const common::Clock& clock, Options opts);
  // Pending callbacks are dropped, never called.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Empty when DNS is usable; else why not (IP literals and the hosts file still resolve).
  const std::string& error() const { return error_; }

  // RFC 3263 section 4: picks transport and port, resolves addresses, and calls cb exactly once.
  // cb runs synchronously (before resolve returns) when no query is needed (IP literal, cache or
  // hosts-file hit); then resolve returns 0. Else it returns an id for cancel(). cb may call
  // resolve() or destroy the Resolver.
  std::uint64_t resolve(const sip::Uri& uri, Callback cb);
  // Drops a pending resolution: its callback will not run. Unknown ids are ignored.
  void cancel(std::uint64_t id);

  std::uint64_t queries() const { return stats_.queries; }
  std::uint64_t cache_hits() const { return stats_.cache_hits; }
  const Stats& stats() const { return stats_; }
  std::size_t pending() const { return resolutions_.size(); }
  std::size_t cache_size() const { return cache_.size(); }

 private:
  struct Resolution;
  struct Hop;
  using AnswerCallback = std::function<void(const AnswerPtr&)>;

  // Answers (name, type) from the cache, or by a query shared with every concurrent asker.
  // done may run before lookup returns.
  void lookup(const std::string& name, RrType type, AnswerCallback done);
  void on_query_done(const std::string& key, const std::string& name, RrType type, AnswerPtr a);
  AnswerPtr hosts_lookup(const std::string& name);

  void start(Resolution& r);
  void lookup_naptr(Resolution& r);
  void lookup_srv(Resolution& r, std::vector<SrvService> services);
  void on_srv_done(Resolution& r);
  void lookup_hops(Resolution& r, std::vector<Hop> hops);
  void on_hops_done(Resolution& r);
  void finish(Resolution& r, std::vector<Target> targets);
  Resolution* find(std::uint64_t id);

  std::string error_;
  std::unique_ptr<CaresChannel> channel_;
  Cache cache_;
  std::unordered_map<std::string, std::vector<AnswerCallback>> in_flight_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Resolution>> resolutions_;
  std::uint64_t next_id_ = 1;
  std::mt19937 rng_;
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace strowger::proxy::dns
