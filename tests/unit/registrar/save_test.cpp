// save(): RFC 3261 10.3 step by step, Path (RFC 3327), outbound (RFC 5626), GRUU (RFC 5627).
#include "modules/registrar/registrar.h"
#include "tests/unit/registrar/fake_call.h"

namespace strowger::modules::registrar {
namespace {

class Save : public ::testing::Test {
 protected:
  int save_msg(const std::string& text, std::int64_t flags = 0, FakeCall** out = nullptr) {
    calls_.push_back(std::make_unique<FakeCall>(text));
    if (out) *out = calls_.back().get();
    return save(*calls_.back(), c_.table, cfg_, flags);
  }
  const Reply& last() { return calls_.back()->replies.back(); }
  Clocked c_;
  RegistrarConfig cfg_;
  std::vector<std::unique_ptr<FakeCall>> calls_;
};

TEST_F(Save, NewBindingIsStoredAnd200ListsItWithDate) {
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:alice@192.0.2.10:5060>\r\nExpires: 600\r\n"
                                  "User-Agent: test-ua\r\n")),
            1);
  EXPECT_EQ(last().code, 200);
  EXPECT_NE(last().headers.find("Contact: <sip:alice@192.0.2.10:5060>;expires=600\r\n"),
            std::string::npos);
  EXPECT_NE(last().headers.find("Date: "), std::string::npos);
  auto b = c_.table.get("alice");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].expires, c_.now + 600);
  EXPECT_EQ(b[0].user_agent, "test-ua");
  EXPECT_EQ(b[0].source_ip, "192.0.2.10");
  EXPECT_EQ(b[0].socket, "udp:192.0.2.1:5060");
  EXPECT_EQ(b[0].received, "");  // same host as the source: not NATed
}

TEST_F(Save, ExpiresParamBeatsHeaderBeatsDefault) {
  save_msg(register_msg("Contact: <sip:a@h1>;expires=120, <sip:a@h2>\r\nExpires: 300\r\n"));
  save_msg(register_msg("Contact: <sip:a@h3>\r\n", "other", 1));
  std::map<std::string, std::int64_t> left;
  for (const auto& b : c_.table.get("alice")) left[b.contact] = b.expires - c_.now;
  EXPECT_EQ(left["sip:a@h1"], 120);
  EXPECT_EQ(left["sip:a@h2"], 300);
  EXPECT_EQ(left["sip:a@h3"], 3600);  // default_expires
}

TEST_F(Save, TooBriefIs423WithMinExpiresAndStoresNothing) {
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>;expires=10\r\n")), -1);
  EXPECT_EQ(last().code, 423);
  EXPECT_EQ(last().headers, "Min-Expires: 60\r\n");
  EXPECT_TRUE(c_.table.get("alice").empty());
}

TEST_F(Save, MaxExpiresClamps) {
  cfg_.max_expires = 1000;
  save_msg(register_msg("Contact: <sip:a@h1>;expires=7200\r\n"));
  EXPECT_EQ(c_.table.get("alice")[0].expires, c_.now + 1000);
  EXPECT_NE(last().headers.find(";expires=1000"), std::string::npos);
}

TEST_F(Save, RefreshUpdatesAndZeroRemoves) {
  save_msg(register_msg("Contact: <sip:a@h1>\r\nExpires: 600\r\n", "c", 1));
  c_.now += 100;
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>\r\nExpires: 600\r\n", "c", 2)), 2);
  EXPECT_EQ(c_.table.get("alice")[0].expires, c_.now + 600);
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>;expires=0\r\n", "c", 3)), 3);
  EXPECT_TRUE(c_.table.get("alice").empty());
  EXPECT_EQ(last().code, 200);
  EXPECT_EQ(last().headers.find("Contact:"), std::string::npos);
}

TEST_F(Save, SameCallIdLowerCSeqFails500EqualIsARetransmission) {
  save_msg(register_msg("Contact: <sip:a@h1>\r\n", "c", 5));
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>;expires=0\r\n", "c", 4)), -1);
  EXPECT_EQ(last().code, 500);
  EXPECT_EQ(c_.table.get("alice").size(), 1u);
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>;expires=0\r\n", "c", 5)), 4);
  EXPECT_EQ(last().code, 200);
  EXPECT_EQ(c_.table.get("alice").size(), 1u);
  // Another Call-ID may change it whatever its CSeq.
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>;expires=0\r\n", "d", 1)), 3);
}

TEST_F(Save, StarWithExpiresZeroRemovesAll) {
  save_msg(register_msg("Contact: <sip:a@h1>, <sip:a@h2>\r\n", "c", 1));
  EXPECT_EQ(save_msg(register_msg("Contact: *\r\nExpires: 0\r\n", "x", 1)), 3);
  EXPECT_TRUE(c_.table.get("alice").empty());
}

TEST_F(Save, StarRulesGive400) {
  save_msg(register_msg("Contact: <sip:a@h1>\r\n", "c", 1));
  EXPECT_EQ(save_msg(register_msg("Contact: *\r\n", "x", 1)), -1);
  EXPECT_EQ(last().code, 400);
  EXPECT_EQ(save_msg(register_msg("Contact: *\r\nExpires: 60\r\n", "x", 2)), -1);
  EXPECT_EQ(last().code, 400);
  EXPECT_EQ(save_msg(register_msg("Contact: *, <sip:a@h2>\r\nExpires: 0\r\n", "x", 3)), -1);
  EXPECT_EQ(last().code, 400);
  // Same Call-ID, not higher CSeq: the update is aborted.
  EXPECT_EQ(save_msg(register_msg("Contact: *\r\nExpires: 0\r\n", "c", 1)), -1);
  EXPECT_EQ(last().code, 500);
  EXPECT_EQ(c_.table.get("alice").size(), 1u);
}

TEST_F(Save, FetchWithoutContactListsBindings) {
  save_msg(register_msg("Contact: <sip:a@h1>;q=0.5\r\n", "c", 1));
  EXPECT_EQ(save_msg(register_msg("", "f", 1)), 4);
  EXPECT_NE(last().headers.find("Contact: <sip:a@h1>;expires=3600;q=0.5\r\n"), std::string::npos);
}

TEST_F(Save, QValuesAndBadOnes) {
  save_msg(register_msg("Contact: <sip:a@h1>;q=0.7, <sip:a@h2>;q=1\r\n"));
  std::map<std::string, int> q;
  for (const auto& b : c_.table.get("alice")) q[b.contact] = b.q;
  EXPECT_EQ(q["sip:a@h1"], 700);
  EXPECT_EQ(q["sip:a@h2"], 1000);
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h3>;q=1.5\r\n", "b", 1)), -1);
  EXPECT_EQ(last().code, 400);
}

TEST_F(Save, MaxContactsDropsOldestOrRejects) {
  Clocked drop({2, true});
  for (int i = 1; i <= 3; ++i) {
    drop.now += 10;
    FakeCall call(register_msg("Contact: <sip:a@h" + std::to_string(i) + ">\r\n",
                               "c" + std::to_string(i), 1));
    EXPECT_GT(save(call, drop.table, cfg_, 0), 0);
  }
  auto left = drop.table.get("alice");
  ASSERT_EQ(left.size(), 2u);
  for (const auto& b : left) EXPECT_NE(b.contact, "sip:a@h1");
  Clocked reject({1, false});
  FakeCall one(register_msg("Contact: <sip:a@h1>\r\n", "c1", 1));
  EXPECT_EQ(save(one, reject.table, cfg_, 0), 1);
  FakeCall two(register_msg("Contact: <sip:a@h2>\r\n", "c2", 1));
  EXPECT_EQ(save(two, reject.table, cfg_, 0), -1);
  EXPECT_EQ(two.replies.back().code, 503);
  EXPECT_EQ(reject.table.get("alice").size(), 1u);
}

TEST_F(Save, FlagsNoReplySingleMemOnly) {
  FakeCall* call = nullptr;
  save_msg(register_msg("Contact: <sip:a@h1>, <sip:a@h2>\r\n", "c", 1), kSaveNoReply, &call);
  EXPECT_TRUE(call->replies.empty());
  save_msg(register_msg("Contact: <sip:a@h3>\r\n", "d", 1), kSaveSingle | kSaveMemOnly);
  auto b = c_.table.get("alice");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].contact, "sip:a@h3");
  EXPECT_TRUE(b[0].flags & sipproxy::usrloc::kFlagMemOnly);
}

TEST_F(Save, PathIsStoredRequiredAndEchoed) {
  cfg_.use_path = true;
  const std::string path = "Path: <sip:edge.example.com;lr>\r\n";
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>\r\n" + path)), -1);
  EXPECT_EQ(last().code, 420);
  EXPECT_EQ(last().headers, "Unsupported: path\r\n");
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>\r\nSupported: path\r\n" + path)), 1);
  EXPECT_NE(last().headers.find("Path: <sip:edge.example.com;lr>\r\n"), std::string::npos);
  EXPECT_EQ(c_.table.get("alice")[0].path, std::vector<std::string>{"<sip:edge.example.com;lr>"});
  cfg_.path_mode = 0;  // stored, never echoed
  save_msg(register_msg("Contact: <sip:a@h2>\r\n" + path, "p0", 1));
  EXPECT_EQ(last().headers.find("Path:"), std::string::npos);
}

TEST_F(Save, OutboundInstanceAndRegIdReplaceTheFlow) {
  const std::string inst = ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
  save_msg(register_msg(
      "Contact: <sip:a@10.0.0.1:5060>" + inst + ";reg-id=1\r\nSupported: outbound\r\n", "c1", 1));
  EXPECT_NE(last().headers.find("Require: outbound"), std::string::npos);
  // The device re-registers from a new address (new Call-ID): the flow is replaced.
  save_msg(register_msg("Contact: <sip:a@10.0.0.2:6000>" + inst + ";reg-id=1\r\n", "c2", 1));
  auto b = c_.table.get("alice");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].contact, "sip:a@10.0.0.2:6000");
  EXPECT_EQ(b[0].reg_id, 1u);
  // A second flow (reg-id 2) of the same instance is another binding.
  save_msg(register_msg("Contact: <sip:a@10.0.0.3:7000>" + inst + ";reg-id=2\r\n", "c3", 1));
  EXPECT_EQ(c_.table.get("alice").size(), 2u);
  // reg-id without an instance is malformed.
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h9>;reg-id=1\r\n", "c4", 1)), -1);
  EXPECT_EQ(last().code, 400);
}

TEST_F(Save, GruuInThe200WhenSupported) {
  save_msg(
      register_msg("Contact: <sip:a@h1>;+sip.instance=\"<urn:uuid:abc>\"\r\n"
                   "Supported: gruu\r\n"));
  const std::string ruid = c_.table.get("alice")[0].ruid;
  EXPECT_NE(last().headers.find(";pub-gruu=\"sip:alice@example.com;gr=urn:uuid:abc\""),
            std::string::npos);
  EXPECT_NE(last().headers.find(";temp-gruu=\"sip:tg-" + ruid + "@example.com;gr\""),
            std::string::npos);
  save_msg(register_msg("Contact: <sip:a@h1>;+sip.instance=\"<urn:uuid:abc>\"\r\n", "n", 1));
  EXPECT_EQ(last().headers.find("gruu"), std::string::npos);  // not asked for
}

TEST_F(Save, BadInputIsRefusedNotCrashed) {
  // sofia drops a Contact it cannot parse: the REGISTER is then a fetch, stores nothing.
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1\r\n")), 4);
  EXPECT_TRUE(c_.table.aors().empty());
  EXPECT_EQ(save_msg(register_msg("Contact: <sip:a@h1>;q=abc\r\n")), -1);
  EXPECT_EQ(last().code, 400);
  auto no_user = register_msg("Contact: <sip:a@h1>\r\n");
  no_user.replace(no_user.find("To: <sip:alice@"), 15, "To: <sip:");
  EXPECT_EQ(save_msg(no_user), -1);
  EXPECT_EQ(last().code, 400);
  auto invite = register_msg("");
  invite.replace(0, 8, "INVITE");
  invite.replace(invite.find("1 REGISTER"), 10, "1 INVITE");
  EXPECT_EQ(save_msg(invite), -1);
}

// The seeds' JsSIP REGISTER (scraped: the <...> parts restored), over WSS.
TEST_F(Save, JsSipBrowserRegister) {
  const std::string text =
      "REGISTER sip:voiptelco.com SIP/2.0\r\n"
      "Via: SIP/2.0/WSS 830p2l39g8bg.invalid;branch=z9hG4bK242397\r\n"
      "Max-Forwards: 69\r\n"
      "To: <sip:altanai@voiptelco.com>\r\n"
      "From: <sip:altanai@voiptelco.com>;tag=3jaad0q8l8\r\n"
      "Call-ID: fvn2cd1b9gqh6kd7nqdpj5\r\n"
      "CSeq: 1 REGISTER\r\n"
      "Contact: <sip:5j0k7qdh@830p2l39g8bg.invalid;transport=ws>;+sip.ice;reg-id=1;"
      "+sip.instance=\"<urn:uuid:80fa65e7-1cd7-4e40-bbee-c07f7a1ae9a5>\";expires=600\r\n"
      "Expires: 600\r\n"
      "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO\r\n"
      "Supported: path,gruu,outbound\r\n"
      "User-Agent: JsSIP 3.1.2\r\n"
      "Content-Length: 0\r\n\r\n";
  FakeCall call(text, {"wss", "203.0.113.7", 19035});
  call.conn_ = 42;
  ASSERT_EQ(save(call, c_.table, cfg_, 0), 1);
  const Reply& r = call.replies.back();
  EXPECT_EQ(r.code, 200);
  EXPECT_NE(r.headers.find("Contact: <sip:5j0k7qdh@830p2l39g8bg.invalid;transport=ws>;expires=600;"
                           "+sip.instance=\"<urn:uuid:80fa65e7-1cd7-4e40-bbee-c07f7a1ae9a5>\";"
                           "reg-id=1;pub-gruu=\"sip:altanai@voiptelco.com;gr=urn:uuid:80fa65e7-"
                           "1cd7-4e40-bbee-c07f7a1ae9a5\";temp-gruu=\"sip:tg-"),
            std::string::npos)
      << r.headers;
  EXPECT_NE(r.headers.find("Require: outbound\r\n"), std::string::npos);
  auto b = c_.table.get("altanai");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].received, "sip:203.0.113.7:19035;transport=wss");
  EXPECT_EQ(b[0].connection_id, 42u);
  EXPECT_EQ(b[0].user_agent, "JsSIP 3.1.2");
  // A call to the pub-gruu reaches that instance over its connection's address.
  FakeCall invite(
      "INVITE sip:altanai@voiptelco.com;gr=urn:uuid:80fa65e7-1cd7-4e40-bbee-c07f7a1ae9a5 "
      "SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-9\r\nMax-Forwards: 70\r\n"
      "From: <sip:bob@voiptelco.com>;tag=9\r\nTo: <sip:altanai@voiptelco.com>\r\n"
      "Call-ID: inv\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(lookup(invite, c_.table, cfg_, ""), 1);
  EXPECT_EQ(invite.message().request_uri().to_string(),
            "sip:5j0k7qdh@830p2l39g8bg.invalid;transport=ws");
  EXPECT_EQ(invite.du, "sip:203.0.113.7:19035;transport=wss");
}

}  // namespace
}  // namespace strowger::modules::registrar
