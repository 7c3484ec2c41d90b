// Resolver tests for caching, TTLs, timeouts, coalescing, cancellation and destruction.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "tests/unit/dns/resolver_fixture.h"

namespace strowger::proxy::dns {
namespace {

using testing::describe;
using testing::FakeDnsServer;
using testing::Outcome;
using testing::ResolverTest;
using testing::Strings;

TEST_F(ResolverTest, NoAnswerTimesOutWithinConfiguredTime) {
  Resolver::Options o;
  o.timeout_ms = 300;
  o.tries = 1;
  make_resolver(o);
  server_->set_silent("silent.test");
  for (const char* text : {"sip:silent.test", "sip:silent.test:5060"}) {
    const auto t0 = std::chrono::steady_clock::now();
    Outcome out = resolve(text, 10000);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_TRUE(out.called) << text;
    EXPECT_TRUE(out.targets.empty()) << text;
    EXPECT_GE(ms, 250) << text;
    EXPECT_LT(ms, 2000) << text;
  }
  // Timeouts are not cached: the next resolve asks again.
  resolve("sip:silent.test", 10000);
  EXPECT_EQ(server_->queries("silent.test", FakeDnsServer::kNaptr), 2);
}

TEST_F(ResolverTest, MalformedResponseGivesEmpty) {
  server_->set_malformed("broken.test");
  Outcome o = resolve("sip:broken.test:5060");
  EXPECT_TRUE(o.called);
  EXPECT_TRUE(o.targets.empty());
}

TEST_F(ResolverTest, SecondResolveIsACacheHit) {
  server_->add_srv("_sip._udp.cached.test", 10, 0, 5060, "pbx.cached.test");
  server_->add_a("pbx.cached.test", "192.0.2.100");
  Outcome first = resolve("sip:cached.test");
  const int queries = server_->total_queries();
  Outcome second = resolve("sip:cached.test");
  EXPECT_TRUE(second.sync);
  EXPECT_EQ(second.targets, first.targets);
  EXPECT_EQ(second.targets, (Strings{"UDP 192.0.2.100:5060"}));
  EXPECT_EQ(server_->total_queries(), queries);
  EXPECT_GT(resolver_->cache_hits(), 0u);
}

TEST_F(ResolverTest, ExpiredEntriesAreAskedAgain) {
  server_->add_a("ttl.test", "192.0.2.110", 60);
  server_->add_aaaa("ttl.test", "2001:db8::110", 60);
  resolve("sip:ttl.test:5060");
  EXPECT_EQ(server_->queries("ttl.test", FakeDnsServer::kA), 1);
  clock_.advance(59'000);
  EXPECT_TRUE(resolve("sip:ttl.test:5060").sync);
  EXPECT_EQ(server_->queries("ttl.test", FakeDnsServer::kA), 1);
  clock_.advance(2'000);
  Outcome o = resolve("sip:ttl.test:5060");
  EXPECT_FALSE(o.sync);
  EXPECT_EQ(o.targets, (Strings{"UDP 192.0.2.110:5060", "UDP [2001:db8::110]:5060"}));
  EXPECT_EQ(server_->queries("ttl.test", FakeDnsServer::kA), 2);
}

TEST_F(ResolverTest, TtlIsCappedByOption) {
  Resolver::Options o = fast();
  o.max_cache_ttl_s = 100;
  make_resolver(o);
  server_->add_a("long.test", "192.0.2.120", 86400);
  server_->add_aaaa("long.test", "2001:db8::120", 86400);
  resolve("sip:long.test:5060");
  clock_.advance(99'000);
  EXPECT_TRUE(resolve("sip:long.test:5060").sync);
  EXPECT_EQ(server_->queries("long.test", FakeDnsServer::kA), 1);
  clock_.advance(2'000);
  EXPECT_FALSE(resolve("sip:long.test:5060").sync);
  EXPECT_EQ(server_->queries("long.test", FakeDnsServer::kA), 2);
}

TEST_F(ResolverTest, NegativeAnswersAreCachedBriefly) {
  server_->set_negative_ttl(10);  // SOA minimum below the 30 s cap
  server_->set_nxdomain("gone.test");
  resolve("sip:gone.test");
  clock_.advance(9'000);
  EXPECT_TRUE(resolve("sip:gone.test").sync);
  EXPECT_EQ(server_->queries("gone.test", FakeDnsServer::kNaptr), 1);
  clock_.advance(2'000);
  resolve("sip:gone.test");
  EXPECT_EQ(server_->queries("gone.test", FakeDnsServer::kNaptr), 2);

  server_->set_negative_ttl(3600);  // capped at negative_ttl_s (30)
  server_->set_nxdomain("gone2.test");
  resolve("sip:gone2.test");
  clock_.advance(29'000);
  resolve("sip:gone2.test");
  EXPECT_EQ(server_->queries("gone2.test", FakeDnsServer::kNaptr), 1);
  clock_.advance(2'000);
  resolve("sip:gone2.test");
  EXPECT_EQ(server_->queries("gone2.test", FakeDnsServer::kNaptr), 2);
}

TEST_F(ResolverTest, ConcurrentLookupsShareQueries) {
  server_->add_srv("_sip._udp.busy.test", 10, 0, 5060, "pbx.busy.test");
  server_->add_a("pbx.busy.test", "192.0.2.130");
  std::vector<std::shared_ptr<Outcome>> outs;
  for (int i = 0; i < 5; ++i) outs.push_back(start("sip:busy.test"));
  testing::run_until(
      base_.get(),
      [&] { return std::all_of(outs.begin(), outs.end(), [](auto& o) { return o->called; }); },
      5000);
  for (auto& o : outs) {
    EXPECT_EQ(o->calls, 1);
    EXPECT_EQ(o->targets, (Strings{"UDP 192.0.2.130:5060"}));
  }
  EXPECT_EQ(server_->queries("busy.test", FakeDnsServer::kNaptr), 1);
  EXPECT_EQ(server_->queries("_sip._udp.busy.test", FakeDnsServer::kSrv), 1);
  EXPECT_EQ(server_->queries("pbx.busy.test", FakeDnsServer::kA), 1);
  EXPECT_GT(resolver_->stats().coalesced, 0u);
}

TEST_F(ResolverTest, CancelledResolutionNeverCallsBack) {
  server_->add_a("slow.test", "192.0.2.140");
  bool called = false;
  const std::uint64_t id =
      resolver_->resolve(uri("sip:slow.test:5060"), [&](auto) { called = true; });
  ASSERT_NE(id, 0u);
  resolver_->cancel(id);
  EXPECT_EQ(resolver_->pending(), 0u);
  testing::run_until(
      base_.get(), [&] { return server_->total_queries() == 2; }, 2000);
  // The answer still arrives and fills the cache for the next one.
  testing::run_until(
      base_.get(), [&] { return resolver_->cache_size() >= 3; }, 2000);
  EXPECT_FALSE(called);
  EXPECT_TRUE(resolve("sip:slow.test:5060").sync);
}

TEST_F(ResolverTest, DestroyedResolverDropsCallbacks) {
  server_->add_a("late.test", "192.0.2.150");
  bool called = false;
  resolver_->resolve(uri("sip:late.test:5060"), [&](auto) { called = true; });
  resolver_.reset();
  // Let the server answer the queries that were sent; nothing may fire.
  testing::run_until(
      base_.get(), [&] { return server_->total_queries() == 2; }, 2000);
  bool slept = false;
  testing::run_until(
      base_.get(), [&] { return slept; }, 100);
  EXPECT_FALSE(called);
}

TEST_F(ResolverTest, CallbackMayDestroyTheResolver) {
  server_->add_a("shared.test", "192.0.2.160");
  int calls = 0;
  for (int i = 0; i < 3; ++i) {
    resolver_->resolve(uri("sip:shared.test:5060"), [&](auto targets) {
      ++calls;
      EXPECT_FALSE(targets.empty());
      resolver_.reset();  // the worker shuts down from inside a callback
    });
  }
  testing::run_until(
      base_.get(), [&] { return calls > 0; }, 2000);
  bool slept = false;
  testing::run_until(
      base_.get(), [&] { return slept; }, 100);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(resolver_, nullptr);
}

TEST_F(ResolverTest, CallbackMayResolveAgain) {
  server_->add_a("again.test", "192.0.2.170");
  Strings inner;
  bool done = false;
  resolver_->resolve(uri("sip:again.test:5060"), [&](auto) {
    resolver_->resolve(uri("sip:again.test:5061"), [&](std::vector<Target> t) {
      inner = describe(t);
      done = true;
    });
  });
  testing::run_until(
      base_.get(), [&] { return done; }, 2000);
  EXPECT_EQ(inner, (Strings{"UDP 192.0.2.170:5061"}));
}

TEST(ResolverSetup, BadServerIsReportedAndOnlyLiteralsResolve) {
  testing::EventBasePtr base(event_base_new());
  common::FakeClock clock;
  Resolver::Options o;
  o.servers = {"not-an-address"};
  Resolver r(base.get(), clock, o);
  EXPECT_NE(r.error(), "");
  std::vector<Target> got{Target{}};
  r.resolve(*sip::Uri::parse("sip:host.test:5060"), [&](auto t) { got = std::move(t); });
  EXPECT_TRUE(got.empty());
  r.resolve(*sip::Uri::parse("sip:192.0.2.1"), [&](auto t) { got = std::move(t); });
  EXPECT_EQ(describe(got), (Strings{"UDP 192.0.2.1:5060"}));
}

}  // namespace
}  // namespace strowger::proxy::dns
