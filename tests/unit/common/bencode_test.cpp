// Unit tests for bencode: decoding (order kept, strictness, limits, incomplete vs invalid),
// scanning, encoding (sorted keys) and the ng accessors.
#include "common/bencode.h"

#include <gtest/gtest.h>

#include <string>

namespace strowger::common::bencode {
namespace {

Dict decode_dict(std::string_view s) {
  auto r = decode(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  if (!r.ok() || !r.value().is_dict()) return {};
  return *r.value().as_dict();
}

std::string decode_error(std::string_view s, const DecodeLimits& limits = {}) {
  auto r = decode(s, limits);
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : r.error().message;
}

TEST(Bencode, DecodesScalars) {
  EXPECT_EQ(*decode("i42e").value().as_int(), 42);
  EXPECT_EQ(*decode("i-7e").value().as_int(), -7);
  EXPECT_EQ(*decode("i0e").value().as_int(), 0);
  EXPECT_EQ(*decode("i9223372036854775807e").value().as_int(), INT64_MAX);
  EXPECT_EQ(*decode("i-9223372036854775808e").value().as_int(), INT64_MIN);
  EXPECT_EQ(*decode("4:spam").value().as_string(), "spam");
  EXPECT_EQ(*decode("0:").value().as_string(), "");
  std::string with_nul("3:a\0b", 5);
  EXPECT_EQ(*decode(with_nul).value().as_string(), std::string("a\0b", 3));
}

TEST(Bencode, KeepsKeyOrderAsReceivedAndLooksUpAnyOrder) {
  Dict d = decode_dict("d7:command5:offer7:call-id3:abc8:from-tag2:ft5:flagsl5:trust3:SIPee");
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d.item(0).key, "command");
  EXPECT_EQ(d.item(1).key, "call-id");
  EXPECT_EQ(d.item(3).key, "flags");
  EXPECT_EQ(d.get_string("command"), "offer");
  EXPECT_EQ(d.get_string("from-tag"), "ft");
  EXPECT_EQ(d.get_string("flags"), std::nullopt);  // a list, not a string
  EXPECT_EQ(d.get_string("missing"), std::nullopt);
  auto flags = d.get_string_list("flags");
  ASSERT_TRUE(flags);
  EXPECT_EQ(*flags, (std::vector<std::string_view>{"trust", "SIP"}));
  EXPECT_TRUE(d.has_in_list("flags", "SIP"));
  EXPECT_FALSE(d.has_in_list("flags", "sip"));
  EXPECT_FALSE(d.get_string_list("command"));
}

TEST(Bencode, NestedAccessors) {
  Dict d = decode_dict("d1:ai5e1:bd1:cli1ei2eee1:ll1:x1:yee");
  EXPECT_EQ(d.get_int("a"), 5);
  EXPECT_EQ(d.get_int("b"), std::nullopt);
  const Dict* b = d.get_dict("b");
  ASSERT_NE(b, nullptr);
  ASSERT_NE(b->get_list("c"), nullptr);
  EXPECT_EQ(b->get_list("c")->size(), 2u);
  EXPECT_EQ(d.get_dict("a"), nullptr);
  Dict mixed = decode_dict("d1:lli1e1:xee");
  EXPECT_FALSE(mixed.get_string_list("l"));  // a non-string element
}

TEST(Bencode, RefusesMalformedIntegers) {
  EXPECT_NE(decode_error("i-0e").find("negative zero"), std::string::npos);
  EXPECT_NE(decode_error("i03e").find("leading zero"), std::string::npos);
  EXPECT_NE(decode_error("ie").find("empty integer"), std::string::npos);
  EXPECT_NE(decode_error("i-e").find("empty integer"), std::string::npos);
  EXPECT_NE(decode_error("i1x2e").find("bad integer"), std::string::npos);
  EXPECT_NE(decode_error("i9223372036854775808e").find("out of range"), std::string::npos);
  EXPECT_NE(decode_error("i99999999999999999999e").find("too large"), std::string::npos);
}

TEST(Bencode, RefusesOtherGarbage) {
  EXPECT_NE(decode_error("x").find("unexpected character at byte 0"), std::string::npos);
  EXPECT_NE(decode_error("05:abcde").find("leading zero"), std::string::npos);
  EXPECT_NE(decode_error("3x").find("bad string length"), std::string::npos);
  EXPECT_NE(decode_error("di1ei2ee").find("key is not a string"), std::string::npos);
  EXPECT_NE(decode_error("d1:ai1e1:ai2ee").find("duplicate key"), std::string::npos);
  EXPECT_NE(decode_error("i1ei2e").find("trailing bytes"), std::string::npos);
  EXPECT_NE(decode_error("").find("truncated"), std::string::npos);
  EXPECT_NE(decode_error("d3:abc").find("truncated"), std::string::npos);
}

TEST(Bencode, DuplicateKeysInLargeDictionaries) {
  std::string s = "d";
  for (int i = 0; i < 100; ++i)
    s += "3:k" + std::string(1, 'A' + i / 10) + std::string(1, 'a' + i % 10) + "i1e";
  EXPECT_TRUE(decode(s + "e").ok());
  EXPECT_NE(decode_error(s + "3:kAai2ee").find("duplicate key"), std::string::npos);
}

TEST(Bencode, PrefixDistinguishesIncompleteFromInvalid) {
  const std::string msg = "d7:command4:pinge";
  for (std::size_t n = 0; n < msg.size(); ++n) {
    auto r = decode_prefix(msg.substr(0, n));
    EXPECT_EQ(r.status, DecodeStatus::kIncomplete) << n;
    EXPECT_EQ(scan_prefix(msg.substr(0, n)).status, DecodeStatus::kIncomplete) << n;
  }
  auto r = decode_prefix(msg + "d7:command");
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.consumed, msg.size());
  EXPECT_EQ(r.value.as_dict()->get_string("command"), "ping");
  auto s = scan_prefix(msg + "garbage");
  EXPECT_EQ(s.status, DecodeStatus::kOk);
  EXPECT_EQ(s.consumed, msg.size());
  auto bad = decode_prefix("d7:command4:pingXe");
  EXPECT_EQ(bad.status, DecodeStatus::kInvalid);
  EXPECT_NE(bad.error.find("key is not a string at byte 16"), std::string::npos) << bad.error;
  EXPECT_EQ(scan_prefix("l4:spamq").status, DecodeStatus::kInvalid);
}

TEST(Bencode, DepthLimit) {
  DecodeLimits limits;
  limits.max_depth = 4;
  EXPECT_TRUE(decode("llllee"
                     "ee",
                     limits)
                  .ok());
  EXPECT_NE(decode_error("lllllee"
                         "eee",
                         limits)
                .find("nesting too deep"),
            std::string::npos);
  // A hostile nest far deeper than the stack could take fails fast on the default limit.
  std::string deep(1'000'000, 'l');
  auto r = decode_prefix(deep);
  EXPECT_EQ(r.status, DecodeStatus::kInvalid);
  EXPECT_EQ(scan_prefix(deep).status, DecodeStatus::kInvalid);
}

TEST(Bencode, SizeLimit) {
  DecodeLimits limits;
  limits.max_size = 16;
  EXPECT_TRUE(decode("d3:abc5:hello"
                     "e",
                     limits)
                  .ok());  // 15 bytes
  // A string announcing more than the limit is invalid at once, before its bytes arrive.
  auto r = decode_prefix("100:abc", limits);
  EXPECT_EQ(r.status, DecodeStatus::kInvalid);
  EXPECT_NE(r.error.find("exceeds the size limit"), std::string::npos);
  // An open list that reaches the limit can never complete within it.
  auto l = decode_prefix("li1ei2ei3ei4ei5ei6e", limits);
  EXPECT_EQ(l.status, DecodeStatus::kInvalid);
  EXPECT_NE(l.error.find("longer than 16"), std::string::npos);
  EXPECT_EQ(decode_prefix("li1ei2e", limits).status, DecodeStatus::kIncomplete);
  EXPECT_EQ(decode_prefix("4294967296:x").status, DecodeStatus::kInvalid);
  EXPECT_EQ(decode_prefix("99999999999:x").status, DecodeStatus::kInvalid);
}

TEST(Bencode, EncodesWithSortedKeys) {
  Dict d;
  d.set("result", "ok");
  d.set("sdp", "v=0\r\n");
  d.set("call-id", std::string("a\0b", 3));
  d.set("n", -12);
  d.set("size", std::size_t{7});
  d.set("port", std::uint16_t{2223});
  d.set("l", List{Value("x"), Value(3)});
  Dict inner;
  inner.set("z", 1);
  inner.set("a", 2);
  d.set("inner", std::move(inner));
  EXPECT_EQ(encode(d), std::string("d7:call-id3:a\0b", 15) +
                           "5:innerd1:ai2e1:zi1ee1:ll1:xi3ee1:ni-12e" +
                           "4:porti2223e6:result2:ok3:sdp5:v=0\r\n4:sizei7ee");
  // set() replaces in place; erase() removes.
  d.set("result", "error");
  EXPECT_EQ(d.get_string("result"), "error");
  EXPECT_EQ(d.item(0).key, "result");
  EXPECT_TRUE(d.erase("sdp"));
  EXPECT_FALSE(d.erase("sdp"));
  EXPECT_EQ(d.size(), 7u);
}

TEST(Bencode, RoundTrip) {
  const std::string wire = "d3:bar4:spam3:fooi42e4:listl1:ai-1ed1:xleeee";
  auto v = decode(wire);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(encode(v.value()), wire);
  EXPECT_EQ(decode(encode(v.value())).value(), v.value());
  // Unsorted input decodes in its order and re-encodes sorted.
  EXPECT_EQ(encode(decode("d1:bi1e1:ai2ee").value()), "d1:ai2e1:bi1ee");
}

}  // namespace
}  // namespace strowger::common::bencode
