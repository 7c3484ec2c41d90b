// Flags string -> ng dictionary, as Kamailio's rtpengine module builds it.
#include "modules/rtprelay/ng_flags.h"

#include <gtest/gtest.h>

namespace strowger::modules::rtprelay {
namespace {

namespace bencode = common::bencode;

MessageFacts invite() {
  MessageFacts f;
  f.is_request = true;
  f.call_id = "call-1";
  f.from_tag = "ft";
  f.to_tag = "";
  f.via_branches = {"z9hG4bK-uac", "z9hG4bK-up"};
  f.sdp = "v=0\r\n";
  f.source_ip = "192.0.2.10";
  return f;
}

std::vector<std::string> strings(const bencode::Dict& d, std::string_view key) {
  std::vector<std::string> out;
  if (auto l = d.get_string_list(key))
    for (auto s : *l) out.emplace_back(s);
  return out;
}

using V = std::vector<std::string>;

TEST(NgFlags, KamailioDefaultConfigFlags) {
  NgOp op = NgOp::kOffer;
  auto d =
      build_ng_request(op,
                       "replace-origin replace-session-connection ICE=remove RTP/AVP trust-address "
                       "via-branch=1 direction=external direction=internal rtcp-mux-demux SDES-off",
                       invite());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(op, NgOp::kOffer);
  EXPECT_EQ(d->get_string("command"), "offer");
  EXPECT_EQ(d->get_string("call-id"), "call-1");
  EXPECT_EQ(d->get_string("from-tag"), "ft");
  EXPECT_FALSE(d->contains("to-tag"));  // the INVITE has none yet
  EXPECT_EQ(d->get_string("sdp"), "v=0\r\n");
  EXPECT_EQ(strings(*d, "replace"), (V{"origin", "session-connection"}));
  EXPECT_EQ(d->get_string("ICE"), "remove");
  EXPECT_EQ(d->get_string("transport-protocol"), "RTP/AVP");
  EXPECT_EQ(strings(*d, "flags"), (V{"trust-address"}));
  EXPECT_EQ(d->get_string("via-branch"), "z9hG4bK-uac");
  EXPECT_EQ(strings(*d, "direction"), (V{"external", "internal"}));
  EXPECT_EQ(strings(*d, "rtcp-mux"), (V{"demux"}));
  EXPECT_EQ(strings(*d, "SDES"), (V{"off"}));
  EXPECT_EQ(strings(*d, "received-from"), (V{"IP4", "192.0.2.10"}));
}

TEST(NgFlags, TransportBitsAndIntegers) {
  NgOp op = NgOp::kOffer;
  auto d = build_ng_request(op, "RTP/SAVPF AVP", invite());  // AVP drops the feedback bit
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get_string("transport-protocol"), "RTP/SAVP");
  d = build_ng_request(op, "SRTP AVPF", invite());
  EXPECT_EQ(d->get_string("transport-protocol"), "RTP/SAVPF");
  d = build_ng_request(op, "RTP/SAVPF RTP", invite());  // RTP drops the secure bit
  EXPECT_EQ(d->get_string("transport-protocol"), "RTP/AVPF");
  d = build_ng_request(op, "TOS=184 delete-delay=5 repacketize=40 label=callee address-family=IP6",
                       invite());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get_int("TOS"), 184);
  EXPECT_EQ(d->get_int("delete delay"), 5);  // Kamailio's key has a space
  EXPECT_EQ(d->get_int("repacketize"), 40);
  EXPECT_EQ(d->get_string("label"), "callee");
  EXPECT_EQ(d->get_string("address-family"), "IP6");
  EXPECT_FALSE(d->contains("flags"));  // only when there is one
  EXPECT_FALSE(d->contains("transport-protocol"));
}

TEST(NgFlags, OverridesAndForceAnswer) {
  NgOp op = NgOp::kOffer;
  auto d = build_ng_request(op, "call-id=other from-tag=x to-tag=y force-answer", invite());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(op, NgOp::kAnswer);
  EXPECT_EQ(d->get_string("command"), "answer");
  EXPECT_EQ(d->get_string("call-id"), "other");
  // An answer in a request comes from the callee: the tags swap.
  EXPECT_EQ(d->get_string("from-tag"), "y");
  EXPECT_EQ(d->get_string("to-tag"), "x");
  op = NgOp::kAnswer;
  EXPECT_FALSE(build_ng_request(op, "force-answer", invite()).ok());
}

TEST(NgFlags, TagsByDirection) {
  MessageFacts reply = invite();
  reply.is_request = false;
  reply.to_tag = "tt";
  NgOp op = NgOp::kAnswer;  // 200 OK with the answer
  auto d = build_ng_request(op, "", reply);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get_string("from-tag"), "ft");
  EXPECT_EQ(d->get_string("to-tag"), "tt");
  op = NgOp::kOffer;  // late offer in a 200: from the callee
  d = build_ng_request(op, "", reply);
  EXPECT_EQ(d->get_string("from-tag"), "tt");
  EXPECT_EQ(d->get_string("to-tag"), "ft");
  MessageFacts ack = invite();
  ack.to_tag = "tt";
  op = NgOp::kAnswer;  // the ACK carrying the answer
  d = build_ng_request(op, "", ack);
  EXPECT_EQ(d->get_string("from-tag"), "tt");
  EXPECT_EQ(d->get_string("to-tag"), "ft");
  ack.to_tag.clear();
  EXPECT_FALSE(build_ng_request(op, "", ack).ok());  // no To tag to swap in
  MessageFacts bye = invite();
  bye.to_tag = "tt";
  op = NgOp::kDelete;  // the whole call: no to-tag, no sdp, no received-from
  d = build_ng_request(op, "", bye);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get_string("command"), "delete");
  EXPECT_FALSE(d->contains("to-tag"));
  EXPECT_FALSE(d->contains("sdp"));
  EXPECT_FALSE(d->contains("received-from"));
  d = build_ng_request(op, "to-tag", bye);
  EXPECT_EQ(d->get_string("to-tag"), "tt");
}

TEST(NgFlags, ViaBranchAutoAndIPv6) {
  MessageFacts reply = invite();
  reply.is_request = false;
  reply.source_ip = "2001:db8::1";
  NgOp op = NgOp::kAnswer;
  auto d = build_ng_request(op, "via-branch=auto", reply);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get_string("via-branch"), "z9hG4bK-up");  // the reply's second Via
  EXPECT_EQ(strings(*d, "received-from"), (V{"IP6", "2001:db8::1"}));
  op = NgOp::kOffer;
  d = build_ng_request(op, "via-branch=2", invite());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get_string("via-branch"), "z9hG4bK-up");
}

TEST(NgFlags, Errors) {
  for (const char* bad : {"via-branch", "via-branch=extra", "via-branch=7", "call-id",
                          "from-tag=", "direction", "repacketize=0", "TOS=x", "=x"}) {
    NgOp op = NgOp::kOffer;
    EXPECT_FALSE(build_ng_request(op, bad, invite()).ok()) << bad;
    EXPECT_TRUE(check_flags(NgOp::kOffer, bad).has_value()) << bad;
  }
  EXPECT_EQ(check_flags(NgOp::kOffer, "  replace-origin   ICE=remove  "), std::nullopt);
  MessageFacts one_via = invite();
  one_via.via_branches = {"z9hG4bK-only"};
  NgOp op = NgOp::kOffer;
  EXPECT_FALSE(build_ng_request(op, "via-branch=2", one_via).ok());
  MessageFacts no_tag = invite();
  no_tag.from_tag.clear();
  EXPECT_FALSE(build_ng_request(op, "", no_tag).ok());
}

}  // namespace
}  // namespace strowger::modules::rtprelay
