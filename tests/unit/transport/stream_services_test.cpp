// The stream transport with a module's WebSocket service (a toy line protocol standing in for
// RFC 6455, so the core's side is tested alone), no_connect sends, and the shared connection
// directory.
#include <event2/buffer.h>

#include <string>

#include "proxy/transport/connection_directory.h"
#include "tests/unit/transport/tcp_fixture.h"

namespace strowger::proxy::transport::test {
namespace {

// "HELLO\n" opens the session ("OK\n"); then each "MSG <text>\n" is a message; "BYE\n" ends it.
// Sent messages go out as "OUT <text>\n".
class LineSession final : public sipproxy::WsSession {
 public:
  explicit LineSession(int* ticks) : ticks_(ticks) {}
  bool on_input(evbuffer* in, evbuffer* out, sipproxy::WsSink& sink) override {
    for (;;) {
      std::size_t n = 0;
      char* line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
      if (line == nullptr) return true;
      std::string text(line, n);
      free(line);
      if (!open_) {
        if (text != "HELLO") return false;
        open_ = true;
        evbuffer_add(out, "OK\n", 3);
      } else if (text == "BYE") {
        evbuffer_add(out, "BYE\n", 4);
        return false;
      } else if (text.starts_with("MSG ")) {
        if (!sink.on_message(std::string_view(text).substr(4))) return true;
      } else {
        return false;
      }
    }
  }
  bool send(std::string_view message, evbuffer* out) override {
    if (!open_) return false;
    evbuffer_add_printf(out, "OUT %.*s\n", static_cast<int>(message.size()), message.data());
    return true;
  }
  bool on_tick(std::int64_t, evbuffer*) override { return ++*ticks_ < 3; }
  bool is_open() const override { return open_; }

 private:
  int* ticks_;
  bool open_ = false;
};

class LineService final : public sipproxy::WebSocketService {
 public:
  std::unique_ptr<sipproxy::WsSession> accept(const sipproxy::ConnectionInfo& conn,
                                              std::int64_t) override {
    last = conn;
    return std::make_unique<LineSession>(&ticks);
  }
  std::int64_t tick_ms() const override { return tick; }
  sipproxy::ConnectionInfo last;
  int ticks = 0;
  std::int64_t tick = 60000;
};

class StreamServicesTest : public TcpTest {
 protected:
  std::unique_ptr<TcpTransport> ws_server(int worker = 1) {
    auto t = std::make_unique<TcpTransport>(base_.get(), receiver_, worker, limits_, 65535,
                                            Protocol::kWs, StreamServices{nullptr, &service_});
    t->set_directory(&directory_);
    EXPECT_EQ(t->listen(0, loopback4()), std::nullopt);
    addr_ = t->local_address(0);
    return t;
  }
  LineService service_;
  ConnectionDirectory directory_;
};

TEST_F(StreamServicesTest, MessagesGoThroughTheSessionBothWays) {
  auto ws = ws_server(/*worker=*/3);
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write("HELLO\nMSG one\nMSG two\n"));
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 2; }));
  EXPECT_EQ(receiver_.messages[0].bytes, "one");
  EXPECT_EQ(receiver_.messages[1].bytes, "two");
  const Peer& p = receiver_.messages[0].peer;
  EXPECT_EQ(p.proto, Protocol::kWs);
  EXPECT_EQ(connection_worker(p.connection_id), 3);
  EXPECT_EQ(connection_protocol(p.connection_id), Protocol::kWs);
  EXPECT_EQ(service_.last.proto, "ws");
  EXPECT_EQ(service_.last.remote_port, c.local().port());
  EXPECT_EQ(ws->send(p, "reply"), p.connection_id);
  ASSERT_TRUE(run_until([&] { return c.data() == "OK\nOUT reply\n"; }));
  // The directory knows the connection until it closes.
  EXPECT_EQ(directory_.find(Protocol::kWs, c.local()), p.connection_id);
  EXPECT_EQ(directory_.find(Protocol::kTcp, c.local()), 0u);
  ASSERT_TRUE(c.write("BYE\n"));
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  ASSERT_TRUE(run_until([&] { return receiver_.closed_count(p.connection_id) == 1; }));
  EXPECT_EQ(directory_.find(Protocol::kWs, c.local()), 0u);
  EXPECT_EQ(c.data(), "OK\nOUT reply\nBYE\n");
}

TEST_F(StreamServicesTest, ABadHandshakeClosesAndNothingIsDelivered) {
  auto ws = ws_server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write("GET / HTTP/1.1\nMSG sneaky\n"));
  ASSERT_TRUE(run_until([&] { return c.eof(); }));
  EXPECT_TRUE(receiver_.messages.empty());
  ASSERT_TRUE(run_until([&] { return ws->connection_count() == 0; }));
}

TEST_F(StreamServicesTest, AWebSocketClientIsNeverConnectedTo) {
  auto ws = ws_server();
  // Something listens there, but WS never opens a connection of its own (RFC 7118).
  Peer to{Protocol::kWs, addr_, 0, 0};
  EXPECT_EQ(ws->send(to, "hello"), 0u);
  test::run_for(base_.get(), 20);
  EXPECT_EQ(ws->connection_count(), 0u);
}

TEST_F(StreamServicesTest, TicksReachTheSessionWhichMayCloseTheConnection) {
  service_.tick = 20;
  auto ws = ws_server();
  TcpClient c;
  ASSERT_TRUE(c.connect(addr_));
  ASSERT_TRUE(c.write("HELLO\n"));
  ASSERT_TRUE(run_until([&] { return c.eof(); }, 3000));
  EXPECT_EQ(service_.ticks, 3);
  EXPECT_EQ(c.data(), "OK\n");
}

TEST_F(StreamServicesTest, NoConnectSendsOnlyOverAnExistingConnection) {
  auto listener = server();  // a TCP listener to connect to
  const Address target = addr_;
  RecordingReceiver other;
  auto tcp = std::make_unique<TcpTransport>(base_.get(), other, 0, limits_, 65535);
  Peer to{Protocol::kTcp, target, 0, 0};
  to.no_connect = true;
  EXPECT_EQ(tcp->send(to, request()), 0u);
  EXPECT_EQ(tcp->connection_count(), 0u);
  to.no_connect = false;
  const std::uint64_t id = tcp->send(to, request());
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 1; }));
  // Now there is one: a no_connect send uses it.
  to.no_connect = true;
  EXPECT_EQ(tcp->send(to, request("", 2)), id);
  ASSERT_TRUE(run_until([&] { return receiver_.messages.size() == 2; }));
}

TEST(ConnectionDirectory, NewestConnectionPerProtocolAndRemote) {
  ConnectionDirectory d;
  const Address a = *Address::from_ip_port("127.0.0.1", 5060);
  const Address b = *Address::from_ip_port("127.0.0.1", 5062);
  EXPECT_EQ(d.find(Protocol::kTcp, a), 0u);
  d.add(Protocol::kTcp, a, 11);
  d.add(Protocol::kTcp, a, 12);
  d.add(Protocol::kWss, a, 13);
  EXPECT_EQ(d.find(Protocol::kTcp, a), 12u);
  EXPECT_EQ(d.find(Protocol::kWss, a), 13u);
  EXPECT_EQ(d.find(Protocol::kTcp, b), 0u);
  d.remove(Protocol::kTcp, a, 12);
  EXPECT_EQ(d.find(Protocol::kTcp, a), 11u);
  d.remove(Protocol::kTcp, a, 11);
  d.remove(Protocol::kTcp, a, 11);  // twice: harmless
  EXPECT_EQ(d.find(Protocol::kTcp, a), 0u);
}

}  // namespace
}  // namespace strowger::proxy::transport::test
