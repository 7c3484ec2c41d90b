// Unit tests for Uri: parse/to_string for sip, sips, tel and other schemes, params, ports.
#include "proxy/sip/uri.h"

#include <gtest/gtest.h>

namespace strowger::proxy::sip {
namespace {

TEST(Uri, ParsesAllSipParts) {
  auto u = Uri::parse("sip:alice:secret@example.com:5070;transport=tcp;lr?Subject=x&Priority=y");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "sip");
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 5070);
  EXPECT_EQ(u->params, "transport=tcp;lr");
  EXPECT_EQ(u->headers, "Subject=x&Priority=y");
  EXPECT_TRUE(u->is_sip());
}

TEST(Uri, RoundTrips) {
  for (const char* text :
       {"sip:example.com", "sips:bob@example.com", "sip:bob@192.0.2.1:5060",
        "sip:[2001:db8::10]:5070;transport=tcp", "sip:user;par=u%40example.net@example.com",
        "sip:sips%3Auser%40example.com@example.net", "sip:%41b@h;x=%41", "tel:+1-201-555-0123",
        "tel:7042;phone-context=example.com", "urn:service:sos",
        "nobodyknowsthisscheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002",
        "sip:user@[2001:db8:::192.0.2.1]", "sip:[2001:db8::10:5070]", "sip:h;lr;maddr=1.2.3.4"}) {
    auto u = Uri::parse(text);
    ASSERT_TRUE(u) << text;
    EXPECT_EQ(u->to_string(), text);
  }
}

TEST(Uri, KeepsEscapesAsReceived) {
  auto u = Uri::parse("sip:%61lice%40x@example.com;p=%41");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "%61lice%40x");
  EXPECT_EQ(u->param("p"), "%41");
}

TEST(Uri, SchemeIsLowerCased) {
  auto u = Uri::parse("SIP:User@EXAMPLE.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "sip");
  EXPECT_EQ(u->user, "User");
  EXPECT_EQ(u->host, "EXAMPLE.com");
}

TEST(Uri, OtherSchemesAreOpaque) {
  auto u = Uri::parse("http://www.example.com/a?b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->user, "//www.example.com/a?b");
  EXPECT_FALSE(u->is_sip());
  auto tel = Uri::parse("tel:+15551234;phone-context=+1");
  ASSERT_TRUE(tel);
  EXPECT_EQ(tel->user, "+15551234");
  EXPECT_EQ(tel->param("phone-context"), "+1");
}

TEST(Uri, RejectsMalformed) {
  for (const char* text : {"",
                           "sip:",
                           "nocolon",
                           ":x",
                           "1sip:x",
                           "sip:a b@c",
                           "sip:@h",
                           "sip:h:abc",
                           "sip:h:",
                           "sip:h:65536",
                           "sip:h:123456",
                           "sip:[::1",
                           "sip:[zz::1]",
                           "sip:2001:db8::10",
                           "sip:<x@y>",
                           "sip:x@y\r\n",
                           "sip:x@",
                           "sip:x@h!",
                           "tel:",
                           "tel:;x"}) {
    EXPECT_FALSE(Uri::parse(text).has_value()) << text;
  }
  auto max_port = Uri::parse("sip:h:65535");
  ASSERT_TRUE(max_port);
  EXPECT_EQ(max_port->port, 65535);
}

TEST(Uri, Params) {
  auto u = *Uri::parse("sip:h;lr;Transport=TCP;x=1");
  EXPECT_EQ(u.param("lr"), "");
  EXPECT_TRUE(u.has_param("LR"));
  EXPECT_EQ(u.param("transport"), "TCP");
  EXPECT_FALSE(u.param("y").has_value());
  u.set_param("transport", "udp");
  EXPECT_EQ(u.params, "lr;x=1;transport=udp");
  u.set_param("ob", "");
  EXPECT_EQ(u.to_string(), "sip:h;lr;x=1;transport=udp;ob");
  u.remove_param("LR");
  u.remove_param("absent");
  EXPECT_EQ(u.params, "x=1;transport=udp;ob");
  u.remove_param("x");
  u.remove_param("transport");
  u.remove_param("ob");
  EXPECT_EQ(u.to_string(), "sip:h");
}

TEST(Uri, HostBare) {
  EXPECT_EQ(Uri::parse("sip:[2001:db8::1]:5060")->host_bare(), "2001:db8::1");
  EXPECT_EQ(Uri::parse("sip:[2001:db8::1]")->host, "[2001:db8::1]");
  EXPECT_EQ(Uri::parse("sip:a@192.0.2.1")->host_bare(), "192.0.2.1");
}

}  // namespace
}  // namespace strowger::proxy::sip
