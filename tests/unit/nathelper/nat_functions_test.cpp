// nathelper's script functions on real messages: every nat_uac_test flag, Contact rewrites
// (display names, several contacts, IPv6, malformed ones), the received AVP and the alias
// round trip add_contact_alias -> handle_ruri_alias.
#include "modules/nathelper/nat_functions.h"

#include <gtest/gtest.h>

#include "tests/unit/nathelper/fake_call.h"

namespace strowger::modules::nathelper {
namespace {

const NatConfig kCfg;
const sipproxy::Peer kSrc{"udp", "203.0.113.7", 40000};

int test(std::string_view msg, std::int64_t flags, sipproxy::Peer src = kSrc) {
  FakeCall call(msg, src);
  return nat_uac_test(call, flags, kCfg);
}

std::string with_contact(std::string_view contact, std::string_view via = "203.0.113.7:40000") {
  return request("INVITE", "sip:bob@example.com", via, "Contact: " + std::string(contact) + "\r\n");
}

TEST(NatUacTest, ContactPrivate) {
  EXPECT_EQ(test(with_contact("<sip:a@192.168.1.10:5062>"), 1), 1);
  EXPECT_EQ(test(with_contact("<sip:a@10.1.2.3>"), 1), 1);
  EXPECT_EQ(test(with_contact("<sip:a@172.31.255.1>"), 1), 1);
  EXPECT_EQ(test(with_contact("<sip:a@100.64.0.1>"), 1), 1);    // RFC 6598
  EXPECT_EQ(test(with_contact("<sip:a@100.128.0.1>"), 1), -1);  // just outside 100.64/10
  EXPECT_EQ(test(with_contact("<sip:a@172.32.0.1>"), 1), -1);
  EXPECT_EQ(test(with_contact("<sip:a@198.51.100.1>"), 1), -1);
  EXPECT_EQ(test(with_contact("<sip:a@pbx.example.com>"), 1), -1);
  EXPECT_EQ(test(with_contact("<sip:a@[fd00::1]>"), 1), -1);  // Kamailio's test is IPv4 only
  EXPECT_EQ(test(with_contact("*"), 1), -1);
  EXPECT_EQ(test(request("OPTIONS", "sip:x@example.com", "203.0.113.7:40000", ""), 1), -1);
}

TEST(NatUacTest, NatAddrModeReservedRange) {
  FakeCall call(with_contact("<sip:a@192.0.0.100>"));
  EXPECT_EQ(nat_uac_test(call, 1, kCfg), 1);
  NatConfig mode0;
  mode0.addr_mode = NatAddrMode::kDefault;
  EXPECT_EQ(nat_uac_test(call, 1, mode0), -1);
  FakeCall in29(with_contact("<sip:a@192.0.0.5>"));
  EXPECT_EQ(nat_uac_test(in29, 1, mode0), 1);  // 192.0.0.0/29 is in the default list
}

TEST(NatUacTest, ReceivedAndViaTests) {
  const std::string priv_via = with_contact("<sip:a@203.0.113.7:40000>", "192.168.1.10:40000");
  EXPECT_EQ(test(priv_via, 2), 1);
  EXPECT_EQ(test(priv_via, 4), 1);
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7:40000>"), 2 | 4), -1);
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7:40000>", "pbx.example.com:40000"), 2), 1);
  // rport: the Via port (5060 when absent) against the source port
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7>", "203.0.113.7:5070"), 16), 1);
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7>", "203.0.113.7"), 16), 1);
  EXPECT_EQ(
      test(with_contact("<sip:a@203.0.113.7>", "203.0.113.7"), 16, {"udp", "203.0.113.7", 5060}),
      -1);
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7>"), 16), -1);
}

TEST(NatUacTest, SourceWebSocketAndContactPort) {
  const std::string m = with_contact("<sip:a@203.0.113.7:40000>");
  EXPECT_EQ(test(m, 32), -1);
  EXPECT_EQ(test(m, 32, {"udp", "10.0.0.9", 40000}), 1);
  EXPECT_EQ(test(m, 64), -1);
  EXPECT_EQ(test(m, 64, {"wss", "203.0.113.7", 40000}), 1);
  EXPECT_EQ(test(m, 64, {"ws", "203.0.113.7", 40000}), 1);
  EXPECT_EQ(test(m, 128), -1);
  EXPECT_EQ(test(m, 128, {"udp", "203.0.113.7", 40001}), 1);
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7>"), 128), 1);  // 5060 assumed
}

TEST(NatUacTest, SdpTests) {
  const std::string priv =
      "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
      "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  const std::string pub =
      "v=0\r\no=- 1 1 IN IP4 203.0.113.7\r\ns=-\r\nc=IN IP4 203.0.113.7\r\n"
      "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  // a media-level c= replaces the session's for its stream
  const std::string media_priv =
      "v=0\r\no=- 1 1 IN IP4 203.0.113.7\r\ns=-\r\n"
      "c=IN IP4 203.0.113.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
      "c=IN IP4 192.168.0.20\r\n";
  const std::string hold =
      "v=0\r\no=- 1 1 IN IP4 203.0.113.7\r\ns=-\r\nc=IN IP4 0.0.0.0\r\n"
      "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  auto msg = [](const std::string& body) {
    return request("INVITE", "sip:b@example.com", "203.0.113.7:40000",
                   "Contact: <sip:a@203.0.113.7:40000>\r\n", body);
  };
  EXPECT_EQ(test(msg(priv), 8), 1);
  EXPECT_EQ(test(msg(pub), 8), -1);
  EXPECT_EQ(test(msg(media_priv), 8), 1);
  EXPECT_EQ(test(msg(hold), 8), -1);
  EXPECT_EQ(test(msg(priv), 256), 1);
  EXPECT_EQ(test(msg(pub), 256), -1);
  EXPECT_EQ(test(msg(hold), 256), -1);
  EXPECT_EQ(test(with_contact("<sip:a@203.0.113.7:40000>"), 8 | 256), -1);  // no body
}

TEST(NatUacTest, TargetTest) {
  FakeCall call(request("BYE", "sip:bob@198.51.100.2:5060", "203.0.113.7:40000", ""));
  EXPECT_EQ(nat_uac_test(call, 512, kCfg), -1);  // no $du
  call.du = "sip:198.51.100.2";
  EXPECT_EQ(nat_uac_test(call, 512, kCfg), -1);
  call.du = "sip:198.51.100.2:5070";
  EXPECT_EQ(nat_uac_test(call, 512, kCfg), 1);
}

TEST(NatUacTest, CombinedFlagsAndIpv6) {
  const std::string clean = with_contact("<sip:a@203.0.113.7:40000>");
  EXPECT_EQ(test(clean, 19), -1);
  EXPECT_EQ(test(clean, kTestAll), -1);
  EXPECT_EQ(test(with_contact("<sip:a@192.168.1.10:5062>"), 19), 1);
  const sipproxy::Peer v6{"udp", "2001:db8::5", 40000};
  EXPECT_EQ(
      test(with_contact("<sip:a@[2001:db8::5]:40000>", "[2001:db8:0::5]:40000"), 2 | 16 | 128, v6),
      -1);
  EXPECT_EQ(test(with_contact("<sip:a@[2001:db8::5]:40000>", "[2001:db8::6]:40000"), 2, v6), 1);
}

TEST(IsRfc1918, Ranges) {
  EXPECT_EQ(is_rfc1918("10.255.0.1", kCfg), 1);
  EXPECT_EQ(is_rfc1918("192.168.100.1", kCfg), 1);
  EXPECT_EQ(is_rfc1918("100.127.255.255", kCfg), 1);
  EXPECT_EQ(is_rfc1918("8.8.8.8", kCfg), -1);
  EXPECT_EQ(is_rfc1918("fc00::1", kCfg), -1);
  EXPECT_EQ(is_rfc1918("not-an-ip", kCfg), -1);
  EXPECT_EQ(is_rfc1918("10.0.0.1.5", kCfg), -1);
  EXPECT_EQ(is_rfc1918("", kCfg), -2);
}

TEST(FixNatedContact, RewritesHostPortKeepsTheRest) {
  FakeCall call(with_contact(
      "\"Bob Smith\" <sip:bob@192.168.1.10:5062;transport=udp;maddr=192.168.1.1>;expires=60, "
      "<sip:bob@192.168.1.10:5063>;q=0.5"));
  EXPECT_EQ(fix_nated_contact(call), 1);
  auto c = call.contacts();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], "\"Bob Smith\" <sip:bob@203.0.113.7:40000;transport=udp>;expires=60");
  EXPECT_EQ(c[1], "<sip:bob@192.168.1.10:5063>;q=0.5");
  EXPECT_NE(std::string(call.message().wire()).find("sip:bob@203.0.113.7:40000"),
            std::string::npos);
}

TEST(FixNatedContact, AddrSpecAndIpv6) {
  FakeCall call(with_contact("sip:bob@192.168.1.10;expires=30"), {"tcp", "2001:db8::5", 40000});
  EXPECT_EQ(fix_nated_contact(call), 1);
  EXPECT_EQ(call.contacts().at(0), "<sip:bob@[2001:db8::5]:40000>;expires=30");
}

TEST(FixNatedContact, MalformedOrMissing) {
  for (const char* bad : {"*", "<sip:bob@>", "<mailto:bob@example.com>", "<tel:+123>"}) {
    FakeCall call(with_contact(bad));
    EXPECT_EQ(fix_nated_contact(call), -1) << bad;
  }
  FakeCall none(request("OPTIONS", "sip:x@example.com", "203.0.113.7", ""));
  EXPECT_EQ(fix_nated_contact(none), -1);
}

TEST(FixNatedRegister, SetsReceivedAvp) {
  FakeCall udp(request("REGISTER", "sip:example.com", "192.168.1.10:5062",
                       "Contact: <sip:bob@192.168.1.10:5062>\r\n"));
  EXPECT_EQ(fix_nated_register(udp, kCfg), 1);
  EXPECT_EQ(udp.avps["RECEIVED"], "sip:203.0.113.7:40000");
  FakeCall tls(request("REGISTER", "sip:example.com", "192.168.1.10:5062", ""),
               {"tls", "2001:db8::5", 5061});
  NatConfig named;
  named.received_avp = avp_name("$avp(s:rcv)");
  EXPECT_EQ(fix_nated_register(tls, named), 1);
  EXPECT_EQ(tls.avps["rcv"], "sip:[2001:db8::5]:5061;transport=tls");
  NatConfig off;
  off.received_avp.clear();
  FakeCall o(request("REGISTER", "sip:example.com", "192.168.1.10:5062", ""));
  EXPECT_EQ(fix_nated_register(o, off), 1);
  EXPECT_TRUE(o.avps.empty());
}

TEST(FixNatedRegister, AvpNames) {
  EXPECT_EQ(avp_name("RECEIVED"), "RECEIVED");
  EXPECT_EQ(avp_name("$avp(RECEIVED)"), "RECEIVED");
  EXPECT_EQ(avp_name("$avp(i:42)"), "42");
  EXPECT_EQ(avp_name("$avp(RECEIVED"), "");
  EXPECT_EQ(avp_name("$var(x)"), "");
}

TEST(AddRcvParam, HeaderAndUriForms) {
  FakeCall hdr(with_contact("<sip:a@192.168.1.10:5062>;expires=60, <sip:a@192.168.1.10:5063>"));
  EXPECT_EQ(add_rcv_param(hdr, 0), 1);
  auto c = hdr.contacts();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], "<sip:a@192.168.1.10:5062>;expires=60;received=\"sip:203.0.113.7:40000\"");
  EXPECT_EQ(c[1], "<sip:a@192.168.1.10:5063>;received=\"sip:203.0.113.7:40000\"");
  FakeCall uri(with_contact("<sip:a@192.168.1.10:5062>"));
  EXPECT_EQ(add_rcv_param(uri, 1), 1);
  EXPECT_EQ(uri.contacts().at(0), "<sip:a@192.168.1.10:5062;received=sip:203.0.113.7:40000>");
  FakeCall tcp(with_contact("<sip:a@192.168.1.10:5062>"), {"tcp", "203.0.113.7", 40000});
  EXPECT_EQ(add_rcv_param(tcp, 1), -1);  // URI form is UDP only
}

TEST(ContactAlias, AddedOnlyWhenSourceDiffers) {
  FakeCall same(with_contact("<sip:a@203.0.113.7:40000>"));
  EXPECT_EQ(add_contact_alias(same, kCfg), 2);
  EXPECT_EQ(same.contacts().at(0), "<sip:a@203.0.113.7:40000>");
  FakeCall none(request("OPTIONS", "sip:x@example.com", "203.0.113.7", ""));
  EXPECT_EQ(add_contact_alias(none, kCfg), 2);
  FakeCall nat(with_contact("\"A\" <sip:a@192.168.1.10:5062;ob>;expires=60"));
  EXPECT_EQ(add_contact_alias(nat, kCfg), 1);
  EXPECT_EQ(nat.contacts().at(0),
            "\"A\" <sip:a@192.168.1.10:5062;alias=203.0.113.7~40000~1;ob>;expires=60");
  // same address but over TCP: the transport differs
  FakeCall tcp(with_contact("<sip:a@203.0.113.7:40000>"), {"tcp", "203.0.113.7", 40000});
  EXPECT_EQ(add_contact_alias(tcp, kCfg), 1);
  EXPECT_EQ(tcp.contacts().at(0), "<sip:a@203.0.113.7:40000;alias=203.0.113.7~40000~2>");
}

TEST(ContactAlias, ExplicitAddress) {
  FakeCall call(with_contact("sip:a@192.168.1.10"));
  EXPECT_EQ(add_contact_alias(call, "198.51.100.4", "5070", "TLS", kCfg), 1);
  EXPECT_EQ(call.contacts().at(0), "<sip:a@192.168.1.10;alias=198.51.100.4~5070~3>");
  FakeCall bad(with_contact("<sip:a@192.168.1.10>"));
  EXPECT_EQ(add_contact_alias(bad, "host.example", "5070", "udp", kCfg), -1);
  EXPECT_EQ(add_contact_alias(bad, "198.51.100.4", "0", "udp", kCfg), -1);
  EXPECT_EQ(add_contact_alias(bad, "198.51.100.4", "70000", "udp", kCfg), -1);
  EXPECT_EQ(add_contact_alias(bad, "198.51.100.4", "5070", "smtp", kCfg), -1);
  EXPECT_EQ(bad.contacts().at(0), "<sip:a@192.168.1.10>");
  FakeCall v6(with_contact("<sip:a@192.168.1.10>"));
  EXPECT_EQ(add_contact_alias(v6, "2001:db8::9", "5080", "ws", kCfg), 1);
  EXPECT_EQ(v6.contacts().at(0), "<sip:a@192.168.1.10;alias=[2001:db8::9]~5080~5>");
}

TEST(ContactAlias, SetContactAliasAppendsAndTrims) {
  FakeCall call(with_contact("<sip:a@192.168.1.10:5062;ob>"));
  EXPECT_EQ(set_contact_alias(call, false, kCfg), 1);
  EXPECT_EQ(call.contacts().at(0), "<sip:a@192.168.1.10:5062;ob;alias=203.0.113.7~40000~1>");
  FakeCall again(with_contact("<sip:a@192.168.1.10:5062;alias=10.0.0.1~5060~1>"));
  EXPECT_EQ(set_contact_alias(again, true, kCfg), 1);
  EXPECT_EQ(again.contacts().at(0), "<sip:a@192.168.1.10:5062;alias=203.0.113.7~40000~1>");
  FakeCall star(with_contact("*"));
  EXPECT_EQ(set_contact_alias(star, false, kCfg), -1);
}

// What the far end sends back: a request whose R-URI is the aliased Contact.
std::string in_dialog(const std::string& ruri) {
  return request("BYE", ruri, "198.51.100.2:5060", "Route: <sip:proxy.example.com;lr>\r\n");
}

TEST(HandleRuriAlias, RoundTrip) {
  for (const sipproxy::Peer& src :
       {sipproxy::Peer{"udp", "203.0.113.7", 40000}, sipproxy::Peer{"tcp", "203.0.113.7", 40001},
        sipproxy::Peer{"wss", "2001:db8::5", 443}}) {
    FakeCall invite(with_contact("<sip:bob@192.168.1.10:5062;transport=udp>"), src);
    ASSERT_EQ(add_contact_alias(invite, kCfg), 1);
    auto aliased = invite.message().contact_uri();
    ASSERT_TRUE(aliased);
    FakeCall bye(in_dialog(aliased->to_string()));
    EXPECT_EQ(handle_ruri_alias(bye, 0, kCfg), 1);
    std::string want = "sip:" + uri_host(src.ip) + ":" + std::to_string(src.port);
    if (src.proto != "udp") want += ";transport=" + src.proto;
    EXPECT_EQ(bye.du, want);
    EXPECT_EQ(bye.message().request_uri().to_string(), "sip:bob@192.168.1.10:5062;transport=udp");
  }
}

TEST(HandleRuriAlias, NoneFirstLastAndMalformed) {
  FakeCall plain(in_dialog("sip:bob@192.168.1.10:5062;transport=udp"));
  EXPECT_EQ(handle_ruri_alias(plain, 0, kCfg), 2);
  EXPECT_TRUE(plain.du.empty());
  FakeCall two(in_dialog("sip:bob@h;alias=198.51.100.1~5060~1;x=1;alias=198.51.100.2~5070~2"));
  EXPECT_EQ(handle_ruri_alias(two, 1, kCfg), 1);
  EXPECT_EQ(two.du, "sip:198.51.100.2:5070;transport=tcp");
  EXPECT_EQ(two.message().request_uri().params, "alias=198.51.100.1~5060~1;x=1");
  FakeCall first(in_dialog("sip:bob@h;alias=198.51.100.1~5060~1;alias=198.51.100.2~5070~2"));
  EXPECT_EQ(handle_ruri_alias(first, 0, kCfg), 1);
  EXPECT_EQ(first.du, "sip:198.51.100.1:5060");
  for (const char* bad :
       {"alias", "alias=198.51.100.1", "alias=198.51.100.1~5060", "alias=198.51.100.1~x~1",
        "alias=198.51.100.1~5060~9", "alias=198.51.100.1~5060~12", "alias=host.example~5060~1",
        "alias=2001:db8::1~5060~1", "alias=198.51.100.1~99999~1"}) {
    FakeCall call(in_dialog(std::string("sip:bob@192.168.1.10;") + bad));
    EXPECT_EQ(handle_ruri_alias(call, 0, kCfg), -1) << bad;
    EXPECT_TRUE(call.du.empty()) << bad;
  }
}

TEST(HandleRuriAlias, CustomAliasName) {
  NatConfig cfg;
  cfg.alias_name = "saddr";
  FakeCall invite(with_contact("<sip:bob@192.168.1.10:5062>"));
  ASSERT_EQ(add_contact_alias(invite, cfg), 1);
  FakeCall bye(in_dialog(invite.message().contact_uri()->to_string()));
  EXPECT_EQ(handle_ruri_alias(bye, 0, kCfg), 2);  // "alias" is not there
  EXPECT_EQ(handle_ruri_alias(bye, 0, cfg), 1);
  EXPECT_EQ(bye.du, "sip:203.0.113.7:40000");
}

}  // namespace
}  // namespace strowger::modules::nathelper
