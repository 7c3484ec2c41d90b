// Unit tests for Message edits: Via, received/rport, Max-Forwards, Route, Record-Route,
// headers by name, R-URI, To tag, and that wire() keeps untouched headers byte for byte.
#include <gtest/gtest.h>

#include "proxy/sip/message.h"
#include "test_files.h"

namespace strowger::proxy::sip {
namespace {

std::string request(const std::string& vias, const std::string& extra = "") {
  return "INVITE sip:b@example.com SIP/2.0\r\n" + vias +
         "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
         "Call-ID: c1\r\nCSeq: 1 INVITE\r\n" +
         extra + "Content-Length: 0\r\n\r\n";
}

Message parse(const std::string& text) {
  auto m = Message::parse(text);
  EXPECT_TRUE(m.ok()) << text;
  EXPECT_FALSE(m->validate().has_value()) << text;
  return std::move(*m);
}

// Serializes, re-parses and checks the result is still a valid message.
Message reparse(Message& m) {
  std::string w(m.wire());
  return parse(w);
}

TEST(MessageEdit, PushAndPopVia) {
  std::string text = request("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n");
  Message m = parse(text);
  ASSERT_TRUE(m.push_via("SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKproxy"));
  std::string w(m.wire());
  EXPECT_EQ(w.rfind("INVITE sip:b@example.com SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKproxy\r\n"
                    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n",
                    0),
            0u)
      << w;
  Message again = reparse(m);
  EXPECT_EQ(again.via_count(), 2u);
  EXPECT_EQ(again.via(0)->branch, "z9hG4bKproxy");
  m.pop_via();
  EXPECT_EQ(m.wire(), text);
  EXPECT_FALSE(m.push_via(""));
  EXPECT_FALSE(m.push_via("SIP/2.0/UDP h\r\nX: y"));
  EXPECT_FALSE(m.push_via("not a via"));
}

TEST(MessageEdit, ReceivedWhenHostDiffers) {
  Message m = parse(request("Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1\r\n"));
  m.set_via_received("192.0.2.9", 5070);
  Message again = reparse(m);
  EXPECT_EQ(again.via(0)->received, "192.0.2.9");
  EXPECT_FALSE(again.via(0)->has_rport);
}

TEST(MessageEdit, NoReceivedWhenHostMatchesWithoutRport) {
  std::string text = request("Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n");
  Message m = parse(text);
  m.set_via_received("192.0.2.9", 5060);
  EXPECT_EQ(m.wire(), text);
}

TEST(MessageEdit, RportFilledAndReceivedAlwaysAdded) {
  Message m = parse(request("Via: SIP/2.0/UDP 192.0.2.9:5060;rport;branch=z9hG4bK1\r\n"));
  m.set_via_received("192.0.2.9", 40123);
  Message again = reparse(m);
  auto v = again.via(0);
  EXPECT_EQ(v->received, "192.0.2.9");
  EXPECT_TRUE(v->has_rport);
  EXPECT_EQ(v->rport, "40123");
  EXPECT_EQ(v->branch, "z9hG4bK1");
}

TEST(MessageEdit, RportWithValueIsKept) {
  Message m = parse(request("Via: SIP/2.0/UDP 10.0.0.1;rport=1234;branch=z9hG4bK1\r\n"));
  m.set_via_received("192.0.2.9", 40123);
  auto v = reparse(m).via(0);
  EXPECT_EQ(v->received, "192.0.2.9");
  EXPECT_EQ(v->rport, "1234");
}

TEST(MessageEdit, ReceivedIpv6WithoutBrackets) {
  Message m = parse(request("Via: SIP/2.0/UDP [2001:db8::9];rport;branch=z9hG4bK1\r\n"));
  m.set_via_received("[2001:db8::9]", 5060);
  auto v = reparse(m).via(0);
  EXPECT_EQ(v->received, "2001:db8::9");
  EXPECT_EQ(v->rport, "5060");
}

TEST(MessageEdit, EditOneViaOfASharedLine) {
  std::string vias =
      "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b.example.com;branch=z9hG4bKb,"
      "\r\n SIP/2.0/UDP c.example.com;branch=z9hG4bKc\r\n";
  Message m = parse(request(vias));
  ASSERT_EQ(m.via_count(), 3u);
  m.set_via_received("192.0.2.5", 5060);
  Message again = reparse(m);
  ASSERT_EQ(again.via_count(), 3u);
  EXPECT_EQ(again.via(0)->received, "192.0.2.5");
  EXPECT_EQ(again.via(1)->host, "b.example.com");
  EXPECT_EQ(again.via(2)->branch, "z9hG4bKc");

  Message popped = parse(request(vias));
  popped.pop_via();
  Message p = reparse(popped);
  ASSERT_EQ(p.via_count(), 2u);
  EXPECT_EQ(p.via(0)->host, "b.example.com");
  EXPECT_EQ(p.via(1)->host, "c.example.com");
}

TEST(MessageEdit, MaxForwards) {
  Message m = parse(request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"));
  EXPECT_EQ(m.max_forwards(), 70u);
  m.set_max_forwards(69);
  EXPECT_NE(m.wire().find("Max-Forwards: 69\r\n"), std::string_view::npos);
  EXPECT_EQ(reparse(m).max_forwards(), 69u);

  std::string text = request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n");
  text.erase(text.find("Max-Forwards: 70\r\n"), 18);
  Message absent = parse(text);
  EXPECT_FALSE(absent.max_forwards().has_value());
  absent.set_max_forwards(70);
  EXPECT_EQ(absent.max_forwards(), 70u);
  EXPECT_EQ(reparse(absent).max_forwards(), 70u);
}

TEST(MessageEdit, Routes) {
  std::string extra =
      "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
      "Route: <sip:p3.example.com;lr>\r\n";
  Message m = parse(request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", extra));
  ASSERT_EQ(m.routes().size(), 3u);
  m.pop_route();
  Message again = reparse(m);
  auto routes = again.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].host, "p2.example.com");
  EXPECT_EQ(routes[1].host, "p3.example.com");

  m.set_routes({*Uri::parse("sip:x.example.com;lr"), *Uri::parse("sip:[2001:db8::1]:5070;lr")});
  routes = reparse(m).routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].to_string(), "sip:x.example.com;lr");
  EXPECT_EQ(routes[1].to_string(), "sip:[2001:db8::1]:5070;lr");

  m.set_routes({});
  EXPECT_TRUE(reparse(m).routes().empty());
  EXPECT_EQ(m.wire().find("Route"), std::string_view::npos);
  m.pop_route();  // nothing left: no-op
}

TEST(MessageEdit, RecordRouteGoesFirst) {
  Message m = parse(request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
                            "Record-Route: <sip:old.example.com;lr>\r\n"));
  ASSERT_TRUE(m.push_record_route(*Uri::parse("sip:proxy.example.com;lr;transport=tcp")));
  auto rr = reparse(m).record_routes();
  ASSERT_EQ(rr.size(), 2u);
  EXPECT_EQ(rr[0].to_string(), "sip:proxy.example.com;lr;transport=tcp");
  EXPECT_EQ(rr[1].host, "old.example.com");
  EXPECT_EQ(m.record_routes().size(), 2u);
}

TEST(MessageEdit, HeadersByName) {
  Message m = parse(request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
                            "X-Foo: one\r\nx-foo: two\r\nSubject: hi\r\n"));
  EXPECT_EQ(m.header_values("X-FOO"), (std::vector<std::string>{"one", "two"}));
  ASSERT_TRUE(m.add_header("X-Bar", "three; a=b"));
  ASSERT_TRUE(m.add_header("Expires", "60"));
  EXPECT_FALSE(m.add_header("Expires", "soon"));
  EXPECT_FALSE(m.add_header("Bad Name", "x"));
  EXPECT_FALSE(m.add_header("X-Evil", "a\r\nVia: SIP/2.0/UDP evil"));
  EXPECT_EQ(m.remove_headers("x-foo"), 2);
  EXPECT_EQ(m.remove_headers("s"), 1);  // compact form of Subject
  EXPECT_EQ(m.remove_headers("X-None"), 0);
  Message again = reparse(m);
  EXPECT_FALSE(again.has_header("X-Foo"));
  EXPECT_FALSE(again.has_header("Subject"));
  EXPECT_EQ(again.header_values("x-bar"), std::vector<std::string>{"three; a=b"});
  EXPECT_EQ(again.header_values("Expires"), std::vector<std::string>{"60"});
}

TEST(MessageEdit, RequestUriAndToTag) {
  Message m = parse(request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"));
  m.set_request_uri(*Uri::parse("sip:bob@192.0.2.50:5080;transport=tcp"));
  m.set_to_tag("as83kd");
  std::string w(m.wire());
  EXPECT_EQ(w.rfind("INVITE sip:bob@192.0.2.50:5080;transport=tcp SIP/2.0\r\n", 0), 0u) << w;
  Message again = reparse(m);
  EXPECT_EQ(again.request_uri().port, 5080);
  EXPECT_EQ(again.to_tag(), "as83kd");
  EXPECT_EQ(m.to_tag(), "as83kd");
}

TEST(MessageEdit, WireIsCachedUntilTheNextEdit) {
  Message m = parse(request("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"));
  std::string_view a = m.wire();
  std::string_view b = m.wire();
  EXPECT_EQ(a.data(), b.data());
  m.set_max_forwards(10);
  EXPECT_NE(m.wire().find("Max-Forwards: 10"), std::string_view::npos);
}

TEST(MessageEdit, UnknownHeadersPassThroughUnchanged) {
  // RFC 4475 3.1.1.1: UnknownHeaderWithUnusualValue must be forwarded unchanged.
  std::string text = testing::read_file(testing::torture_path("wsinv.sip"));
  Message m = parse(text);
  ASSERT_TRUE(m.push_via("SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKproxy"));
  m.set_max_forwards(*m.max_forwards() - 1);
  m.set_via_received("192.0.2.77", 5060);
  std::string w(m.wire());
  EXPECT_NE(w.find("UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"), std::string::npos) << w;
  EXPECT_NE(w.find("NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n"),
            std::string::npos);
  EXPECT_NE(w.find("Max-Forwards: 67\r\n"), std::string::npos);
  Message again = reparse(m);
  EXPECT_EQ(again.via_count(), 4u);
  EXPECT_EQ(again.via(0)->received, "192.0.2.77");
  EXPECT_EQ(again.body(), m.body());
  EXPECT_EQ(again.header_values("UnknownHeaderWithUnusualValue"),
            std::vector<std::string>{";;,,;;,;"});
}

}  // namespace
}  // namespace strowger::proxy::sip
