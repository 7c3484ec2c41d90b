// Message::set_body: the body is replaced, Content-Length follows it, Content-Type and the
// other headers stay byte for byte, and the result parses again.
#include <gtest/gtest.h>

#include <string>

#include "proxy/sip/message.h"

namespace strowger::proxy::sip {
namespace {

constexpr const char* kInvite =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@example.org>;tag=1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 INVITE\r\n"
    "X-Keep:   odd  spacing\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 10\r\n"
    "\r\n"
    "v=0\r\no=x\r\n";

Message parse(std::string_view text) {
  auto m = Message::parse(text);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return std::move(m.value());
}

std::string header_line(std::string_view wire, std::string_view name) {
  std::size_t at = wire.find(std::string("\r\n") + std::string(name) + ":");
  if (at == std::string_view::npos) return {};
  at += 2;
  return std::string(wire.substr(at, wire.find("\r\n", at) - at));
}

TEST(MessageBody, ReplacesBodyAndContentLength) {
  Message m = parse(kInvite);
  ASSERT_EQ(m.body(), "v=0\r\no=x\r\n");
  std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 30000 RTP/AVP 0\r\n";
  ASSERT_TRUE(m.set_body(sdp));
  EXPECT_EQ(m.body(), sdp);
  EXPECT_EQ(m.content_type(), "application/sdp");
  std::string wire(m.wire());
  EXPECT_EQ(header_line(wire, "Content-Length"), "Content-Length: " + std::to_string(sdp.size()));
  EXPECT_EQ(header_line(wire, "X-Keep"), "X-Keep:   odd  spacing");
  EXPECT_EQ(header_line(wire, "Content-Type"), "Content-Type: application/sdp");
  ASSERT_GE(wire.size(), sdp.size());
  EXPECT_EQ(wire.substr(wire.size() - sdp.size()), sdp);
  EXPECT_NE(wire.find("\r\n\r\n" + sdp), std::string::npos);

  // What we send parses back to the same body, once.
  Message again = parse(wire);
  EXPECT_EQ(again.body(), sdp);
  EXPECT_EQ(again.header_values("Content-Length"),
            std::vector<std::string>{std::to_string(sdp.size())});
}

TEST(MessageBody, ShorterBodyTwiceAndEmpty) {
  Message m = parse(kInvite);
  ASSERT_TRUE(m.set_body("a longer body than before\r\n"));
  ASSERT_TRUE(m.set_body("v=1\r\n"));
  std::string wire(m.wire());
  EXPECT_EQ(header_line(wire, "Content-Length"), "Content-Length: 5");
  EXPECT_EQ(wire.substr(wire.size() - 9), "\r\n\r\nv=1\r\n");
  EXPECT_EQ(wire.find("longer"), std::string::npos);

  ASSERT_TRUE(m.set_body(""));
  wire = std::string(m.wire());
  EXPECT_EQ(header_line(wire, "Content-Length"), "Content-Length: 0");
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");
  EXPECT_TRUE(m.body().empty());
  EXPECT_EQ(m.content_type(), "application/sdp");  // kept, as documented
}

TEST(MessageBody, BodyOnMessageWithoutOne) {
  Message m = parse(
      "SIP/2.0 200 OK\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
      "From: <sip:alice@example.org>;tag=1\r\n"
      "To: <sip:bob@example.com>;tag=2\r\n"
      "Call-ID: c1\r\n"
      "CSeq: 1 INVITE\r\n"
      "\r\n");
  ASSERT_TRUE(m.set_body("v=0\r\n"));
  std::string wire(m.wire());
  EXPECT_EQ(header_line(wire, "Content-Length"), "Content-Length: 5");
  EXPECT_EQ(wire.substr(wire.size() - 9), "\r\n\r\nv=0\r\n");
  Message again = parse(wire);
  EXPECT_EQ(again.body(), "v=0\r\n");
  EXPECT_EQ(again.status(), 200);
}

TEST(MessageBody, CloneKeepsTheNewBody) {
  Message m = parse(kInvite);
  ASSERT_TRUE(m.set_body("v=9\r\n"));
  Message c = m.clone();
  EXPECT_EQ(c.body(), "v=9\r\n");
  EXPECT_EQ(header_line(std::string(c.wire()), "Content-Length"), "Content-Length: 5");
}

}  // namespace
}  // namespace strowger::proxy::sip
