// Unit tests for Message: parsing, accessors, validate() and make_response().
#include "proxy/sip/message.h"

#include <gtest/gtest.h>

namespace strowger::proxy::sip {
namespace {

const std::string kSdp =
    "v=0\r\no=alice 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n";

std::string invite() {
  return "INVITE sip:bob@example.com:5062;transport=tcp SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK74bf9;rport\r\n"
         "v: SIP/2.0/tcp [2001:db8::1];branch=z9hG4bKaa;received=192.0.2.1;maddr=239.1.1.1\r\n"
         "Max-Forwards: 70\r\n"
         "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
         "From: Alice <sip:alice@example.com>;tag=9fxced76sl\r\n"
         "To: Bob <sip:bob@example.com>\r\n"
         "Call-ID: 3848276298220188511@192.0.2.20\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: <sip:alice@192.0.2.20:5060;transport=udp>\r\n"
         "X-Custom: hello  world\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(kSdp.size()) + "\r\n\r\n" + kSdp;
}

std::string options(const std::string& extra = "", const std::string& ruri = "sip:a@example.com",
                    const std::string& cseq = "1 OPTIONS") {
  return "OPTIONS " + ruri +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
         "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\n"
         "CSeq: " +
         cseq + "\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

std::optional<ParseFailure> check(const std::string& text) {
  auto m = Message::parse(text);
  if (!m.ok()) return ParseFailure{m.error().code, m.error().message};
  return m->validate();
}

TEST(Message, ParsesRequest) {
  auto m = Message::parse(invite());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_FALSE(m->validate().has_value());
  EXPECT_TRUE(m->is_request());
  EXPECT_EQ(m->method(), Method::kInvite);
  EXPECT_EQ(m->method_name(), "INVITE");
  EXPECT_EQ(m->sip_version(), "SIP/2.0");
  Uri ruri = m->request_uri();
  EXPECT_EQ(ruri.user, "bob");
  EXPECT_EQ(ruri.host, "example.com");
  EXPECT_EQ(ruri.port, 5062);
  EXPECT_EQ(ruri.param("transport"), "tcp");
  EXPECT_EQ(m->call_id(), "3848276298220188511@192.0.2.20");
  EXPECT_EQ(m->cseq(), 1u);
  EXPECT_EQ(m->cseq_method(), Method::kInvite);
  EXPECT_EQ(m->from_tag(), "9fxced76sl");
  EXPECT_EQ(m->to_tag(), "");
  EXPECT_EQ(m->from_uri()->user, "alice");
  EXPECT_EQ(m->to_uri()->user, "bob");
  EXPECT_EQ(m->max_forwards(), 70u);
  EXPECT_EQ(m->contact_uri()->to_string(), "sip:alice@192.0.2.20:5060;transport=udp");
  EXPECT_EQ(m->body(), kSdp);
  EXPECT_EQ(m->content_type(), "application/sdp");
  EXPECT_EQ(m->status(), 0);
}

TEST(Message, ReadsVias) {
  auto m = Message::parse(invite());
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->via_count(), 2u);
  auto top = m->via(0);
  ASSERT_TRUE(top);
  EXPECT_EQ(top->transport, "UDP");
  EXPECT_EQ(top->host, "192.0.2.20");
  EXPECT_EQ(top->port, 5060);
  EXPECT_EQ(top->branch, "z9hG4bK74bf9");
  EXPECT_TRUE(top->has_rport);
  EXPECT_EQ(top->rport, "");
  EXPECT_EQ(top->received, "");
  auto second = m->via(1);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->transport, "TCP");
  EXPECT_EQ(second->host, "[2001:db8::1]");
  EXPECT_EQ(second->port, 0);
  EXPECT_EQ(second->received, "192.0.2.1");
  EXPECT_EQ(second->maddr, "239.1.1.1");
  EXPECT_EQ(top->maddr, "");
  EXPECT_FALSE(second->has_rport);
  EXPECT_FALSE(m->via(2).has_value());
}

TEST(Message, ReadsRoutesAndHeadersByName) {
  auto m = Message::parse(invite());
  ASSERT_TRUE(m.ok());
  auto routes = m->routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].to_string(), "sip:p1.example.com;lr");
  EXPECT_EQ(routes[1].host, "p2.example.com");
  EXPECT_TRUE(m->has_header("via"));
  EXPECT_TRUE(m->has_header("V"));
  EXPECT_TRUE(m->has_header("x-custom"));
  EXPECT_FALSE(m->has_header("Subject"));
  EXPECT_FALSE(m->has_header("X-Other"));
  EXPECT_FALSE(m->has_header("bad name"));
  EXPECT_EQ(m->header_values("Via").size(), 2u);
  EXPECT_EQ(m->header_values("X-CUSTOM"), std::vector<std::string>{"hello  world"});
  EXPECT_EQ(m->header_values("Max-Forwards"), std::vector<std::string>{"70"});
  EXPECT_EQ(m->header_values("i"), std::vector<std::string>{"3848276298220188511@192.0.2.20"});
}

TEST(Message, ParsesResponse) {
  auto m = Message::parse(
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: c1\r\n"
      "CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->validate().has_value());
  EXPECT_TRUE(m->is_response());
  EXPECT_EQ(m->status(), 180);
  EXPECT_EQ(m->reason(), "Ringing");
  EXPECT_EQ(m->method(), Method::kInvite);
  EXPECT_EQ(m->method_name(), "INVITE");
  EXPECT_EQ(m->to_tag(), "2");
  EXPECT_EQ(m->make_response(200, "OK", ""), "");  // never answer a response
}

TEST(Message, ParseFailures) {
  EXPECT_EQ(Message::parse("").error().code, 0);
  EXPECT_EQ(Message::parse("\r\n\r\n").error().code, 0);
  EXPECT_EQ(Message::parse("hello").error().code, 0);
  EXPECT_EQ(Message::parse("SIP/2.0 abc Bad\r\n\r\n").error().code, 0);
  auto bad_ruri = Message::parse(options("", "sip:2001:db8::10"));
  ASSERT_FALSE(bad_ruri.ok());
  EXPECT_EQ(bad_ruri.error().code, 400);
}

TEST(Message, LeadingCrlfIsIgnored) {
  auto m = Message::parse("\r\n\r\n" + options());
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->validate().has_value());
  EXPECT_EQ(m->wire(), options());
}

TEST(Message, ValidateRequests) {
  EXPECT_FALSE(check(options()).has_value());
  EXPECT_FALSE(check(options("", "tel:+15551234")).has_value());
  EXPECT_FALSE(check(options("", "urn:service:sos")).has_value());
  EXPECT_FALSE(check(options("", "sip:[2001:db8::1]:5060")).has_value());
  EXPECT_FALSE(check(options("Content-Length: 0\r\n")).has_value());  // same value twice

  auto expect_400 = [](const std::string& text, std::string_view reason_part) {
    auto f = check(text);
    ASSERT_TRUE(f.has_value()) << text;
    EXPECT_EQ(f->status, 400) << f->reason;
    EXPECT_NE(f->reason.find(reason_part), std::string::npos) << f->reason;
  };
  expect_400(options("", "sip:a@example.com", "1 INVITE"), "CSeq method");
  expect_400(options("", "sip:a@example.com", "4294967296 OPTIONS"), "CSeq");
  expect_400(options("Max-Forwards: 256\r\n"), "Max-Forwards");
  expect_400(options("Call-ID: c2\r\n"), "repeated Call-ID");
  expect_400(options("Content-Length: 4\r\n"), "Content-Length");
  expect_400(options("", "sip:a@example.com:65536"), "Request-URI");
  expect_400(options("", "sip:a@example.com?Route=%3Csip:x%3E"), "headers in Request-URI");
  expect_400(options("", "<sip:a@example.com>"), "<>");
  expect_400(options("", " sip:a@example.com"), "whitespace");
  expect_400(options("Date: Sat, 13 Nov 2010 23:29:00 PST\r\n"), "Date");

  std::string no_call_id = options();
  no_call_id.erase(no_call_id.find("Call-ID: c1\r\n"), 13);
  expect_400(no_call_id, "missing Call-ID");

  std::string trailing = options();
  trailing.insert(trailing.find("\r\n"), "  ");
  expect_400(trailing, "whitespace");

  std::string spaced_to = options();
  spaced_to.replace(spaced_to.find("<sip:b@example.com>"), 19, "< sip:b@example.com>");
  expect_400(spaced_to, "To");

  std::string quoted_ok = options();
  quoted_ok.replace(quoted_ok.find("To: "), 4, "To: \"B <x> \\\" y\" ");
  EXPECT_FALSE(check(quoted_ok).has_value()) << quoted_ok;

  std::string v3 = options();
  v3.replace(v3.find("SIP/2.0/UDP"), 11, "SIP/3.0/UDP");
  auto f = check(v3);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 505);
}

TEST(Message, DatagramWithoutEmptyLine) {
  // sofia takes a datagram that ends after its last header line; we add the empty line.
  std::string text = options();
  text.resize(text.size() - 2);
  auto m = Message::parse(text);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->validate().has_value());
  EXPECT_EQ(m->wire(), options());
  // ... but not one that stops in the middle of a header line.
  text.resize(text.size() - 2);
  auto cut = check(text);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->status, 400);
}

TEST(Message, ValidateResponses) {
  auto response = [](const std::string& status_line, const std::string& extra = "") {
    return status_line +
           "\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
           "To: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
           extra + "Content-Length: 0\r\n\r\n";
  };
  EXPECT_FALSE(check(response("SIP/2.0 100 ")).has_value());
  EXPECT_FALSE(check(response("SIP/2.0 603 Decline", "Date: nonsense\r\n")).has_value());
  EXPECT_EQ(check(response("SIP/2.0 099 Low"))->status, 0);
  EXPECT_EQ(check(response("SIP/2.0 700 High"))->status, 0);
  EXPECT_EQ(check(response("SIP/3.0 200 OK"))->status, 0);
  EXPECT_EQ(check(response("SIP/2.0 200 OK", "CSeq: 2 INVITE\r\n"))->status, 0);
  EXPECT_EQ(check(response("SIP/2.0 200 OK", "Content-Length: 9\r\n"))->status, 0);
}

TEST(Message, MakeResponseCopiesCoreHeaders) {
  std::string req =
      "INVITE sip:b@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
      "v: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK9\r\n"
      "f: <sip:a@example.com>;tag=1\r\nTo: B <sip:b@example.com> \r\nCall-ID: c1\r\n"
      "CSeq: 5 INVITE\r\nDate: bogus\r\nContent-Length: 0\r\n\r\n";
  auto m = Message::parse(req);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->validate().has_value());  // the bad Date
  std::string r =
      m->make_response(400, "Bad Request - bad Date header", "abc", "Warning: 399 proxy \"x\"\r\n");
  EXPECT_EQ(r,
            "SIP/2.0 400 Bad Request - bad Date header\r\n"
            "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP "
            "192.0.2.1;branch=z9hG4bK1\r\n"
            "v: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK9\r\n"
            "f: <sip:a@example.com>;tag=1\r\nTo: B <sip:b@example.com>;tag=abc\r\nCall-ID: c1\r\n"
            "CSeq: 5 INVITE\r\nWarning: 399 proxy \"x\"\r\nContent-Length: 0\r\n\r\n");
  auto parsed = Message::parse(r);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->validate().has_value());
  EXPECT_EQ(parsed->via_count(), 3u);
  EXPECT_EQ(parsed->to_tag(), "abc");

  // A To that already has a tag keeps it; an empty to_tag adds none.
  auto tagged = Message::parse(options().replace(options().find("To: <sip:b@example.com>"), 23,
                                                 "To: <sip:b@example.com>;tag=x"));
  ASSERT_TRUE(tagged.ok());
  EXPECT_NE(tagged->make_response(200, "OK", "y").find("To: <sip:b@example.com>;tag=x\r\n"),
            std::string::npos);
  auto plain = Message::parse(options());
  EXPECT_NE(plain->make_response(100, "Trying", "").find("To: <sip:b@example.com>\r\n"),
            std::string::npos);
  EXPECT_EQ(plain->make_response(99, "x", ""), "");
  EXPECT_EQ(plain->make_response(200, "Evil\r\nX: y", "").rfind("SIP/2.0 200 EvilX: y\r\n", 0), 0u);
}

TEST(Message, MakeResponseWithMissingHeaders) {
  // RFC 4475 3.3.1 style: no Call-ID, From or To. Still answerable with what is there.
  auto m = Message::parse(
      "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->validate()->status, 400);
  std::string r = m->make_response(400, "Bad Request", "t");
  EXPECT_EQ(r,
            "SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
}

TEST(Message, MethodNames) {
  for (int i = 1; i <= static_cast<int>(Method::kPublish); i++) {
    auto m = static_cast<Method>(i);
    EXPECT_EQ(method_from_name(method_name(m)), m);
  }
  EXPECT_EQ(method_from_name("invite"), Method::kUnknown);  // methods are case-sensitive
  EXPECT_EQ(method_from_name("FOO"), Method::kUnknown);
  EXPECT_EQ(method_name(Method::kUnknown), "");
}

TEST(Message, CloneIsIndependent) {
  std::optional<Message> copy;
  std::string original_wire;
  {
    auto m = Message::parse(invite());
    ASSERT_TRUE(m.ok());
    original_wire = std::string(m->wire());
    copy.emplace(m->clone());
    EXPECT_EQ(copy->wire(), original_wire);  // byte for byte, order kept
    copy->push_via("SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKc");
    EXPECT_EQ(m->wire(), original_wire);
    EXPECT_EQ(m->via_count(), 2u);
  }  // the original is gone; the copy must not depend on it
  EXPECT_EQ(copy->via_count(), 3u);
  EXPECT_EQ(copy->body(), kSdp);
  std::string w(copy->wire());
  auto again = Message::parse(w);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->validate().has_value());
  EXPECT_EQ(again->via(0)->branch, "z9hG4bKc");
  EXPECT_EQ(again->via_count(), 3u);
  EXPECT_EQ(again->body(), kSdp);
}

TEST(Message, MoveKeepsMessage) {
  auto m = Message::parse(options());
  ASSERT_TRUE(m.ok());
  Message a = std::move(*m);
  Message b = std::move(a);
  EXPECT_EQ(b.call_id(), "c1");
  a = std::move(b);
  EXPECT_EQ(a.call_id(), "c1");
}

}  // namespace
}  // namespace strowger::proxy::sip
