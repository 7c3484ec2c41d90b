// lookup_branches() over the R-URI and appended branches, method_filtering (-2) with the
// Allow header / Contact methods parameter stored as a mask, and the ruid behind $ruid.
#include "modules/registrar/registrar.h"
#include "tests/unit/registrar/fake_call.h"

namespace strowger::modules::registrar {
namespace {

std::string request(std::string_view method, std::string_view ruri) {
  return std::string(method) + " " + std::string(ruri) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-9\r\nMax-Forwards: 70\r\n"
         "From: <sip:carol@example.com>;tag=9\r\nTo: <sip:x@example.com>\r\n"
         "Call-ID: req\r\nCSeq: 1 " +
         std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
}

// A REGISTER for `user` (register_msg is alice's).
std::string register_for(std::string_view user, std::string_view headers, std::string_view cid) {
  std::string m = register_msg(headers, cid, 1);
  const std::string_view alice = "<sip:alice@";
  for (int i = 0; i < 2; ++i) {  // From and To
    std::size_t at = m.find(alice, i == 0 ? 0 : m.find("To:"));
    m.replace(at, alice.size(), "<sip:" + std::string(user) + "@");
  }
  return m;
}

class Branches : public ::testing::Test {
 protected:
  void reg(std::string_view user, std::string_view headers, std::string_view cid) {
    FakeCall call(register_for(user, headers, cid));
    ASSERT_GT(save(call, c_.table, cfg_, 0), 0) << call.replies.back().code;
  }
  FakeCall call(std::string_view method, std::string_view ruri) {
    FakeCall c(request(method, ruri));
    c.myself = "example.com";
    return c;
  }
  Clocked c_;
  RegistrarConfig cfg_;
};

TEST_F(Branches, ResolvesTheRuriAndEveryAppendedBranchOfOurs) {
  reg("alice", "Contact: <sip:a1@192.0.2.10:5001>;q=0.9\r\n", "a1");
  c_.now += 1;
  reg("alice", "Contact: <sip:a2@192.0.2.10:5002>;q=0.5\r\n", "a2");
  reg("bob", "Contact: <sip:b@192.0.2.11:5003>\r\n", "b1");
  FakeCall c = call("INVITE", "sip:alice@example.com");
  sipproxy::Branch bob;
  bob.uri = "sip:bob@example.com";
  bob.bflags = 4;
  ASSERT_TRUE(c.append_branch(bob));
  sipproxy::Branch foreign;
  foreign.uri = "sip:dave@elsewhere.net";  // not ours: relayed as it is
  ASSERT_TRUE(c.append_branch(foreign));
  sipproxy::Branch nobody;
  nobody.uri = "sip:nobody@example.com";  // ours but not registered: kept
  ASSERT_TRUE(c.append_branch(nobody));

  ASSERT_EQ(lookup_branches(c, c_.table, cfg_), 1);
  EXPECT_EQ(c.message().request_uri().to_string(), "sip:a1@192.0.2.10:5001");
  ASSERT_EQ(c.appended.size(), 4u);
  EXPECT_EQ(c.appended[0].uri, "sip:a2@192.0.2.10:5002");  // the R-URI's second contact
  EXPECT_EQ(c.appended[1].uri, "sip:b@192.0.2.11:5003");   // bob's branch, replaced
  EXPECT_EQ(c.appended[1].bflags, 4u);                     // keeps the branch's flags
  EXPECT_EQ(c.appended[2].uri, "sip:dave@elsewhere.net");
  EXPECT_EQ(c.appended[3].uri, "sip:nobody@example.com");
}

TEST_F(Branches, ForeignRuriStaysAndBranchesStillResolve) {
  reg("bob", "Contact: <sip:b@192.0.2.11:5003>\r\n", "b1");
  FakeCall c = call("INVITE", "sip:bob@elsewhere.net");
  sipproxy::Branch bob;
  bob.uri = "sip:bob@example.com";
  ASSERT_TRUE(c.append_branch(bob));
  ASSERT_EQ(lookup_branches(c, c_.table, cfg_), 1);
  EXPECT_EQ(c.message().request_uri().to_string(), "sip:bob@elsewhere.net");
  ASSERT_EQ(c.appended.size(), 1u);
  EXPECT_EQ(c.appended[0].uri, "sip:b@192.0.2.11:5003");
}

TEST_F(Branches, NothingRegisteredIsMinusOneAndLeavesTheSet) {
  FakeCall c = call("INVITE", "sip:alice@example.com");
  sipproxy::Branch nobody;
  nobody.uri = "sip:nobody@example.com";
  ASSERT_TRUE(c.append_branch(nobody));
  EXPECT_EQ(lookup_branches(c, c_.table, cfg_), -1);
  EXPECT_EQ(c.message().request_uri().to_string(), "sip:alice@example.com");
  ASSERT_EQ(c.appended.size(), 1u);
  EXPECT_EQ(c.appended[0].uri, "sip:nobody@example.com");
}

TEST(Methods, MaskFromAllowLists) {
  using proxy::sip::Method;
  std::uint32_t m = parse_methods({"INVITE, ACK ,BYE", "\"MESSAGE\""});
  EXPECT_EQ(m, method_bit(Method::kInvite) | method_bit(Method::kAck) | method_bit(Method::kBye) |
                   method_bit(Method::kMessage));
  EXPECT_EQ(parse_methods({}), 0u);
  EXPECT_EQ(parse_methods({"FOO"}), method_bit(Method::kUnknown));
  EXPECT_LT(method_bit(Method::kPublish), 1u << 16);  // fits usrloc's 16 packed bits
}

TEST_F(Branches, MethodFilteringSkipsContactsThatDoNotAllowTheMethod) {
  cfg_.method_filtering = true;
  reg("alice", "Contact: <sip:phone@192.0.2.10:5001>\r\nAllow: INVITE, ACK, BYE, CANCEL\r\n", "m1");
  c_.now += 1;
  reg("alice", "Contact: <sip:chat@192.0.2.10:5002>;methods=\"MESSAGE\"\r\n", "m2");
  ASSERT_EQ(c_.table.get("alice").size(), 2u);

  FakeCall msg = call("MESSAGE", "sip:alice@example.com");
  ASSERT_EQ(lookup(msg, c_.table, cfg_, ""), 1);
  EXPECT_EQ(msg.message().request_uri().to_string(), "sip:chat@192.0.2.10:5002");
  EXPECT_TRUE(msg.appended.empty());

  FakeCall inv = call("INVITE", "sip:alice@example.com");
  ASSERT_EQ(lookup(inv, c_.table, cfg_, ""), 1);
  EXPECT_EQ(inv.message().request_uri().to_string(), "sip:phone@192.0.2.10:5001");
  EXPECT_TRUE(inv.appended.empty());

  FakeCall sub = call("SUBSCRIBE", "sip:alice@example.com");
  EXPECT_EQ(lookup(sub, c_.table, cfg_, ""), -2);
  EXPECT_EQ(sub.message().request_uri().to_string(), "sip:alice@example.com");
  FakeCall sub2 = call("SUBSCRIBE", "sip:alice@example.com");
  EXPECT_EQ(lookup_branches(sub2, c_.table, cfg_), -2);

  cfg_.method_filtering = false;  // the default: every contact, whatever it allows
  FakeCall any = call("SUBSCRIBE", "sip:alice@example.com");
  ASSERT_EQ(lookup(any, c_.table, cfg_, ""), 1);
  EXPECT_EQ(any.appended.size(), 1u);
}

TEST_F(Branches, NoAllowMeansEveryMethod) {
  cfg_.method_filtering = true;
  reg("alice", "Contact: <sip:a@192.0.2.10:5001>\r\n", "n1");
  EXPECT_EQ(c_.table.get("alice")[0].methods, 0u);
  FakeCall c = call("SUBSCRIBE", "sip:alice@example.com");
  EXPECT_EQ(lookup(c, c_.table, cfg_, ""), 1);
}

TEST_F(Branches, RuidOfTheRuriContactAfterLookup) {
  reg("alice", "Contact: <sip:low@192.0.2.10:5001>;q=0.1\r\n", "r1");
  reg("alice", "Contact: <sip:high@192.0.2.10:5002>;q=1.0\r\n", "r2");
  std::string high_ruid;
  for (const auto& b : c_.table.get("alice"))
    if (b.contact == "sip:high@192.0.2.10:5002") high_ruid = b.ruid;
  ASSERT_FALSE(high_ruid.empty());
  FakeCall c = call("INVITE", "sip:alice@example.com");
  EXPECT_FALSE(c.avp(kRuidAvp).has_value());
  ASSERT_EQ(lookup(c, c_.table, cfg_, ""), 1);
  EXPECT_EQ(c.avp(kRuidAvp), high_ruid);
  FakeCall none = call("INVITE", "sip:nobody@example.com");
  EXPECT_EQ(lookup(none, c_.table, cfg_, ""), -1);
  EXPECT_FALSE(none.avp(kRuidAvp).has_value());
}

}  // namespace
}  // namespace strowger::modules::registrar
