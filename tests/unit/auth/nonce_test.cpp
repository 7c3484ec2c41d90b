// Nonce signing (tampering, other secret) and the nonce-count table (replay, eviction).
#include "modules/auth/nonce.h"

#include <gtest/gtest.h>

namespace strowger::modules::auth {
namespace {

TEST(Nonce, RoundTripAndTampering) {
  NonceCodec codec("secret-1");
  NonceFields f{1700000000, 42, 0xdeadbeef};
  std::string n = codec.make(f);
  EXPECT_EQ(n.size(), 72u);
  auto back = codec.verify(n);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_s, 1700000000);
  EXPECT_EQ(back->serial, 42u);
  EXPECT_EQ(back->tag, 0xdeadbeefu);
  // Every single-character change is caught (time, serial, tag or MAC).
  for (std::size_t i = 0; i < n.size(); ++i) {
    std::string t = n;
    t[i] = t[i] == '0' ? '1' : '0';
    EXPECT_FALSE(codec.verify(t)) << i;
  }
  EXPECT_FALSE(NonceCodec("secret-2").verify(n));
  EXPECT_FALSE(codec.verify(n.substr(1)));
  EXPECT_FALSE(codec.verify(""));
  EXPECT_FALSE(codec.verify(std::string(72, 'z')));
}

TEST(NonceCount, RefusesAReusedCount) {
  NonceCountTable t(4);
  NonceFields n{0, t.issue(7), 7};
  EXPECT_EQ(t.use(n, 1), NonceCountTable::Check::kOk);
  EXPECT_EQ(t.use(n, 1), NonceCountTable::Check::kReused);
  EXPECT_EQ(t.use(n, 2), NonceCountTable::Check::kOk);
  EXPECT_EQ(t.use(n, 1), NonceCountTable::Check::kReused);
  EXPECT_EQ(t.use(n, 5), NonceCountTable::Check::kOk);
  EXPECT_EQ(t.use(n, 4), NonceCountTable::Check::kReused);
  EXPECT_EQ(t.use(n, 0), NonceCountTable::Check::kReused);
}

TEST(NonceCount, WithoutQopANonceIsGoodOnce) {
  NonceCountTable t(4);
  NonceFields n{0, t.issue(1), 1};
  EXPECT_EQ(t.use_once(n), NonceCountTable::Check::kOk);
  EXPECT_EQ(t.use_once(n), NonceCountTable::Check::kReused);
  EXPECT_EQ(t.use(n, 2), NonceCountTable::Check::kReused);
}

TEST(NonceCount, OldNoncesAreForgottenNeverAccepted) {
  NonceCountTable t(2);  // 4 slots
  NonceFields first{0, t.issue(9), 9};
  for (int i = 0; i < 4; ++i) t.issue(10);  // wraps onto first's slot
  EXPECT_EQ(t.use(first, 1), NonceCountTable::Check::kUnknown);
  // A nonce we never issued (serial not in its slot, or another tag) is unknown.
  EXPECT_EQ(t.use(NonceFields{0, 1000, 9}, 1), NonceCountTable::Check::kUnknown);
  NonceFields fresh{0, t.issue(11), 11};
  EXPECT_EQ(t.use(NonceFields{0, fresh.serial, 12}, 1), NonceCountTable::Check::kUnknown);
  EXPECT_EQ(t.use(fresh, 1), NonceCountTable::Check::kOk);
}

}  // namespace
}  // namespace strowger::modules::auth
