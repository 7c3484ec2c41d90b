// TcpTransport connections on loopback: reuse, connect failures, timeouts, limits, IPv6.
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

TEST_F(TcpTest, ReusesOneConnectionForOneRemote) {
  auto srv = server();
  RecordingReceiver client_side;
  auto cli = make(client_side, 65535, /*worker=*/5);
  ASSERT_EQ(cli->listen(0, test::loopback4()), std::nullopt);
  const Address cli_addr = cli->local_address(0);

  const Peer to{Protocol::kTcp, addr_, 0, 0};
  const std::uint64_t id1 = cli->send(to, request("", 1));
  ASSERT_NE(id1, 0u);
  EXPECT_EQ(connection_worker(id1), 5);
  EXPECT_EQ(cli->send(to, request("", 2)), id1);  // still connecting: queued on the same one
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 2; }));
  EXPECT_EQ(cli->send(to, request("", 3)), id1);
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 3; }));
  EXPECT_EQ(cli->connection_count(), 1u);
  EXPECT_EQ(srv->connection_count(), 1u);
  EXPECT_EQ(cli->counters().connecting, 1u);
  // The outgoing connection comes from the listener's address, so Via and source agree.
  EXPECT_EQ(receiver_.messages[0].peer.remote, cli_addr);

  // The server answers on the accepted connection, and a request by remote reuses it too.
  const Peer back = receiver_.messages[0].peer;
  EXPECT_EQ(srv->send(back, kOk), back.connection_id);
  EXPECT_EQ(srv->send(Peer{Protocol::kTcp, cli_addr, -1, 0}, request("", 9)), back.connection_id);
  ASSERT_TRUE(run_until([&] { return client_side.messages.size() == 2; }));
  EXPECT_EQ(client_side.messages[0].bytes, kOk);
  EXPECT_EQ(client_side.messages[0].peer.connection_id, id1);
  EXPECT_EQ(client_side.messages[0].peer.remote, addr_);
  EXPECT_EQ(srv->connection_count(), 1u);

  // Closing it tells both sides once; the next send opens a new connection.
  cli->close_after_flush(id1);
  ASSERT_TRUE(
      run_until([&] { return client_side.closed.size() == 1 && receiver_.closed.size() == 1; }));
  EXPECT_EQ(client_side.closed_count(id1), 1u);
  EXPECT_EQ(receiver_.closed_count(back.connection_id), 1u);
  const std::uint64_t id2 = cli->send(to, request("", 4));
  EXPECT_NE(id2, 0u);
  EXPECT_NE(id2, id1);
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 4; }));
}

TEST_F(TcpTest, ConnectToAClosedPortReportsCloseOnce) {
  // Find a port nobody listens on.
  Fd probe(::socket(AF_INET, SOCK_STREAM, 0));
  Address a = test::loopback4();
  ASSERT_EQ(::bind(probe.get(), a.sa(), a.len()), 0);
  const Address closed = test::local_address_of(probe.get());
  probe.reset();

  auto tcp = make(receiver_);
  const std::uint64_t id = tcp->send(Peer{Protocol::kTcp, closed, -1, 0}, request());
  if (id == 0) {
    // Refused synchronously: nothing was created, so nothing may be reported.
    test::run_for(base_.get(), 100);
    EXPECT_TRUE(receiver_.closed.empty());
  } else {
    ASSERT_TRUE(run_until([&] { return !receiver_.closed.empty(); }));
    test::run_for(base_.get(), 100);
    EXPECT_EQ(receiver_.closed.size(), 1u);
    EXPECT_EQ(receiver_.closed_count(id), 1u);
  }
  EXPECT_EQ(tcp->connection_count(), 0u);
  EXPECT_FALSE(tcp->is_open(id));
}

TEST_F(TcpTest, ConnectTimeout) {
  // A listener whose accept queue is full drops SYNs, so a connect to it hangs.
  Fd full(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Address a = test::loopback4();
  ASSERT_EQ(::bind(full.get(), a.sa(), a.len()), 0);
  ASSERT_EQ(::listen(full.get(), 0), 0);
  const Address target = test::local_address_of(full.get());
  std::vector<Fd> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ::connect(fillers.back().get(), target.sa(), target.len());
  }
  test::run_for(base_.get(), 50);

  limits_.connect_timeout_ms = 300;
  auto tcp = make(receiver_);
  const std::int64_t start = test::now_ms();
  const std::uint64_t id = tcp->send(Peer{Protocol::kTcp, target, -1, 0}, request());
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(run_until([&] { return !receiver_.closed.empty(); }, 3000));
  const std::int64_t took = test::now_ms() - start;
  EXPECT_GE(took, 250);
  EXPECT_LT(took, 1500);
  EXPECT_EQ(receiver_.closed_count(id), 1u);
  EXPECT_EQ(tcp->connection_count(), 0u);
}

TEST_F(TcpTest, IdleConnectionIsClosed) {
  limits_.idle_timeout_s = 1;
  auto tcp = server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(run_until([&] { return tcp->connection_count() == 1; }));
  const std::int64_t start = test::now_ms();
  // Traffic half-way keeps it open a while longer.
  test::run_for(base_.get(), 600);
  ASSERT_TRUE(c.write(request()));
  ASSERT_TRUE(run_until([&] { return c.eof(); }, 3000));
  const std::int64_t took = test::now_ms() - start;
  EXPECT_GE(took, 1500);
  EXPECT_LT(took, 2500);
  EXPECT_EQ(receiver_.messages.size(), 1u);
  ASSERT_TRUE(run_until([&] { return receiver_.closed.size() == 1; }));
  EXPECT_EQ(tcp->connection_count(), 0u);
}

TEST_F(TcpTest, PerSourceLimitRefusesExtraAccepts) {
  limits_.max_connections_per_source = 2;
  auto tcp = server();
  TcpClient c[3];
  for (auto& client : c) ASSERT_TRUE(client.connect(addr_));
  ASSERT_TRUE(run_until([&] { return tcp->counters().accepted + tcp->counters().rejected == 3; }));
  EXPECT_EQ(tcp->connection_count(), 2u);
  EXPECT_EQ(tcp->counters().rejected, 1u);
  ASSERT_TRUE(run_until([&] { return c[2].eof(); }));
  EXPECT_FALSE(c[0].eof());
  EXPECT_FALSE(c[1].eof());
  // A refused accept was never a connection: no close is reported for it.
  EXPECT_TRUE(receiver_.closed.empty());
  // Once one leaves, the source may connect again.
  c[0].close();
  ASSERT_TRUE(run_until([&] { return receiver_.closed.size() == 1; }));
  TcpClient again;
  ASSERT_TRUE(again.connect(addr_));
  ASSERT_TRUE(run_until([&] { return tcp->counters().accepted == 3; }));
  EXPECT_EQ(tcp->connection_count(), 2u);
}

TEST_F(TcpTest, MaxConnectionsCountsOutgoingToo) {
  limits_.max_connections = 1;
  auto tcp = server();
  TcpClient c1, c2;
  ASSERT_TRUE(c1.connect(addr_));
  ASSERT_TRUE(c2.connect(addr_));
  ASSERT_TRUE(run_until([&] { return c2.eof(); }));
  EXPECT_EQ(tcp->connection_count(), 1u);
  // Full: no new outgoing connection either.
  EXPECT_EQ(tcp->send(Peer{Protocol::kTcp, *Address::from_ip_port("127.0.0.1", 9), -1, 0}, "x"),
            0u);
  EXPECT_EQ(tcp_limits_per_worker(config::TcpLimits{300, 4096, 64, 5000}, 3).max_connections, 1366);
  EXPECT_EQ(
      tcp_limits_per_worker(config::TcpLimits{300, 4096, 2, 5000}, 3).max_connections_per_source,
      1);
}

TEST_F(TcpTest, DestructorClosesEverythingWithoutCallbacks) {
  auto tcp = server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  const std::uint64_t out = tcp->send(Peer{Protocol::kTcp, addr_, -1, 0}, request());
  ASSERT_NE(out, 0u);
  // Sending to its own listener reaches the listener (not a self-connected socket).
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 1; }));
  EXPECT_NE(receiver_.messages[0].peer.remote.port(), addr_.port());
  EXPECT_EQ(tcp->connection_count(), 3u);
  tcp.reset();
  EXPECT_TRUE(receiver_.closed.empty());
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  EXPECT_TRUE(receiver_.closed.empty());
}

TEST_F(TcpTest, Ipv6Loopback) {
  if (!test::have_ipv6_loopback()) GTEST_SKIP() << "::1 is not configured";
  auto tcp = make(receiver_);
  ASSERT_EQ(tcp->listen(1, *Address::from_ip_port("::1", 0)), std::nullopt);
  const Address server6 = tcp->local_address(1);
  receiver_.message_hook = [&](std::string_view, const Peer& from) { tcp->send(from, kOk); };
  TcpClient c;
  ASSERT_TRUE(c.connect(server6));
  ASSERT_TRUE(c.write(request()));
  ASSERT_TRUE(run_until([&] { return c.data() == kOk; }));
  ASSERT_EQ(receiver_.messages.size(), 1u);
  EXPECT_EQ(receiver_.messages[0].peer.remote.family(), AF_INET6);
  EXPECT_EQ(receiver_.messages[0].peer.listener, 1);
  // And outgoing over IPv6, bound to the IPv6 listener.
  RecordingReceiver other;
  auto cli = make(other);
  ASSERT_EQ(cli->listen(0, *Address::from_ip_port("::1", 0)), std::nullopt);
  ASSERT_NE(cli->send(Peer{Protocol::kTcp, server6, -1, 0}, request()), 0u);
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 2; }));
  EXPECT_EQ(receiver_.messages[1].peer.remote, cli->local_address(0));
}

TEST_F(TcpTest, ListenErrors) {
  auto a = server();
  // A plain listener without SO_REUSEPORT on another port blocks ours.
  Fd holder(::socket(AF_INET, SOCK_STREAM, 0));
  Address any = test::loopback4();
  ASSERT_EQ(::bind(holder.get(), any.sa(), any.len()), 0);
  ASSERT_EQ(::listen(holder.get(), 1), 0);
  const Address held = test::local_address_of(holder.get());
  auto err = a->listen(1, held);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "bind " + held.to_string() + ": Address already in use");
  // Two workers share a port.
  RecordingReceiver other;
  auto b = make(other, 65535, 1);
  EXPECT_EQ(b->listen(0, addr_), std::nullopt);
}

}  // namespace
}  // namespace strowger::proxy::transport
