// Unit tests for forking response selection (RFC 3261 16.7 step 6): response_rank and
// ResponseContext::offer_final, and the branch bookkeeping of ResponseContext.
#include "proxy/core/response_context.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace strowger::proxy::core {
namespace {

sip::Message response(int status) {
  std::string t = "SIP/2.0 " + std::to_string(status) + " Whatever\r\n";
  t += "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n";
  t += "From: <sip:alice@example.com>;tag=a\r\n";
  t += "To: <sip:bob@example.com>;tag=b\r\n";
  t += "Call-ID: c1\r\n";
  t += "CSeq: 1 INVITE\r\n";
  t += "Content-Length: 0\r\n\r\n";
  auto m = sip::Message::parse(t);
  EXPECT_TRUE(m.ok());
  return std::move(m.value());
}

// The status ResponseContext picks from these finals, offered in this order (all received).
int best_of(std::initializer_list<int> statuses) {
  ResponseContext ctx(nullptr);
  for (int s : statuses) ctx.offer_final(s, response(s));
  return ctx.best_status();
}

// Both orders, so the answer cannot depend on which branch answered first.
int best_of_pair(int a, int b) {
  int ab = best_of({a, b});
  int ba = best_of({b, a});
  EXPECT_EQ(ab, ba) << a << " vs " << b;
  return ab;
}

TEST(ResponseRank, SixHundredBeatsEverything) {
  for (int other : {300, 302, 401, 404, 407, 408, 486, 487, 500, 503, 580}) {
    EXPECT_LT(response_rank(603), response_rank(other)) << other;
    EXPECT_LT(response_rank(600), response_rank(other)) << other;
    EXPECT_LT(response_rank(699), response_rank(other)) << other;
    EXPECT_EQ(best_of_pair(603, other), 603);
  }
}

TEST(ResponseRank, LowestClassWinsAmong3xxTo5xx) {
  EXPECT_EQ(best_of_pair(302, 404), 302);
  EXPECT_EQ(best_of_pair(399, 401), 399);
  EXPECT_EQ(best_of_pair(302, 500), 302);
  EXPECT_EQ(best_of_pair(486, 500), 486);
  EXPECT_EQ(best_of_pair(499, 500), 499);
  EXPECT_EQ(best_of_pair(404, 599), 404);
  // 408 and 503 are least preferred within their class, not across classes.
  EXPECT_EQ(best_of_pair(408, 500), 408);
  EXPECT_EQ(best_of_pair(408, 503), 408);
  EXPECT_EQ(best_of_pair(302, 408), 302);
  EXPECT_EQ(best_of_pair(503, 603), 603);
  EXPECT_EQ(best_of({503, 408, 500, 404, 302}), 302);
  EXPECT_EQ(best_of({503, 408, 500, 404}), 404);
}

TEST(ResponseRank, ActionableFourHundredsArePreferred) {
  for (int good : {401, 407, 415, 420, 484}) {
    for (int plain : {400, 403, 404, 480, 486, 487, 488}) {
      EXPECT_LT(response_rank(good), response_rank(plain)) << good << " vs " << plain;
      EXPECT_EQ(best_of_pair(good, plain), good);
    }
    EXPECT_EQ(best_of_pair(good, 408), good);
    EXPECT_EQ(best_of_pair(good, 302), 302);  // still after a lower class
  }
}

TEST(ResponseRank, TimeoutAndUnavailableAreLeastPreferredInTheirClass) {
  for (int s = 400; s < 500; ++s) {
    if (s == 408) continue;
    EXPECT_LT(response_rank(s), response_rank(408)) << s;
  }
  for (int s = 500; s < 600; ++s) {
    if (s == 503) continue;
    EXPECT_LT(response_rank(s), response_rank(503)) << s;
  }
  EXPECT_EQ(best_of_pair(408, 487), 487);
  EXPECT_EQ(best_of_pair(503, 500), 500);
  EXPECT_EQ(best_of_pair(503, 504), 504);
}

TEST(ResponseRank, EveryClassIsOrdered) {
  // A strict order between classes, whatever the codes within them.
  for (int a = 300; a < 700; ++a) {
    for (int b = 300; b < 700; ++b) {
      int ca = a / 100, cb = b / 100;
      if (ca == cb) continue;
      bool a_first = ca == 6 || (cb != 6 && ca < cb);
      EXPECT_EQ(response_rank(a) < response_rank(b), a_first) << a << " vs " << b;
    }
  }
}

TEST(OfferFinal, FirstOfferIsTheBest) {
  ResponseContext ctx(nullptr);
  EXPECT_EQ(ctx.best_status(), 0);
  EXPECT_TRUE(ctx.offer_final(486, response(486)));
  EXPECT_EQ(ctx.best_status(), 486);
  ASSERT_TRUE(ctx.best_response().has_value());
  EXPECT_EQ(ctx.best_response()->status(), 486);
  EXPECT_FALSE(ctx.offer_final(500, response(500)));
  EXPECT_EQ(ctx.best_response()->status(), 486);
  EXPECT_TRUE(ctx.offer_final(302, response(302)));
  EXPECT_EQ(ctx.best_response()->status(), 302);
}

TEST(OfferFinal, ReceivedPreferredOverLocalOfTheSameStatus) {
  ResponseContext ctx(nullptr);
  EXPECT_TRUE(ctx.offer_final(408, std::nullopt));  // timer B/C on one branch
  EXPECT_FALSE(ctx.best_response().has_value());
  EXPECT_TRUE(ctx.offer_final(408, response(408)));  // a real 408 from another branch
  ASSERT_TRUE(ctx.best_response().has_value());
  EXPECT_EQ(ctx.best_status(), 408);
  // A later local one does not displace the received one.
  EXPECT_FALSE(ctx.offer_final(408, std::nullopt));
  EXPECT_TRUE(ctx.best_response().has_value());
  // Nor does a second received one of the same status.
  EXPECT_FALSE(ctx.offer_final(408, response(408)));

  ResponseContext ctx2(nullptr);
  EXPECT_TRUE(ctx2.offer_final(503, response(503)));
  EXPECT_FALSE(ctx2.offer_final(503, std::nullopt));  // transport failure on another branch
  EXPECT_TRUE(ctx2.best_response().has_value());
}

TEST(OfferFinal, LocalBetterStatusStillWins) {
  ResponseContext ctx(nullptr);
  ctx.offer_final(503, response(503));
  EXPECT_TRUE(ctx.offer_final(408, std::nullopt));
  EXPECT_EQ(ctx.best_status(), 408);
  EXPECT_FALSE(ctx.best_response().has_value());  // the proxy will build the 408 itself
}

TEST(ResponseContext, PendingBranches) {
  ResponseContext ctx(nullptr);
  EXPECT_FALSE(ctx.has_pending_branches());
  EXPECT_TRUE(ctx.all_done());
  for (int i = 0; i < 2; ++i) {
    auto b = std::make_unique<Branch>();
    b->context = &ctx;
    b->index = i;
    b->state = Branch::State::kCalling;
    ctx.branches.push_back(std::move(b));
  }
  EXPECT_TRUE(ctx.has_pending_branches());
  EXPECT_FALSE(ctx.all_done());
  ctx.branches[0]->state = Branch::State::kDone;
  EXPECT_FALSE(ctx.all_done());
  ctx.branches[1]->state = Branch::State::kDone;
  EXPECT_TRUE(ctx.all_done());
  // Serial forking: targets still to try keep it open, unless cancelled.
  ctx.serial_pending.push_back(*sip::Uri::parse("sip:next@example.com"));
  EXPECT_FALSE(ctx.has_pending_branches());
  EXPECT_FALSE(ctx.all_done());
  ctx.cancelled = true;
  EXPECT_TRUE(ctx.all_done());
}

}  // namespace
}  // namespace strowger::proxy::core
