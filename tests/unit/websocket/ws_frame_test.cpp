// Frame header parsing and writing, unmasking in pieces, the UTF-8 check.
#include "modules/websocket/ws_frame.h"

#include <gtest/gtest.h>

#include "ws_test_util.h"

namespace strowger::modules::websocket {
namespace {

FrameParse parse(const std::string& bytes, FrameHeader* h) {
  return parse_frame_header(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), h);
}

TEST(WsFrame, ParsesEachLengthEncoding) {
  for (std::size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u, 70000u}) {
    const std::string f = test::client_frame(0x1, std::string(n, 'x'));
    FrameHeader h;
    ASSERT_EQ(parse(f, &h), FrameParse::kOk) << n;
    EXPECT_EQ(h.payload_length, n);
    EXPECT_EQ(h.header_length, f.size() - n);
    EXPECT_TRUE(h.fin);
    EXPECT_TRUE(h.masked);
    EXPECT_EQ(h.opcode, Opcode::kText);
    // Every shorter prefix of the header asks for more.
    for (std::size_t k = 0; k < h.header_length; ++k)
      EXPECT_EQ(parse(f.substr(0, k), &h), FrameParse::kNeedMore) << n << " " << k;
  }
}

TEST(WsFrame, RejectsWhatNoFrameMayBe) {
  FrameHeader h;
  EXPECT_EQ(parse(test::client_frame(0x1, "a", true, true, 0x4), &h), FrameParse::kInvalid);
  EXPECT_EQ(parse(test::client_frame(0x1, "a", true, true, 0x1), &h), FrameParse::kInvalid);
  for (std::uint8_t op : {0x3, 0x7, 0xB, 0xF})
    EXPECT_EQ(parse(test::client_frame(op, "a"), &h), FrameParse::kInvalid) << int(op);
  // Control frames: at most 125 bytes, never fragmented.
  EXPECT_EQ(parse(test::client_frame(0x9, std::string(126, 'p')), &h), FrameParse::kInvalid);
  EXPECT_EQ(parse(test::client_frame(0x9, "p", false), &h), FrameParse::kInvalid);
  EXPECT_EQ(parse(test::client_frame(0x9, std::string(125, 'p')), &h), FrameParse::kOk);
  // A 64-bit length with its top bit set.
  std::string big("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x01", 10);
  big += "abcd";
  EXPECT_EQ(parse(big, &h), FrameParse::kInvalid);
  // The largest legal length parses (the session refuses it on size, not here).
  std::string max("\x81\xFF\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10);
  max += "abcd";
  ASSERT_EQ(parse(max, &h), FrameParse::kOk);
  EXPECT_EQ(h.payload_length, 0x7FFFFFFFFFFFFFFFull);
}

TEST(WsFrame, WritesMinimalHeaders) {
  std::uint8_t b[kMaxFrameHeader];
  EXPECT_EQ(write_frame_header(Opcode::kText, 5, b), 2u);
  EXPECT_EQ(b[0], 0x81);
  EXPECT_EQ(b[1], 5);
  EXPECT_EQ(write_frame_header(Opcode::kBinary, 126, b), 4u);
  EXPECT_EQ(b[1], 126);
  EXPECT_EQ(b[2], 0);
  EXPECT_EQ(b[3], 126);
  EXPECT_EQ(write_frame_header(Opcode::kPing, 65536, b), 10u);
  EXPECT_EQ(b[0], 0x89);
  EXPECT_EQ(b[1], 127);
  EXPECT_EQ(b[7], 1);
  EXPECT_EQ(b[9], 0);
  // What we write parses back (as an unmasked frame).
  for (std::uint64_t n : {0ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 40}) {
    const std::size_t len = write_frame_header(Opcode::kText, n, b);
    FrameHeader h;
    ASSERT_EQ(parse_frame_header(b, len, &h), FrameParse::kOk);
    EXPECT_EQ(h.payload_length, n);
    EXPECT_FALSE(h.masked);
  }
}

TEST(WsFrame, UnmasksInPieces) {
  const std::uint8_t mask[4] = {1, 2, 3, 4};
  std::uint8_t whole[7] = {10, 20, 30, 40, 50, 60, 70};
  std::uint8_t pieces[7] = {10, 20, 30, 40, 50, 60, 70};
  unmask(whole, 7, mask, 0);
  unmask(pieces, 3, mask, 0);
  unmask(pieces + 3, 4, mask, 3);
  EXPECT_EQ(std::string(whole, whole + 7), std::string(pieces, pieces + 7));
  EXPECT_EQ(whole[4], 50 ^ 1);
}

TEST(WsFrame, Utf8) {
  EXPECT_TRUE(is_valid_utf8("REGISTER sip:a SIP/2.0"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("a\x80"));
}

}  // namespace
}  // namespace strowger::modules::websocket
