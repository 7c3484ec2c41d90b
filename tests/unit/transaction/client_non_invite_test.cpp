// Unit tests for the non-INVITE client transaction (RFC 3261 17.1.2): timers E, F and K.
#include <gtest/gtest.h>

#include "proxy/transaction/client_transaction.h"
#include "tests/unit/transaction/test_support.h"

namespace strowger::proxy::transaction::test {
namespace {

using State = ClientTransaction::State;
using transport::Protocol;

TEST_F(ClientTest, NonInviteTimerECappedAtT2UntilTimerF) {
  ClientTransaction& ct = start("OPTIONS");
  EXPECT_FALSE(ct.is_invite());
  run_until(64 * kT1 - 1);
  std::vector<std::int64_t> expected = {0,     500,   1500,  3500,  7500, 11500,
                                        15500, 19500, 23500, 27500, 31500};
  EXPECT_EQ(sender_.times_of("OPTIONS "), expected);
  EXPECT_TRUE(user_.failures.empty());
  run_until(64 * kT1);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].second, 408);
  EXPECT_EQ(heap_.size(), 0u);
}

TEST_F(ClientTest, NonInviteAfterProvisionalRetransmitsEveryT2) {
  start("OPTIONS");
  run_until(600);
  respond(100);
  EXPECT_TRUE(user_.responses.empty());
  run_until(64 * kT1 - 1);
  std::vector<std::int64_t> times = sender_.times_of("OPTIONS ");
  ASSERT_GE(times.size(), 4u);
  EXPECT_EQ(times[0], 0);
  EXPECT_EQ(times[1], 500);
  EXPECT_LE(times[2], 600 + kT2);  // the next one comes at the latest T2 after the 1xx
  for (std::size_t i = 3; i < times.size(); ++i) EXPECT_EQ(times[i] - times[i - 1], kT2);
  EXPECT_GT(times.back(), 64 * kT1 - 1 - kT2);
  // Timer F still runs in Proceeding.
  run_until(64 * kT1);
  ASSERT_EQ(user_.failures.size(), 1u);
  EXPECT_EQ(user_.failures[0].second, 408);
}

TEST_F(ClientTest, NonInviteProvisionalAbove100GoesUp) {
  start("MESSAGE");
  respond(182, "x");
  EXPECT_EQ(response_statuses(), std::vector<int>{182});
}

TEST_F(ClientTest, NonInviteFinalCompletesAndTimerKEnds) {
  ClientTransaction& ct = start("OPTIONS");
  respond(200, "x");
  EXPECT_EQ(ct.state(), State::kCompleted);
  respond(200, "x");  // retransmission: absorbed
  EXPECT_EQ(response_statuses(), std::vector<int>{200});
  EXPECT_EQ(sender_.count_of("ACK "), 0u);
  run_until(kT4 - 1);
  EXPECT_TRUE(user_.clients_gone.empty());
  EXPECT_EQ(sender_.count_of("OPTIONS "), 1u);
  run_until(kT4);
  EXPECT_EQ(user_.clients_gone.size(), 1u);
  EXPECT_EQ(heap_.size(), 0u);
}

TEST_F(ClientTest, NonInviteTimerKIsZeroOnTcp) {
  start("OPTIONS", Protocol::kTcp);
  run_until(kT1 * 4);
  EXPECT_EQ(sender_.count_of("OPTIONS "), 1u);  // no timer E on TCP
  respond(200, "x");
  run_until(kT1 * 4);
  EXPECT_EQ(user_.clients_gone.size(), 1u);
}

}  // namespace
}  // namespace strowger::proxy::transaction::test
