// UdpTransport on loopback: round trip, recvmmsg batches, oversize and keep-alive drops, errors.
#include "proxy/transport/udp.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/transport/test_support.h"

namespace strowger::proxy::transport {
namespace {

using test::RecordingReceiver;

class UdpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_.reset(event_base_new());
    ASSERT_TRUE(base_);
  }
  std::unique_ptr<UdpTransport> make(std::size_t max_size = 65535, int worker = 0) {
    return std::make_unique<UdpTransport>(base_.get(), receiver_, worker, max_size);
  }
  // A plain client socket bound to `family`'s loopback.
  Fd client(const Address& bind_to) {
    Fd fd(::socket(bind_to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::bind(fd.get(), bind_to.sa(), bind_to.len()), 0);
    timeval tv{2, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  static void send_to(const Fd& fd, const Address& to, std::string_view bytes) {
    ASSERT_EQ(::sendto(fd.get(), bytes.data(), bytes.size(), 0, to.sa(), to.len()),
              static_cast<ssize_t>(bytes.size()));
  }
  static std::string recv_from(const Fd& fd) {
    char buf[70000];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

  test::EventBasePtr base_;
  RecordingReceiver receiver_;
};

TEST_F(UdpTest, RoundTripWithEchoFromTheCallback) {
  auto udp = make();
  ASSERT_EQ(udp->listen(3, test::loopback4()), std::nullopt);
  const Address server = udp->local_address(3);
  ASSERT_TRUE(server.valid());
  ASSERT_NE(server.port(), 0);
  EXPECT_FALSE(udp->local_address(0).valid());

  // The receiver answers from inside on_message, as the core does for stateless replies.
  std::uint64_t echo_result = 99;
  receiver_.message_hook = [&](std::string_view bytes, const Peer& from) {
    echo_result = udp->send(from, "echo:" + std::string(bytes));
  };
  Fd c = client(test::loopback4());
  const Address client_addr = test::local_address_of(c.get());
  send_to(c, server, "OPTIONS sip:x SIP/2.0\r\n\r\n");
  ASSERT_TRUE(test::run_until(base_.get(), [&] { return receiver_.messages.size() == 1; }));
  const auto& m = receiver_.messages[0];
  EXPECT_EQ(m.bytes, "OPTIONS sip:x SIP/2.0\r\n\r\n");
  EXPECT_EQ(m.peer.proto, Protocol::kUdp);
  EXPECT_EQ(m.peer.remote, client_addr);
  EXPECT_EQ(m.peer.listener, 3);
  EXPECT_EQ(m.peer.connection_id, 0u);
  EXPECT_EQ(echo_result, 1u);
  EXPECT_EQ(recv_from(c), "echo:OPTIONS sip:x SIP/2.0\r\n\r\n");
  EXPECT_EQ(udp->counters().received, 1u);
  EXPECT_EQ(udp->counters().sent, 1u);
  EXPECT_EQ(udp->connection_count(), 0u);
  EXPECT_EQ(udp->protocol(), Protocol::kUdp);
}

TEST_F(UdpTest, DrainsManyDatagramsInBatches) {
  auto udp = make();
  ASSERT_EQ(udp->listen(0, test::loopback4()), std::nullopt);
  const Address server = udp->local_address(0);
  Fd c = client(test::loopback4());
  constexpr int kCount = 150;  // fits a non-root default receive buffer
  // All queued in the socket before the loop runs, so the transport must batch them.
  for (int i = 0; i < kCount; ++i) send_to(c, server, "MESSAGE " + std::to_string(i));
  ASSERT_TRUE(test::run_until(base_.get(), [&] { return receiver_.messages.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(receiver_.messages[i].bytes, "MESSAGE " + std::to_string(i));
  }
  const int min_batches = (kCount + UdpTransport::kBatch - 1) / UdpTransport::kBatch;
  EXPECT_GE(udp->counters().receive_batches, static_cast<std::uint64_t>(min_batches));
  EXPECT_LE(udp->counters().receive_batches, static_cast<std::uint64_t>(min_batches + 1));
}

TEST_F(UdpTest, DropsOversizeDatagramsAndKeepAlives) {
  auto udp = make(1000);
  ASSERT_EQ(udp->listen(0, test::loopback4()), std::nullopt);
  const Address server = udp->local_address(0);
  Fd c = client(test::loopback4());
  send_to(c, server, std::string(1001, 'x'));
  send_to(c, server, std::string(60000, 'y'));
  send_to(c, server, "\r\n\r\n");
  send_to(c, server, std::string(4, '\0'));
  send_to(c, server, std::string(1000, 'z'));  // exactly the maximum: accepted
  send_to(c, server, "small");
  ASSERT_TRUE(test::run_until(base_.get(), [&] { return receiver_.messages.size() == 2; }));
  test::run_for(base_.get(), 50);
  ASSERT_EQ(receiver_.messages.size(), 2u);
  EXPECT_EQ(receiver_.messages[0].bytes, std::string(1000, 'z'));
  EXPECT_EQ(receiver_.messages[1].bytes, "small");
  EXPECT_EQ(udp->counters().received_oversize, 2u);
  EXPECT_EQ(udp->counters().received_keepalive, 2u);
}

TEST_F(UdpTest, ListenReportsBindErrors) {
  // A socket without SO_REUSEPORT holds the port, so ours cannot share it.
  Fd holder(::socket(AF_INET, SOCK_DGRAM, 0));
  Address any = test::loopback4();
  ASSERT_EQ(::bind(holder.get(), any.sa(), any.len()), 0);
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  getsockname(holder.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  const std::uint16_t port = ntohs(sin.sin_port);

  auto udp = make();
  auto err = udp->listen(0, test::loopback4(port));
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "bind 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  // An address not on this host.
  auto err2 = udp->listen(0, *Address::from_ip_port("192.0.2.77", 5060));
  ASSERT_TRUE(err2);
  EXPECT_NE(err2->find("bind 192.0.2.77:5060: "), std::string::npos) << *err2;
  EXPECT_TRUE(udp->listen(0, Address()));
}

TEST_F(UdpTest, WorkersShareOnePort) {
  RecordingReceiver other;
  auto a = make(65535, 0);
  UdpTransport b(base_.get(), other, 1, 65535);
  ASSERT_EQ(a->listen(0, test::loopback4()), std::nullopt);
  const Address server = a->local_address(0);
  EXPECT_EQ(b.listen(0, server), std::nullopt);
  EXPECT_EQ(b.local_address(0), server);
  // Datagrams from many source ports are spread over both sockets; all arrive exactly once.
  constexpr int kClients = 32;
  for (int i = 0; i < kClients; ++i) {
    Fd c = client(test::loopback4());
    send_to(c, server, "x" + std::to_string(i));
  }
  ASSERT_TRUE(test::run_until(
      base_.get(), [&] { return receiver_.messages.size() + other.messages.size() == kClients; }));
}

TEST_F(UdpTest, SendPicksASocketOfTheRightFamily) {
  auto udp = make();
  ASSERT_EQ(udp->listen(0, test::loopback4()), std::nullopt);
  Fd c = client(test::loopback4());
  const Address to = test::local_address_of(c.get());
  // Listener 7 does not exist: fall back to the first IPv4 socket.
  EXPECT_EQ(udp->send(Peer{Protocol::kUdp, to, 7, 0}, "hello"), 1u);
  EXPECT_EQ(recv_from(c), "hello");
  // No IPv6 socket, or no destination: nothing sent, counted as errors.
  EXPECT_EQ(udp->send(Peer{Protocol::kUdp, *Address::from_ip_port("::1", 5060), 0, 0}, "x"), 0u);
  EXPECT_EQ(udp->send(Peer{}, "x"), 0u);
  // Larger than any datagram.
  EXPECT_EQ(udp->send(Peer{Protocol::kUdp, to, 0, 0}, std::string(70000, 'x')), 0u);
  EXPECT_EQ(udp->counters().send_errors, 3u);
  EXPECT_EQ(udp->counters().sent, 1u);
}

TEST_F(UdpTest, Ipv6Loopback) {
  if (!test::have_ipv6_loopback()) GTEST_SKIP() << "::1 is not configured";
  auto udp = make();
  ASSERT_EQ(udp->listen(0, test::loopback4()), std::nullopt);
  ASSERT_EQ(udp->listen(1, *Address::from_ip_port("::1", 0)), std::nullopt);
  const Address server6 = udp->local_address(1);
  EXPECT_EQ(server6.family(), AF_INET6);
  Fd c = client(*Address::from_ip_port("::1", 0));
  send_to(c, server6, "v6 hello");
  ASSERT_TRUE(test::run_until(base_.get(), [&] { return receiver_.messages.size() == 1; }));
  const Peer from = receiver_.messages[0].peer;
  EXPECT_EQ(from.listener, 1);
  EXPECT_EQ(from.remote.family(), AF_INET6);
  EXPECT_EQ(from.remote.ip(), "::1");
  // Asking for the IPv4 listener still sends from the IPv6 socket: the family decides.
  EXPECT_EQ(udp->send(Peer{Protocol::kUdp, from.remote, 0, 0}, "v6 reply"), 1u);
  EXPECT_EQ(recv_from(c), "v6 reply");
}

}  // namespace
}  // namespace strowger::proxy::transport
