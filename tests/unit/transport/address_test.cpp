// Address and Protocol: parsing IP literals, printing, equality and hashing.
#include "proxy/transport/address.h"

#include <gtest/gtest.h>
#include <sys/un.h>

#include <cstring>
#include <unordered_map>

namespace strowger::proxy::transport {
namespace {

TEST(Address, ParsesIpv4) {
  auto a = Address::from_ip_port("127.0.0.1", 5060);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->valid());
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 5060);
  EXPECT_EQ(a->ip(), "127.0.0.1");
  EXPECT_EQ(a->host_for_uri(), "127.0.0.1");
  EXPECT_EQ(a->to_string(), "127.0.0.1:5060");
  EXPECT_EQ(a->len(), sizeof(sockaddr_in));
}

TEST(Address, ParsesIpv6WithAndWithoutBrackets) {
  auto a = Address::from_ip_port("::1", 5061);
  auto b = Address::from_ip_port("[::1]", 5061);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->ip(), "::1");
  EXPECT_EQ(a->host_for_uri(), "[::1]");
  EXPECT_EQ(a->to_string(), "[::1]:5061");
  auto c = Address::from_ip_port("2001:DB8::A", 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "[2001:db8::a]:1");
  auto scoped = Address::from_ip_port("fe80::1%lo", 5060);
  ASSERT_TRUE(scoped);
  EXPECT_EQ(scoped->ip(), "fe80::1%lo");
  EXPECT_FALSE(*scoped == *Address::from_ip_port("fe80::1", 5060));
  EXPECT_FALSE(Address::from_ip_port("fe80::1%no-such-interface", 5060));
  auto mapped = Address::from_ip_port("::ffff:192.0.2.1", 7);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->to_string(), "[::ffff:192.0.2.1]:7");
}

TEST(Address, RejectsWhatIsNotAnIpLiteral) {
  for (const char* bad : {"", "1.2.3", "256.1.1.1", "example.com", "[::1", "::1]", "::g", "[]",
                          "1.2.3.4 ", " 1.2.3.4", "1.2.3.4:5060", ":::"}) {
    EXPECT_FALSE(Address::from_ip_port(bad, 5060)) << bad;
  }
  EXPECT_FALSE(Address::from_ip_port(std::string(200, '1'), 1));
  EXPECT_FALSE(Address::from_ip_port(std::string_view("1.2.3.4\0x", 9), 1));
}

TEST(Address, DefaultIsInvalid) {
  Address a;
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(a.ip(), "");
  EXPECT_EQ(a.to_string(), "");
  EXPECT_EQ(a, Address());
}

TEST(Address, SetPort) {
  auto a = *Address::from_ip_port("10.0.0.1", 1);
  a.set_port(65535);
  EXPECT_EQ(a.port(), 65535);
  EXPECT_EQ(a.to_string(), "10.0.0.1:65535");
  auto b = *Address::from_ip_port("fe80::1", 1);
  b.set_port(0);
  EXPECT_EQ(b.port(), 0);
  Address none;
  none.set_port(5);  // no family: nothing to set, nothing to crash
  EXPECT_FALSE(none.valid());
}

TEST(Address, EqualityAndHashIgnoreNothingThatMatters) {
  auto a = *Address::from_ip_port("192.0.2.1", 5060);
  auto same = *Address::from_ip_port("192.0.2.1", 5060);
  auto other_port = *Address::from_ip_port("192.0.2.1", 5061);
  auto other_ip = *Address::from_ip_port("192.0.2.2", 5060);
  auto v6 = *Address::from_ip_port("::ffff:192.0.2.1", 5060);
  EXPECT_EQ(a, same);
  EXPECT_EQ(a.hash(), same.hash());
  EXPECT_FALSE(a == other_port);
  EXPECT_FALSE(a == other_ip);
  EXPECT_FALSE(a == v6);
  EXPECT_NE(a.hash(), other_port.hash());

  std::unordered_map<Address, int, AddressHash> m;
  m[a] = 1;
  m[other_port] = 2;
  m[v6] = 3;
  EXPECT_EQ(m[same], 1);
  EXPECT_EQ(m.size(), 3u);
}

TEST(Address, FromSockaddrRoundTrips) {
  auto a = *Address::from_ip_port("203.0.113.9", 4000);
  Address b = Address::from_sockaddr(a.sa(), a.len());
  EXPECT_EQ(a, b);
  auto c = *Address::from_ip_port("2001:db8::5", 4001);
  EXPECT_EQ(Address::from_sockaddr(c.sa(), c.len()), c);
  // Too short for its family, another family, or null: invalid, never a crash.
  EXPECT_FALSE(Address::from_sockaddr(a.sa(), 4).valid());
  EXPECT_FALSE(Address::from_sockaddr(c.sa(), sizeof(sockaddr_in)).valid());
  EXPECT_FALSE(Address::from_sockaddr(nullptr, 16).valid());
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/tmp/x");
  EXPECT_FALSE(Address::from_sockaddr(reinterpret_cast<sockaddr*>(&un), sizeof un).valid());
}

TEST(Protocol, NamesRoundTripCaseInsensitively) {
  for (Protocol p :
       {Protocol::kUdp, Protocol::kTcp, Protocol::kTls, Protocol::kWs, Protocol::kWss}) {
    EXPECT_EQ(protocol_from_name(protocol_name(p)), p);
  }
  EXPECT_EQ(protocol_name(Protocol::kWss), "WSS");
  EXPECT_EQ(protocol_from_name("udp"), Protocol::kUdp);
  EXPECT_EQ(protocol_from_name("Tls"), Protocol::kTls);
  EXPECT_FALSE(protocol_from_name("sctp"));
  EXPECT_FALSE(protocol_from_name(""));
  EXPECT_FALSE(protocol_from_name("UDPX"));
  EXPECT_FALSE(is_reliable(Protocol::kUdp));
  EXPECT_TRUE(is_reliable(Protocol::kWs));
}

}  // namespace
}  // namespace strowger::proxy::transport
