// Unit tests for StreamFramer: partial reads, pipelining, keep-alives, limits, bad
// Content-Length, and every torture-corpus message sent on its own stream.
#include "proxy/sip/framing.h"

#include <gtest/gtest.h>

#include "test_files.h"

namespace strowger::proxy::sip {
namespace {

using Kind = Frame::Kind;

std::string msg(const std::string& body = "hello", const std::string& cl_header = "") {
  std::string cl = cl_header.empty() ? "Content-Length: " + std::to_string(body.size()) : cl_header;
  return "MESSAGE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
         "Call-ID: c\r\n" +
         cl + "\r\n\r\n" + body;
}

TEST(Framing, WholeMessage) {
  StreamFramer framer(65535);
  std::string m = msg();
  Frame f = framer.next(m);
  EXPECT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(f.skip, 0u);
  EXPECT_EQ(f.length, m.size());
  EXPECT_EQ(f.head_length, m.size() - 5);
}

TEST(Framing, ByteByByte) {
  StreamFramer framer(65535);
  std::string m = msg("body with \r\n\r\n inside");
  for (std::size_t n = 0; n < m.size(); n++) {
    Frame f = framer.next(std::string_view(m).substr(0, n));
    ASSERT_EQ(f.kind, Kind::kNeedMore) << n;
  }
  Frame f = framer.next(m);
  EXPECT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(f.length, m.size());
}

TEST(Framing, TwoMessagesInOneBuffer) {
  StreamFramer framer(65535);
  std::string a = msg("first"), b = msg("second!");
  std::string buf = a + b + "INV";
  Frame f = framer.next(buf);
  ASSERT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(buf.substr(f.skip, f.length), a);
  buf.erase(0, f.skip + f.length);
  f = framer.next(buf);
  ASSERT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(buf.substr(f.skip, f.length), b);
  buf.erase(0, f.skip + f.length);
  EXPECT_EQ(framer.next(buf).kind, Kind::kNeedMore);
}

TEST(Framing, KeepAlives) {
  StreamFramer framer(65535);
  Frame ping = framer.next("\r\n\r\n");
  EXPECT_EQ(ping.kind, Kind::kNeedMore);
  EXPECT_EQ(ping.skip, 4u);
  std::string buf = "\r\n\r\n\r\n" + msg();
  Frame f = framer.next(buf);
  ASSERT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(f.skip, 6u);
  EXPECT_EQ(f.length, msg().size());
  EXPECT_EQ(framer.next("").kind, Kind::kNeedMore);
}

TEST(Framing, ContentLengthForms) {
  StreamFramer framer(65535);
  for (const char* header : {"l: 5", "content-length   :  5", "CONTENT-LENGTH:5",
                             "Content-Length:\r\n 5", "Content-Length: 5  ", "L\t:\t5"}) {
    std::string m = msg("hello", header);
    Frame f = framer.next(m);
    EXPECT_EQ(f.kind, Kind::kMessage) << header;
    EXPECT_EQ(f.length, m.size()) << header;
  }
  // Same value twice is not a conflict; headers that only start alike are not Content-Length.
  std::string twice = msg("hello", "Content-Length: 5\r\nl: 5");
  EXPECT_EQ(framer.next(twice).kind, Kind::kMessage);
  std::string lookalike = msg("hello", "Content-Length: 5\r\nContent-Length-X: 9\r\nlx: 7");
  EXPECT_EQ(framer.next(lookalike).kind, Kind::kMessage);
  std::string bare_lf = "OPTIONS sip:a SIP/2.0\nContent-Length: 2\n\nhi";
  Frame f = framer.next(bare_lf);
  EXPECT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(f.length, bare_lf.size());
}

TEST(Framing, BadContentLength) {
  StreamFramer framer(65535);
  for (const char* header : {"Content-Length: -5", "Content-Length: abc", "Content-Length: 5x",
                             "Content-Length:", "Content-Length: 5\r\nl: 6", "X-Other: 5"}) {
    Frame f = framer.next(msg("hello", header));
    EXPECT_EQ(f.kind, Kind::kError) << header;
    EXPECT_EQ(f.error_status, 400) << header;
  }
}

TEST(Framing, TooLarge) {
  StreamFramer framer(200);
  EXPECT_EQ(framer.max_message_size(), 200u);
  Frame f = framer.next(msg(std::string(150, 'x')));
  EXPECT_EQ(f.kind, Kind::kError);
  EXPECT_EQ(f.error_status, 513);
  f = framer.next(msg("x", "Content-Length: 99999999999999999999999999"));
  EXPECT_EQ(f.kind, Kind::kError);
  EXPECT_EQ(f.error_status, 513);
  std::string endless = "INVITE sip:a SIP/2.0\r\nX: " + std::string(300, 'a');
  EXPECT_EQ(framer.next(endless.substr(0, 150)).kind, Kind::kNeedMore);
  f = framer.next(endless);
  EXPECT_EQ(f.kind, Kind::kError);
  EXPECT_EQ(f.error_status, 513);
  std::string big_head = "INVITE sip:a SIP/2.0\r\nX: " + std::string(300, 'a') + "\r\n\r\n";
  f = framer.next(big_head);
  EXPECT_EQ(f.kind, Kind::kError);
  EXPECT_EQ(f.error_status, 513);
}

// Each corpus message on a fresh TCP connection (README "How a test uses it").
TEST(Framing, TortureCorpusOnAStream) {
  StreamFramer framer(65535);
  int checked = 0;
  for (const auto& row : testing::read_manifest()) {
    SCOPED_TRACE(row.file);
    std::string bytes = testing::read_file(testing::torture_path(row.file));
    Frame f = framer.next(bytes);
    if (row.file == "clerr.sip") {
      EXPECT_EQ(f.kind, Kind::kNeedMore);  // waits for the missing body
    } else if (row.file == "ncl.sip" || row.file == "mcl01.sip" || row.file == "inv2543.sip") {
      EXPECT_EQ(f.kind, Kind::kError);  // negative, conflicting, missing Content-Length
      EXPECT_EQ(f.error_status, 400);
    } else if (row.file == "dblreq.sip") {
      ASSERT_EQ(f.kind, Kind::kMessage);  // on a stream the INVITE after it is a second message
      EXPECT_LT(f.length, bytes.size());
      Frame second = framer.next(std::string_view(bytes).substr(f.skip + f.length));
      EXPECT_EQ(second.kind, Kind::kMessage);
    } else {
      EXPECT_EQ(f.kind, Kind::kMessage);
      EXPECT_EQ(f.length, bytes.size());
    }
    checked++;
  }
  EXPECT_EQ(checked, 61);
}

}  // namespace
}  // namespace strowger::proxy::sip
