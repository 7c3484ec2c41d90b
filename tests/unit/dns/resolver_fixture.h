// Test fixture for Resolver tests: an event_base, a FakeClock, an in-test DNS server on
// 127.0.0.1 and a Resolver pointed at it; helpers to resolve and describe targets.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/dns/resolver.h"
#include "tests/unit/dns/fake_dns_server.h"
#include "tests/unit/dns/test_loop.h"

namespace strowger::proxy::dns::testing {

using Strings = std::vector<std::string>;

inline Strings describe(const std::vector<Target>& targets) {
  Strings out;
  for (const Target& t : targets) {
    out.push_back(std::string(transport::protocol_name(t.proto)) + " " + t.addr.to_string());
  }
  return out;
}

struct Outcome {
  bool called = false;
  bool returned = false;  // resolve() had returned when the callback ran
  bool sync = false;
  int calls = 0;
  Strings targets;
};

class ResolverTest : public ::testing::Test {
 protected:
  void make_resolver(Resolver::Options opts = {}) {
    if (opts.servers.empty()) opts.servers = {server_->address()};
    resolver_ = std::make_unique<Resolver>(base_.get(), clock_, std::move(opts));
    ASSERT_EQ(resolver_->error(), "");
  }
  void SetUp() override { make_resolver(fast()); }

  static Resolver::Options fast() {
    Resolver::Options o;
    o.timeout_ms = 1000;
    o.tries = 1;
    return o;
  }

  static sip::Uri uri(std::string_view text) {
    auto u = sip::Uri::parse(text);
    EXPECT_TRUE(u.has_value()) << text;
    return u.value_or(sip::Uri{});
  }

  // Starts a resolution; the outcome fills in when the callback runs.
  std::shared_ptr<Outcome> start(std::string_view text) {
    auto out = std::make_shared<Outcome>();
    resolver_->resolve(uri(text), [out](std::vector<Target> t) {
      out->called = true;
      out->sync = !out->returned;
      ++out->calls;
      out->targets = describe(t);
    });
    out->returned = true;
    return out;
  }

  Outcome resolve(std::string_view text, int guard_ms = 5000) {
    auto out = start(text);
    run_until(
        base_.get(), [&] { return out->called; }, guard_ms);
    return *out;
  }

  EventBasePtr base_{event_base_new()};
  common::FakeClock clock_;
  std::unique_ptr<FakeDnsServer> server_ = std::make_unique<FakeDnsServer>(base_.get());
  std::unique_ptr<Resolver> resolver_;
};

}  // namespace strowger::proxy::dns::testing
