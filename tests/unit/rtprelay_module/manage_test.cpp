// rtprelay_manage's decision table (Kamailio's rtpengine_manage) and the late-offer table.
#include "modules/rtprelay/manage.h"

#include <gtest/gtest.h>

namespace strowger::modules::rtprelay {
namespace {

using A = ManageAction;

A req(std::string_view method, bool sdp, bool failure = false) {
  return decide_manage({true, method, 0, sdp, failure, false});
}
A rpl(std::string_view method, int status, bool sdp, bool late = false) {
  return decide_manage({false, method, status, sdp, false, late});
}

TEST(Manage, Requests) {
  EXPECT_EQ(req("INVITE", true), A::kOffer);
  EXPECT_EQ(req("INVITE", false), A::kMarkLateOffer);
  EXPECT_EQ(req("INVITE", true, true), A::kDelete);  // failure_route
  EXPECT_EQ(req("ACK", true), A::kAnswer);
  EXPECT_EQ(req("ACK", false), A::kNone);
  EXPECT_EQ(req("PRACK", true), A::kAnswer);
  EXPECT_EQ(req("UPDATE", true), A::kOffer);
  EXPECT_EQ(req("UPDATE", false), A::kNone);
  EXPECT_EQ(req("BYE", false), A::kDelete);
  EXPECT_EQ(req("CANCEL", false), A::kDelete);
  EXPECT_EQ(req("OPTIONS", true), A::kNone);
  EXPECT_EQ(req("MESSAGE", true), A::kNone);
}

TEST(Manage, Replies) {
  EXPECT_EQ(rpl("INVITE", 183, true), A::kAnswer);
  EXPECT_EQ(rpl("INVITE", 200, true), A::kAnswer);
  EXPECT_EQ(rpl("INVITE", 200, true, true), A::kOffer);  // late offer
  EXPECT_EQ(rpl("INVITE", 180, false), A::kNone);
  EXPECT_EQ(rpl("INVITE", 486, false), A::kDelete);
  EXPECT_EQ(rpl("INVITE", 503, true), A::kDelete);
  EXPECT_EQ(rpl("UPDATE", 200, true), A::kAnswer);
  EXPECT_EQ(rpl("BYE", 200, false), A::kDelete);  // as Kamailio: BYE/CANCEL always delete
  EXPECT_EQ(rpl("REGISTER", 200, true), A::kNone);
}

TEST(Manage, LateOfferTable) {
  LateOfferTable t(1000);
  t.mark("c1", 1, 0);
  EXPECT_TRUE(t.contains("c1", 1, 500));
  EXPECT_FALSE(t.contains("c1", 2, 500));
  EXPECT_FALSE(t.contains("c2", 1, 500));
  EXPECT_FALSE(t.contains("c1", 1, 1500));  // too old
  t.mark("c2", 7, 900);
  t.expire(1500);
  EXPECT_EQ(t.size(), 1u);
  t.forget("c2", 7);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace strowger::modules::rtprelay
