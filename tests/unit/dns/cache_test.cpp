// Cache tests: TTL expiry on a fake clock, caps, negative answers, failures, size bound.
#include "proxy/dns/cache.h"

#include <gtest/gtest.h>

namespace strowger::proxy::dns {
namespace {

AnswerPtr answer(AnswerStatus status, std::optional<std::uint32_t> ttl) {
  auto a = std::make_shared<Answer>();
  a->status = status;
  a->ttl_s = ttl;
  return a;
}

TEST(Cache, ExpiresAfterTtl) {
  common::FakeClock clock;
  Cache cache(clock, {});
  cache.put("a.test", RrType::kA, answer(AnswerStatus::kOk, 10));
  EXPECT_NE(cache.find("a.test", RrType::kA), nullptr);
  EXPECT_EQ(cache.find("a.test", RrType::kAaaa), nullptr);
  EXPECT_EQ(cache.find("b.test", RrType::kA), nullptr);
  clock.advance(9'999);
  EXPECT_NE(cache.find("a.test", RrType::kA), nullptr);
  clock.advance(1);
  EXPECT_EQ(cache.find("a.test", RrType::kA), nullptr);
}

TEST(Cache, LifetimeCapsAndDefaults) {
  common::FakeClock clock;
  Cache cache(clock, {100, 30, 10});
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kOk, 5000)), 100u);
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kOk, 0)), 0u);
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kNxDomain, 5000)), 30u);
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kNoData, 7)), 7u);
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kNoData, std::nullopt)), 30u);
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kTimeout, 100)), 0u);
  EXPECT_EQ(cache.lifetime_s(*answer(AnswerStatus::kServerFailure, 100)), 0u);
}

TEST(Cache, UncacheableAnswerRemovesStaleEntry) {
  common::FakeClock clock;
  Cache cache(clock, {});
  cache.put("a.test", RrType::kA, answer(AnswerStatus::kOk, 100));
  cache.put("a.test", RrType::kA, answer(AnswerStatus::kOk, 0));
  EXPECT_EQ(cache.find("a.test", RrType::kA), nullptr);
  cache.put("a.test", RrType::kA, answer(AnswerStatus::kTimeout, std::nullopt));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(Cache, SizeIsBounded) {
  common::FakeClock clock;
  Cache cache(clock, {300, 30, 100});
  for (int i = 0; i < 1000; ++i) {
    cache.put("n" + std::to_string(i) + ".test", RrType::kA, answer(AnswerStatus::kOk, 60));
    ASSERT_LE(cache.size(), 100u);
  }
  // The newest entry is always kept.
  EXPECT_NE(cache.find("n999.test", RrType::kA), nullptr);
}

TEST(Cache, ExpiredEntriesGoFirstWhenFull) {
  common::FakeClock clock;
  Cache cache(clock, {300, 30, 10});
  for (int i = 0; i < 5; ++i)
    cache.put("old" + std::to_string(i), RrType::kA, answer(AnswerStatus::kOk, 1));
  for (int i = 0; i < 5; ++i)
    cache.put("new" + std::to_string(i), RrType::kA, answer(AnswerStatus::kOk, 60));
  clock.advance(2'000);
  cache.put("extra", RrType::kA, answer(AnswerStatus::kOk, 60));
  EXPECT_EQ(cache.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_NE(cache.find("new" + std::to_string(i), RrType::kA), nullptr);
}

TEST(Cache, ZeroEntriesMeansNoCache) {
  common::FakeClock clock;
  Cache cache(clock, {300, 30, 0});
  cache.put("a", RrType::kA, answer(AnswerStatus::kOk, 60));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace strowger::proxy::dns
