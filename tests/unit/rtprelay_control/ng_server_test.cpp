// Unit tests for NgServer over real UDP and TCP sockets on 127.0.0.1 and ::1: ping, handlers,
// retransmissions, cache expiry, bad input, TCP framing (split reads, back-to-back messages,
// garbage).
#include "rtprelay/control/ng_server.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>

namespace strowger::rtprelay::control {
namespace {

socklen_t len_of(const sockaddr_storage& a) {
  return a.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

class NgServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    NgServerOptions o;
    o.udp = {"127.0.0.1:0", "[::1]:0"};
    o.tcp = {"127.0.0.1:0", "[::1]:0"};
    o.max_tcp_message_bytes = 4096;
    server_ = std::make_unique<NgServer>(base_, o, clock_);
    server_->add_command("offer",
                         [this](const bencode::Dict& req, const Peer& from, bencode::Dict& reply) {
                           ++offers_;
                           last_peer_ = from;
                           reply.set("call-id", req.get_string("call-id").value_or("?"));
                           reply.set("sdp", "v=0 rewritten");
                         });
    auto err = server_->start();
    ASSERT_FALSE(err) << *err;
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    server_.reset();
    event_base_free(base_);
  }

  int socket_for(const sockaddr_storage& to, int type) {
    int fd = ::socket(to.ss_family, type, 0);
    fds_.push_back(fd);
    return fd;
  }
  // Runs the server's loop until fd is readable (or the time is up).
  bool pump_until_readable(int fd, int timeout_ms = 2000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_NONBLOCK);
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5) > 0) return true;
    }
    return false;
  }
  void pump(int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_NONBLOCK);
      ::usleep(1000);
    }
  }
  std::string udp_ask(int fd, const sockaddr_storage& to, const std::string& msg) {
    ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&to), len_of(to));
    if (!pump_until_readable(fd)) return "<timeout>";
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? "<error>" : std::string(buf, n);
  }
  int tcp_connect(const sockaddr_storage& to) {
    int fd = socket_for(to, SOCK_STREAM);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), len_of(to)), 0);
    return fd;
  }
  // Reads from a TCP socket until `want` bytes came, EOF, or the time is up.
  std::string tcp_read(int fd, std::size_t want, bool* eof = nullptr) {
    std::string got;
    while (got.size() < want) {
      if (!pump_until_readable(fd)) break;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (eof) *eof = true;
        break;
      }
      got.append(buf, n);
    }
    return got;
  }
  void send_all(int fd, std::string_view s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), 0), (ssize_t)s.size());
  }

  common::FakeClock clock_;
  event_base* base_ = nullptr;
  std::unique_ptr<NgServer> server_;
  std::vector<int> fds_;
  int offers_ = 0;
  Peer last_peer_;
};

TEST_F(NgServerTest, PingOverUdpOnBothFamilies) {
  auto addrs = server_->udp_addresses();
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_NE(port_of(addrs[0]), 0);
  for (const auto& a : addrs) {
    int fd = socket_for(a, SOCK_DGRAM);
    EXPECT_EQ(udp_ask(fd, a, "5323_1 d7:command4:pinge"), "5323_1 d6:result4:ponge");
  }
}

TEST_F(NgServerTest, OfferWithKeysInAnyOrder) {
  auto a = server_->udp_addresses()[1];  // ::1
  int fd = socket_for(a, SOCK_DGRAM);
  EXPECT_EQ(udp_ask(fd, a, "c1 d3:sdp3:v=07:call-id2:xy8:from-tag1:f7:command5:offere"),
            "c1 d7:call-id2:xy6:result2:ok3:sdp13:v=0 rewrittene");
  EXPECT_EQ(last_peer_.transport, Transport::kUdp);
  EXPECT_EQ(last_peer_.addr.ss_family, AF_INET6);
  EXPECT_EQ(last_peer_.to_string().rfind("[::1]:", 0), 0u) << last_peer_.to_string();
}

TEST_F(NgServerTest, RetransmissionAnsweredIdenticallyWithoutRerunning) {
  auto a = server_->udp_addresses()[0];
  int fd = socket_for(a, SOCK_DGRAM);
  const std::string msg = "r1 d7:command5:offer7:call-id1:ae";
  std::string first = udp_ask(fd, a, msg);
  EXPECT_EQ(udp_ask(fd, a, msg), first);
  EXPECT_EQ(offers_, 1);
  EXPECT_EQ(server_->stats().retransmissions, 1u);
  clock_.advance(30'001);  // the cached reply has expired
  EXPECT_EQ(udp_ask(fd, a, msg), first);
  EXPECT_EQ(offers_, 2);
}

TEST_F(NgServerTest, BadDatagrams) {
  auto a = server_->udp_addresses()[0];
  int fd = socket_for(a, SOCK_DGRAM);
  EXPECT_EQ(udp_ask(fd, a, "k i5e"),
            "k d12:error-reason40:the message is not a bencoded dictionary6:result5:errore");
  EXPECT_EQ(udp_ask(fd, a, "k2 d7:command3:fooe"),
            "k2 d12:error-reason21:unknown command 'foo'6:result5:errore");
  EXPECT_EQ(udp_ask(fd, a, "k3 d3:sdp0:e"),
            "k3 d12:error-reason30:no 'command' in the dictionary6:result5:errore");
  EXPECT_EQ(udp_ask(fd, a, "k4 dxe").rfind("k4 d12:error-reason", 0), 0u);
  EXPECT_EQ(udp_ask(fd, a, "k5"),
            "k5 d12:error-reason39:no bencoded dictionary after the cookie6:result5:errore");
  // No cookie at all: dropped and counted, no answer; the server still answers afterwards.
  ::sendto(fd, " d7:command4:pinge", 18, 0, reinterpret_cast<const sockaddr*>(&a), len_of(a));
  ::sendto(fd, "", 0, 0, reinterpret_cast<const sockaddr*>(&a), len_of(a));
  EXPECT_FALSE(pump_until_readable(fd, 200));
  EXPECT_EQ(server_->stats().dropped, 2u);
  EXPECT_EQ(udp_ask(fd, a, "ok d7:command4:pinge"), "ok d6:result4:ponge");
}

TEST_F(NgServerTest, TcpPingOnBothFamilies) {
  for (const auto& a : server_->tcp_addresses()) {
    int fd = tcp_connect(a);
    send_all(fd, "t1 d7:command4:pinge");
    EXPECT_EQ(tcp_read(fd, 23), "t1 d6:result4:ponge");
  }
  EXPECT_EQ(server_->stats().tcp_connections, 2u);
}

TEST_F(NgServerTest, TcpMessageSplitAcrossReads) {
  int fd = tcp_connect(server_->tcp_addresses()[0]);
  const std::string msg = "split_7 d7:call-id3:abc7:command5:offere";
  for (char c : msg) {
    send_all(fd, std::string_view(&c, 1));
    pump(1);
  }
  std::string want = "split_7 d7:call-id3:abc6:result2:ok3:sdp13:v=0 rewrittene";
  EXPECT_EQ(tcp_read(fd, want.size()), want);
  EXPECT_EQ(offers_, 1);
  EXPECT_EQ(last_peer_.transport, Transport::kTcp);
}

TEST_F(NgServerTest, TcpTwoMessagesInOneRead) {
  int fd = tcp_connect(server_->tcp_addresses()[1]);
  // Two whole messages and the start of a third in one write.
  send_all(fd, "a d7:command4:pinge\r\nb d7:command5:offer7:call-id1:xec d7:comm");
  std::string want = "a d6:result4:pongeb d7:call-id1:x6:result2:ok3:sdp13:v=0 rewrittene";
  EXPECT_EQ(tcp_read(fd, want.size()), want);
  send_all(fd, "and4:pinge");
  EXPECT_EQ(tcp_read(fd, 18), "c d6:result4:ponge");
}

TEST_F(NgServerTest, TcpGarbageIsAnsweredThenClosed) {
  int fd = tcp_connect(server_->tcp_addresses()[0]);
  send_all(fd, "g1 d7:command4:pingXe");
  bool eof = false;
  std::string got = tcp_read(fd, 10000, &eof);
  EXPECT_TRUE(eof);
  EXPECT_EQ(
      got,
      "g1 d12:error-reason83:could not decode the bencoded dictionary: dictionary key is not a "
      "string at byte 166:result5:errore");
  EXPECT_EQ(server_->stats().tcp_garbage_closed, 1u);

  int fd2 = tcp_connect(server_->tcp_addresses()[0]);
  send_all(fd2, std::string(300, 'z'));  // no space within a cookie's length
  eof = false;
  EXPECT_EQ(tcp_read(fd2, 10, &eof), "");
  EXPECT_TRUE(eof);

  // A message longer than max_tcp_message_bytes (4096) is refused.
  int fd3 = tcp_connect(server_->tcp_addresses()[0]);
  send_all(fd3, "big d3:sdp5000:" + std::string(5000, 'x') + "7:command4:pinge");
  eof = false;
  std::string big = tcp_read(fd3, 10000, &eof);
  EXPECT_TRUE(eof);
  EXPECT_NE(big.find("exceeds the size limit"), std::string::npos) << big;
  pump(20);
  EXPECT_EQ(server_->tcp_clients(), 0u);
}

TEST_F(NgServerTest, TcpRetransmissionOnSameConnectionUsesCache) {
  int fd = tcp_connect(server_->tcp_addresses()[0]);
  const std::string msg = "rt d7:command5:offer7:call-id1:qe";
  send_all(fd, msg + msg);
  std::string one = "rt d7:call-id1:q6:result2:ok3:sdp13:v=0 rewrittene";
  EXPECT_EQ(tcp_read(fd, 2 * one.size()), one + one);
  EXPECT_EQ(offers_, 1);
}

TEST_F(NgServerTest, TcpHalfCloseStillGetsTheAnswers) {
  int fd = tcp_connect(server_->tcp_addresses()[0]);
  send_all(fd, "h1 d7:command4:pingeh2 d7:command4:pinge");
  ::shutdown(fd, SHUT_WR);
  bool eof = false;
  EXPECT_EQ(tcp_read(fd, 1000, &eof), "h1 d6:result4:pongeh2 d6:result4:ponge");
  EXPECT_TRUE(eof);
}

TEST_F(NgServerTest, TcpClientsBeyondTheLimitAreClosed) {
  // This fixture's server allows 128 clients; a second server allows 1.
  NgServerOptions o;
  o.tcp = {"[::1]:0"};
  o.max_tcp_clients = 1;
  NgServer one(base_, o, clock_);
  ASSERT_FALSE(one.start());
  int first = tcp_connect(one.tcp_addresses()[0]);
  send_all(first, "a d7:command4:pinge");
  EXPECT_EQ(tcp_read(first, 18), "a d6:result4:ponge");
  int second = tcp_connect(one.tcp_addresses()[0]);
  send_all(second, "b d7:command4:pinge");
  bool eof = false;
  EXPECT_EQ(tcp_read(second, 18, &eof), "");
  EXPECT_TRUE(eof);
  EXPECT_EQ(one.tcp_clients(), 1u);
}

TEST(NgServerStart, BadAddressIsRefused) {
  event_base* base = event_base_new();
  common::FakeClock clock;
  NgServerOptions o;
  o.udp = {"not-an-address"};
  NgServer s(base, o, clock);
  auto err = s.start();
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("bad listen address"), std::string::npos);
  event_base_free(base);
}

}  // namespace
}  // namespace strowger::rtprelay::control
