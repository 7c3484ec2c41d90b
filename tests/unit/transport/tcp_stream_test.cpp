// TcpTransport streams on loopback: framing, keep-alive, framing errors, flushing, closing.
#include <gtest/gtest.h>
#include <netinet/tcp.h>

#include <string>
#include <vector>

#include "proxy/transport/tcp.h"
#include "tests/unit/transport/tcp_fixture.h"

namespace strowger::proxy::transport {
namespace {

using test::kOk;
using test::RecordingReceiver;
using test::request;
using test::TcpClient;
using test::TcpTest;

TEST_F(TcpTest, FramesAMessageSplitAcrossManyWrites) {
  auto tcp = server(65535, /*worker=*/2, /*index=*/4);
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  const int on = 1;
  setsockopt(c.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const std::string msg = request("hello, split world");
  for (std::size_t i = 0; i < msg.size(); i += 7) {
    ASSERT_TRUE(c.write(std::string_view(msg).substr(i, 7)));
    test::run_for(base_.get(), 2);
  }
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 1; }));
  test::run_for(base_.get(), 20);
  ASSERT_EQ(receiver_.messages.size(), 1u);
  const Peer& p = receiver_.messages[0].peer;
  EXPECT_EQ(receiver_.messages[0].bytes, msg);
  EXPECT_EQ(p.proto, Protocol::kTcp);
  EXPECT_EQ(p.listener, 4);
  EXPECT_EQ(p.remote, c.local());
  EXPECT_NE(p.connection_id, 0u);
  EXPECT_EQ(connection_worker(p.connection_id), 2);
  EXPECT_EQ(tcp->connection_count(), 1u);
  EXPECT_TRUE(tcp->is_open(p.connection_id));
}

TEST_F(TcpTest, TwoMessagesInOneWriteAndAnswersOnTheSameConnection) {
  auto tcp = server();
  receiver_.message_hook = [&](std::string_view, const Peer& from) {
    // The remote is right but the connection id is what must pick the connection.
    EXPECT_EQ(tcp->send(Peer{Protocol::kTcp, Address(), -1, from.connection_id}, kOk),
              from.connection_id);
  };
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  const std::string one = request("first", 1), two = request("", 2);
  ASSERT_TRUE(c.write(one + two));
  ASSERT_TRUE(run_until([&] { return c.data().size() == 2 * kOk.size(); }));
  ASSERT_EQ(receiver_.messages.size(), 2u);
  EXPECT_EQ(receiver_.messages[0].bytes, one);
  EXPECT_EQ(receiver_.messages[1].bytes, two);
  EXPECT_EQ(receiver_.messages[0].peer.connection_id, receiver_.messages[1].peer.connection_id);
  EXPECT_EQ(c.data(), std::string(kOk) + std::string(kOk));
  EXPECT_EQ(tcp->counters().messages, 2u);
}

TEST_F(TcpTest, KeepAlivePingGetsPong) {
  auto tcp = server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write("\r\n\r\n"));
  ASSERT_TRUE(run_until([&] { return c.data() == "\r\n"; }));
  // A ping split over two segments still counts once.
  ASSERT_TRUE(c.write("\r\n"));
  test::run_for(base_.get(), 20);
  EXPECT_EQ(c.data(), "\r\n");
  ASSERT_TRUE(c.write("\r\n"));
  ASSERT_TRUE(run_until([&] { return c.data() == "\r\n\r\n"; }));
  // A ping right before a message.
  ASSERT_TRUE(c.write("\r\n\r\n" + request()));
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 1; }));
  EXPECT_EQ(receiver_.messages[0].bytes, request());
  ASSERT_TRUE(run_until([&] { return c.data() == "\r\n\r\n\r\n"; }));
  EXPECT_EQ(tcp->counters().keepalive_pongs, 3u);
  EXPECT_FALSE(c.eof());
}

TEST_F(TcpTest, OversizeMessageIsAnsweredThenClosed) {
  auto tcp = server(/*max_size=*/512);
  const std::string answer =
      "SIP/2.0 513 Message Too Large\r\nContent-Length: 0\r\n\r\n" + std::string(2000, ' ');
  std::uint64_t id = 0;
  receiver_.framing_error_hook = [&](std::string_view, const Peer& from, int) {
    id = from.connection_id;
    EXPECT_EQ(tcp->send(from, answer), from.connection_id);
  };
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write(request(std::string(2000, 'b'))));
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  EXPECT_EQ(c.data(), answer);  // all of it arrived before the close
  ASSERT_EQ(receiver_.framing_errors.size(), 1u);
  EXPECT_EQ(receiver_.framing_errors[0].status, 513);
  EXPECT_TRUE(receiver_.messages.empty());
  ASSERT_TRUE(run_until([&] { return receiver_.closed.size() == 1; }));
  EXPECT_EQ(receiver_.closed_count(id), 1u);
  EXPECT_EQ(tcp->connection_count(), 0u);
}

TEST_F(TcpTest, HeaderBlockLargerThanTheLimitIs513WithoutHead) {
  auto tcp = server(/*max_size=*/512);
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  std::string endless = "MESSAGE sip:bob@example.com SIP/2.0\r\n";
  while (endless.size() < 2000) endless += "X-Filler: 0123456789012345678901234567890123456789\r\n";
  ASSERT_TRUE(c.write(endless));
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  ASSERT_EQ(receiver_.framing_errors.size(), 1u);
  EXPECT_EQ(receiver_.framing_errors[0].status, 513);
  EXPECT_EQ(receiver_.framing_errors[0].head, "");
  EXPECT_TRUE(receiver_.messages.empty());
  EXPECT_TRUE(run_until([&] { return receiver_.closed.size() == 1; }));
}

TEST_F(TcpTest, BadContentLengthIs400WithTheHead) {
  auto tcp = server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  const std::string head =
      "MESSAGE sip:bob@example.com SIP/2.0\r\nCall-ID: x\r\nContent-Length: abc\r\n\r\n";
  ASSERT_TRUE(c.write(head + "body"));
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  ASSERT_EQ(receiver_.framing_errors.size(), 1u);
  EXPECT_EQ(receiver_.framing_errors[0].status, 400);
  EXPECT_EQ(receiver_.framing_errors[0].head, head);
  EXPECT_EQ(tcp->counters().framing_errors, 1u);
}

TEST_F(TcpTest, UnreadOutputBeyondTheBoundClosesTheConnection) {
  auto tcp = server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write(request()));
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 1; }));
  const Peer p = receiver_.messages[0].peer;
  const std::string chunk(1 << 20, 'x');
  // Without running the loop nothing leaves the output buffer.
  int accepted = 0;
  while (tcp->send(p, chunk) == p.connection_id) ++accepted;
  EXPECT_EQ(accepted, static_cast<int>(TcpTransport::kMaxOutputBytes / chunk.size()));
  EXPECT_EQ(tcp->counters().overflows, 1u);
  EXPECT_FALSE(tcp->is_open(p.connection_id));
  ASSERT_TRUE(run_until([&] { return receiver_.closed.size() == 1; }));
  EXPECT_EQ(receiver_.closed_count(p.connection_id), 1u);
}

TEST_F(TcpTest, CloseAfterFlushSendsEverythingFirst) {
  auto tcp = server();
  receiver_.message_hook = [&](std::string_view, const Peer& from) {
    tcp->send(from, std::string(300000, 'r'));
    tcp->close_after_flush(from.connection_id);
    // Closing: takes no more output.
    EXPECT_EQ(tcp->send(Peer{Protocol::kTcp, Address(), -1, from.connection_id}, "late"), 0u);
  };
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write(request()));
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  EXPECT_EQ(c.data(), std::string(300000, 'r'));
  ASSERT_TRUE(run_until([&] { return receiver_.closed.size() == 1; }));
}

TEST_F(TcpTest, PeerCloseIsReportedOnce) {
  auto tcp = server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write(request()));
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 1; }));
  const std::uint64_t id = receiver_.messages[0].peer.connection_id;
  c.close();
  ASSERT_TRUE(run_until([&] { return !receiver_.closed.empty(); }));
  test::run_for(base_.get(), 50);
  EXPECT_EQ(receiver_.closed.size(), 1u);
  EXPECT_EQ(receiver_.closed_count(id), 1u);
  EXPECT_EQ(tcp->connection_count(), 0u);
}

}  // namespace
}  // namespace strowger::proxy::transport
