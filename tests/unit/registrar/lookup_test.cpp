// lookup(), registered(), unregister(): branches by q with received and Path, GRUUs, codes.
#include "modules/registrar/registrar.h"
#include "tests/unit/registrar/fake_call.h"

namespace strowger::modules::registrar {
namespace {

std::string invite(std::string_view ruri) {
  return "INVITE " + std::string(ruri) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-9\r\nMax-Forwards: 70\r\n"
         "From: <sip:bob@example.com>;tag=9\r\nTo: <sip:alice@example.com>\r\n"
         "Call-ID: inv\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
}

class Lookup : public ::testing::Test {
 protected:
  void reg(const std::string& headers, const std::string& call_id,
           sipproxy::Peer src = {"udp", "192.0.2.10", 5060}) {
    FakeCall call(register_msg(headers, call_id, 1), src);
    ASSERT_GT(save(call, c_.table, cfg_, 0), 0) << call.replies.back().code;
  }
  Clocked c_;
  RegistrarConfig cfg_;
};

TEST_F(Lookup, NoBindingIsMinusOne) {
  FakeCall call(invite("sip:alice@example.com"));
  EXPECT_EQ(lookup(call, c_.table, cfg_, ""), -1);
  EXPECT_EQ(registered(call, c_.table, cfg_, ""), -1);
  EXPECT_EQ(call.message().request_uri().to_string(), "sip:alice@example.com");
}

TEST_F(Lookup, OneBranchPerContactHighestQFirst) {
  reg("Contact: <sip:a@192.0.2.10:5001>;q=0.5\r\n", "c1");
  c_.now += 1;
  reg("Contact: <sip:a@192.0.2.10:5002>;q=0.9\r\n", "c2");
  c_.now += 1;
  reg("Contact: <sip:a@192.0.2.10:5003>;q=0.5\r\n", "c3");
  FakeCall call(invite("sip:alice@example.com"));
  EXPECT_EQ(registered(call, c_.table, cfg_, ""), 1);
  ASSERT_EQ(lookup(call, c_.table, cfg_, ""), 1);
  EXPECT_EQ(call.message().request_uri().to_string(), "sip:a@192.0.2.10:5002");
  ASSERT_EQ(call.appended.size(), 2u);
  EXPECT_EQ(call.appended[0].uri, "sip:a@192.0.2.10:5003");  // equal q: newest first
  EXPECT_EQ(call.appended[0].q, 500);
  EXPECT_EQ(call.appended[1].uri, "sip:a@192.0.2.10:5001");
  EXPECT_EQ(call.du, "");
}

TEST_F(Lookup, NatedContactGetsItsSourceAsDstUri) {
  cfg_.nat_flag = 5;
  FakeCall reg_call(register_msg("Contact: <sip:a@10.1.1.1:5060>\r\n"),
                    {"tcp", "203.0.113.9", 40000});
  reg_call.set_flag(5, true);
  reg_call.conn_ = 7;
  ASSERT_EQ(save(reg_call, c_.table, cfg_, 0), 1);
  FakeCall call(invite("sip:alice@example.com"));
  ASSERT_EQ(lookup(call, c_.table, cfg_, ""), 1);
  EXPECT_EQ(call.du, "sip:203.0.113.9:40000;transport=tcp");
  auto by_conn = c_.table.find_by_source("", "", 0, 7);
  ASSERT_EQ(by_conn.size(), 1u);
  EXPECT_EQ(by_conn[0].first, "alice");
  EXPECT_EQ(c_.table.find_by_source("tcp", "203.0.113.9", 40000, 0).size(), 1u);
  // The received AVP (fix_nated_register) wins over the source.
  FakeCall avp_call(register_msg("Contact: <sip:a@10.1.1.2:5060>\r\n", "x", 1));
  avp_call.set_avp("RECEIVED", "sip:198.51.100.1:1234");
  save(avp_call, c_.table, cfg_, 0);
  bool found = false;
  for (const auto& b : c_.table.get("alice"))
    if (b.contact == "sip:a@10.1.1.2:5060") found = b.received == "sip:198.51.100.1:1234";
  EXPECT_TRUE(found);
}

TEST_F(Lookup, PathBecomesTheBranchRoute) {
  cfg_.use_path = true;
  reg("Contact: <sip:a@h1>\r\nSupported: path\r\nPath: <sip:edge1;lr>\r\nPath: <sip:edge2;lr>\r\n",
      "c1");
  FakeCall call(invite("sip:alice@example.com"));
  ASSERT_EQ(lookup(call, c_.table, cfg_, ""), 1);
  EXPECT_EQ(call.path, (std::vector<std::string>{"<sip:edge1;lr>", "<sip:edge2;lr>"}));
}

TEST_F(Lookup, UriArgumentAndTempGruu) {
  reg("Contact: <sip:a@h1>;+sip.instance=\"<urn:uuid:i1>\"\r\n", "c1");
  reg("Contact: <sip:a@h2>;+sip.instance=\"<urn:uuid:i2>\"\r\n", "c2");
  FakeCall by_arg(invite("sip:nobody@example.com"));
  EXPECT_EQ(lookup(by_arg, c_.table, cfg_, "sip:alice@example.com"), 1);
  std::string ruid;
  for (const auto& b : c_.table.get("alice"))
    if (b.contact == "sip:a@h2") ruid = b.ruid;
  FakeCall temp(invite("sip:tg-" + ruid + "@example.com;gr"));
  ASSERT_EQ(lookup(temp, c_.table, cfg_, ""), 1);
  EXPECT_EQ(temp.message().request_uri().to_string(), "sip:a@h2");
  EXPECT_TRUE(temp.appended.empty());
  FakeCall pub(invite("sip:alice@example.com;gr=urn:uuid:i1"));
  ASSERT_EQ(lookup(pub, c_.table, cfg_, ""), 1);
  EXPECT_EQ(pub.message().request_uri().to_string(), "sip:a@h1");
  FakeCall unknown(invite("sip:tg-00000000-1-1@example.com;gr"));
  EXPECT_EQ(lookup(unknown, c_.table, cfg_, ""), -1);
  FakeCall bad(invite("sip:alice@example.com"));
  EXPECT_EQ(lookup(bad, c_.table, cfg_, "not a uri"), -3);
}

TEST_F(Lookup, UnregisterAllOrByRuid) {
  reg("Contact: <sip:a@h1>, <sip:a@h2>\r\n", "c1");
  FakeCall call(invite("sip:alice@example.com"));
  const std::string ruid = c_.table.get("alice")[0].ruid;
  EXPECT_EQ(unregister(call, c_.table, cfg_, "sip:alice@example.com", ruid), 1);
  EXPECT_EQ(c_.table.get("alice").size(), 1u);
  EXPECT_EQ(unregister(call, c_.table, cfg_, "sip:alice@example.com", ""), 1);
  EXPECT_EQ(unregister(call, c_.table, cfg_, "sip:alice@example.com", ""), -1);
}

TEST_F(Lookup, UseDomainKeysByUserAtHost) {
  cfg_.use_domain = true;
  reg("Contact: <sip:a@h1>\r\n", "c1");
  EXPECT_EQ(c_.table.get("alice@example.com").size(), 1u);
  FakeCall other(invite("sip:alice@other.org"));
  EXPECT_EQ(lookup(other, c_.table, cfg_, ""), -1);
  FakeCall same(invite("sip:alice@EXAMPLE.com"));
  EXPECT_EQ(lookup(same, c_.table, cfg_, ""), 1);
}

}  // namespace
}  // namespace strowger::modules::registrar
