// Endpoint: parsing, formatting, comparison of IPv4/IPv6 endpoints; bad input is rejected.
#include "rtprelay/media/endpoint.h"

#include <gtest/gtest.h>

namespace strowger::rtprelay::media {
namespace {

TEST(Endpoint, ParsesAndFormatsV4AndV6) {
  auto v4 = Endpoint::parse("192.0.2.1", 4000);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "192.0.2.1:4000");
  EXPECT_FALSE(v4->is_v6());
  auto v6 = Endpoint::parse("[2001:db8::1]", 5);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "[2001:db8::1]:5");
  EXPECT_EQ(v6->port(), 5);
  auto hp = Endpoint::parse_hostport("[::1]:30000");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->ip_string(), "::1");
  EXPECT_EQ(hp->port(), 30000);
  EXPECT_EQ(Endpoint::parse_hostport("10.0.0.1:7")->port(), 7);
}

TEST(Endpoint, RejectsGarbage) {
  EXPECT_FALSE(Endpoint::parse("", 1));
  EXPECT_FALSE(Endpoint::parse("example.com", 1));
  EXPECT_FALSE(Endpoint::parse("1.2.3.4.5", 1));
  EXPECT_FALSE(Endpoint::parse(std::string(200, '1'), 1));
  EXPECT_FALSE(Endpoint::parse_hostport("1.2.3.4"));
  EXPECT_FALSE(Endpoint::parse_hostport("1.2.3.4:70000"));
  EXPECT_FALSE(Endpoint::parse_hostport("1.2.3.4:12x"));
  EXPECT_FALSE(Endpoint::parse_hostport("::1:5"));
  EXPECT_FALSE(Endpoint::parse_hostport(":"));
  EXPECT_FALSE(Endpoint().is_set());
  EXPECT_EQ(Endpoint().to_string(), "-");
}

TEST(Endpoint, ComparesAddressAndPort) {
  auto a = *Endpoint::parse("127.0.0.1", 10);
  EXPECT_TRUE(a == *Endpoint::parse("127.0.0.1", 10));
  EXPECT_FALSE(a == *Endpoint::parse("127.0.0.1", 11));
  EXPECT_TRUE(a.same_address(*Endpoint::parse("127.0.0.1", 11)));
  EXPECT_FALSE(a == *Endpoint::parse("::1", 10));
  EXPECT_TRUE(a.with_port(11) == *Endpoint::parse("127.0.0.1", 11));
}

}  // namespace
}  // namespace strowger::rtprelay::media
