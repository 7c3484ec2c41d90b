// Sessions over real evbuffers: handshake in pieces, frames split at every byte, fragmentation,
// masking and control-frame rules, size limits, ping/pong, close, keepalive and timeouts.
#include "modules/websocket/ws_session.h"

#include <gtest/gtest.h>

#include "ws_test_util.h"

namespace strowger::modules::websocket {
namespace {

using test::client_frame;
using test::EvBuf;
using test::server_frame;

const std::string kRegister =
    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK\r\n"
    "Content-Length: 0\r\n\r\n";

std::string close_payload(std::uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

class WsSessionTest : public ::testing::Test {
 protected:
  void make(WsConfig config = {}) {
    service_ = std::make_unique<Service>(std::move(config), 2);
    sipproxy::ConnectionInfo conn;
    conn.id = (std::uint64_t{1} << 56) | 7;
    conn.proto = "ws";
    conn.remote_ip = "127.0.0.1";
    conn.remote_port = 40000;
    session_ = service_->accept(conn, 1000);
  }
  bool feed(std::string_view bytes) {
    in_.add(bytes);
    return session_->on_input(in_, out_, sink_);
  }
  void open() {
    ASSERT_TRUE(feed(test::kUpgrade));
    ASSERT_TRUE(session_->is_open());
    ASSERT_EQ(out_.take().rfind("HTTP/1.1 101 ", 0), 0u);
  }
  std::uint64_t stat(Counter c) const { return service_->stats().get(c); }

  std::unique_ptr<Service> service_;
  std::unique_ptr<sipproxy::WsSession> session_;
  EvBuf in_, out_;
  test::Sink sink_;
};

TEST_F(WsSessionTest, HandshakeAndMessageSplitAtEveryByte) {
  const std::string wire = std::string(test::kUpgrade) + client_frame(0x1, kRegister) +
                           client_frame(0x2, std::string(300, 'b'));
  for (std::size_t cut = 1; cut < wire.size(); ++cut) {
    make();
    sink_ = {};
    in_.take();
    out_.take();
    ASSERT_TRUE(feed(wire.substr(0, cut))) << cut;
    ASSERT_TRUE(feed(wire.substr(cut))) << cut;
    ASSERT_EQ(sink_.messages.size(), 2u) << cut;
    EXPECT_EQ(sink_.messages[0], kRegister);
    EXPECT_EQ(sink_.messages[1], std::string(300, 'b'));
    EXPECT_EQ(in_.size(), 0u);
  }
}

TEST_F(WsSessionTest, ByteByByte) {
  const std::string wire = std::string(test::kUpgrade) + client_frame(0x1, kRegister) +
                           client_frame(0x9, "hi") + client_frame(0x1, std::string(70000, 'L'));
  WsConfig big;
  big.max_message_size = 100000;
  make(big);
  for (char c : wire) ASSERT_TRUE(feed(std::string_view(&c, 1)));
  ASSERT_EQ(sink_.messages.size(), 2u);
  EXPECT_EQ(sink_.messages[0], kRegister);
  EXPECT_EQ(sink_.messages[1].size(), 70000u);
  const std::string out = out_.take();
  EXPECT_EQ(out.rfind("HTTP/1.1 101 ", 0), 0u);
  const std::string pong = server_frame(0xA, "hi");
  ASSERT_GT(out.size(), pong.size());
  EXPECT_EQ(out.substr(out.size() - pong.size()), pong);
}

TEST_F(WsSessionTest, Fragmentation) {
  make();
  open();
  // Three fragments with a ping between them, then a whole message.
  ASSERT_TRUE(feed(client_frame(0x1, "REGISTER ", false)));
  ASSERT_TRUE(feed(client_frame(0x0, "sip:a ", false)));
  ASSERT_TRUE(feed(client_frame(0x9, "x")));
  EXPECT_TRUE(sink_.messages.empty());
  ASSERT_TRUE(feed(client_frame(0x0, "SIP/2.0", true) + client_frame(0x2, "next")));
  EXPECT_EQ(sink_.messages, (std::vector<std::string>{"REGISTER sip:a SIP/2.0", "next"}));
  EXPECT_EQ(out_.take(), server_frame(0xA, "x"));
  EXPECT_EQ(stat(Counter::kMessagesIn), 2u);
  EXPECT_EQ(stat(Counter::kFramesIn), 5u);
  // Empty fragments are allowed; an empty message is not handed on.
  ASSERT_TRUE(feed(client_frame(0x1, "", false) + client_frame(0x0, "a", false) +
                   client_frame(0x0, "", true) + client_frame(0x1, "")));
  EXPECT_EQ(sink_.messages.back(), "a");
  EXPECT_EQ(sink_.messages.size(), 3u);
}

TEST_F(WsSessionTest, ProtocolErrorsClose1002) {
  const std::vector<std::string> bad = {
      client_frame(0x1, "unmasked", true, false),
      client_frame(0x1, "rsv", true, true, 0x2),
      client_frame(0x3, "opcode"),
      client_frame(0x0, "lone continuation"),
      client_frame(0x1, "a", false) + client_frame(0x1, "new message mid-message"),
      client_frame(0x9, std::string(126, 'p')),
      client_frame(0x9, "fragmented ping", false),
      client_frame(0x8, "x"),                  // a 1-byte close payload
      client_frame(0x8, close_payload(1005)),  // a code that must not be sent
      client_frame(0x8, close_payload(999)),
      std::string("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x01", 10) + "abcd",  // top bit
  };
  for (const std::string& frame : bad) {
    make();
    in_.take();
    open();
    EXPECT_FALSE(feed(frame));
    EXPECT_EQ(out_.take(), server_frame(0x8, close_payload(1002))) << frame.size();
    EXPECT_FALSE(session_->is_open());
    EXPECT_FALSE(session_->send("x", out_));
    EXPECT_FALSE(session_->on_input(in_, out_, sink_));  // stays closed
    EXPECT_EQ(stat(Counter::kCloseProtocolError), 1u);
  }
}

TEST_F(WsSessionTest, SizeLimitBeforeData) {
  WsConfig c;
  c.max_message_size = 1000;
  make(c);
  open();
  ASSERT_TRUE(feed(client_frame(0x1, std::string(1000, 'a'))));
  EXPECT_EQ(sink_.messages.size(), 1u);
  // A header announcing 2^62 bytes is refused at once, with nothing buffered.
  std::string huge("\x81\xFF\x40\x00\x00\x00\x00\x00\x00\x00", 10);
  huge += "abcd";
  EXPECT_FALSE(feed(huge));
  EXPECT_EQ(out_.take(), server_frame(0x8, close_payload(1009)));
  EXPECT_EQ(stat(Counter::kCloseTooBig), 1u);
  // Fragments adding up to over the limit.
  make(c);
  in_.take();
  open();
  ASSERT_TRUE(feed(client_frame(0x1, std::string(600, 'a'), false)));
  EXPECT_FALSE(feed(client_frame(0x0, std::string(401, 'a'))));
  EXPECT_EQ(out_.take(), server_frame(0x8, close_payload(1009)));
  EXPECT_TRUE(sink_.messages.size() == 1u);
}

TEST_F(WsSessionTest, PingPongAndClose) {
  make();
  open();
  ASSERT_TRUE(feed(client_frame(0x9, "payload") + client_frame(0xA, "unsolicited")));
  EXPECT_EQ(out_.take(), server_frame(0xA, "payload"));
  EXPECT_EQ(stat(Counter::kPongsIn), 1u);
  // Close: our close echoes the code, then the connection goes.
  EXPECT_FALSE(feed(client_frame(0x8, close_payload(1000) + "bye") + client_frame(0x1, "late")));
  EXPECT_EQ(out_.take(), server_frame(0x8, close_payload(1000)));
  EXPECT_TRUE(sink_.messages.empty());
  EXPECT_EQ(stat(Counter::kClosePeer), 1u);
  // An empty close is answered with an empty close; 4000 (private use) is a valid code.
  make();
  in_.take();
  open();
  EXPECT_FALSE(feed(client_frame(0x8, "")));
  EXPECT_EQ(out_.take(), server_frame(0x8, ""));
  make();
  in_.take();
  open();
  EXPECT_FALSE(feed(client_frame(0x8, close_payload(4000))));
  EXPECT_EQ(out_.take(), server_frame(0x8, close_payload(4000)));
}

TEST_F(WsSessionTest, SendFramesText) {
  make();
  EXPECT_FALSE(session_->send(kRegister, out_));  // not open yet
  open();
  ASSERT_TRUE(session_->send(kRegister, out_));
  EXPECT_EQ(out_.take(), server_frame(0x1, kRegister));
  const std::string big(70000, 'x');
  ASSERT_TRUE(session_->send(big, out_));
  EXPECT_EQ(out_.take(), server_frame(0x1, big));
  // Not UTF-8: binary, which a browser accepts.
  ASSERT_TRUE(session_->send("body \xFF\xFE", out_));
  EXPECT_EQ(out_.take(), server_frame(0x2, "body \xFF\xFE"));
  EXPECT_EQ(stat(Counter::kMessagesOut), 3u);
}

TEST_F(WsSessionTest, SinkGoneStopsReading) {
  make();
  open();
  sink_.alive = false;
  EXPECT_FALSE(feed(client_frame(0x1, "one") + client_frame(0x1, "two")));
  EXPECT_EQ(sink_.messages, std::vector<std::string>{"one"});
  EXPECT_EQ(stat(Counter::kCloseConnectionGone), 1u);
}

TEST_F(WsSessionTest, HandshakeRejectAnswersAndCloses) {
  make();
  EXPECT_FALSE(feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(out_.take().rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
  EXPECT_EQ(stat(Counter::kHandshakeFailed), 1u);
  EXPECT_EQ(service_->stats().get(Reject::kNotUpgrade), 1u);
  WsConfig c;
  c.policy.origins = {"https://ok.example.com"};
  make(c);
  in_.take();
  EXPECT_FALSE(feed(test::kUpgrade));
  EXPECT_EQ(out_.take().rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
}

TEST_F(WsSessionTest, HeaderLimit) {
  WsConfig c;
  c.max_header_size = 1024;
  make(c);
  // Exactly at the limit is fine.
  std::string req = test::kUpgrade;
  req.insert(req.size() - 2, "X-Pad: " + std::string(1024 - req.size() - 9, 'p') + "\r\n");
  ASSERT_EQ(req.size(), 1024u);
  EXPECT_TRUE(feed(req));
  EXPECT_TRUE(session_->is_open());
  // One byte more, sent in pieces, is refused once the limit is reached without a blank line.
  req.insert(10, "p");
  make(c);
  in_.take();
  out_.take();
  EXPECT_TRUE(feed(req.substr(0, 1000)));
  EXPECT_FALSE(feed(req.substr(1000)));
  EXPECT_EQ(out_.take().rfind("HTTP/1.1 431 ", 0), 0u);
  EXPECT_EQ(service_->stats().get(Reject::kTooLarge), 1u);
}

TEST_F(WsSessionTest, HandshakeTimeout) {
  WsConfig c;
  c.handshake_timeout_ms = 10000;
  make(c);  // accepted at 1000
  EXPECT_TRUE(feed("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(session_->on_tick(10999, out_));
  EXPECT_FALSE(session_->on_tick(11000, out_));
  EXPECT_EQ(out_.take().rfind("HTTP/1.1 408 ", 0), 0u);
  EXPECT_EQ(service_->stats().get(Reject::kTimeout), 1u);
  // Once open, the handshake timeout no longer applies.
  make(c);
  in_.take();
  open();
  EXPECT_TRUE(session_->on_tick(20000, out_));
}

TEST_F(WsSessionTest, KeepalivePingAndTimeout) {
  WsConfig c;
  c.keepalive = Keepalive::kPing;
  c.keepalive_interval_ms = 30000;
  c.keepalive_timeout_ms = 10000;
  make(c);  // at 1000
  open();
  EXPECT_TRUE(session_->on_tick(2000, out_));  // sees the handshake input: last input 2000
  EXPECT_TRUE(session_->on_tick(31999, out_));
  EXPECT_EQ(out_.size(), 0u);
  EXPECT_TRUE(session_->on_tick(32000, out_));
  EXPECT_EQ(out_.take(), server_frame(0x9, ""));
  // Any frame answers it: a pong here.
  ASSERT_TRUE(feed(client_frame(0xA, "")));
  EXPECT_TRUE(session_->on_tick(41000, out_));
  EXPECT_TRUE(session_->on_tick(50000, out_));  // no second ping yet: idle only since 41000
  EXPECT_EQ(out_.size(), 0u);
  EXPECT_TRUE(session_->on_tick(71000, out_));
  EXPECT_EQ(out_.take(), server_frame(0x9, ""));
  EXPECT_TRUE(session_->on_tick(80999, out_));
  EXPECT_FALSE(session_->on_tick(81000, out_));  // no answer within keepalive_timeout
  EXPECT_EQ(out_.take(), server_frame(0x8, close_payload(1001)));
  EXPECT_EQ(stat(Counter::kCloseKeepaliveTimeout), 1u);
  EXPECT_EQ(stat(Counter::kPingsOut), 2u);
}

TEST_F(WsSessionTest, KeepalivePongAndNone) {
  WsConfig c;
  c.keepalive = Keepalive::kPong;
  c.keepalive_interval_ms = 5000;
  make(c);
  open();
  EXPECT_TRUE(session_->on_tick(1000, out_));
  EXPECT_TRUE(session_->on_tick(6000, out_));
  EXPECT_EQ(out_.take(), server_frame(0xA, ""));
  // No answer is expected to a pong: it goes on every interval and never closes.
  EXPECT_TRUE(session_->on_tick(10999, out_));
  EXPECT_EQ(out_.size(), 0u);
  EXPECT_TRUE(session_->on_tick(11000, out_));
  EXPECT_TRUE(session_->on_tick(100000, out_));
  EXPECT_EQ(out_.take(), server_frame(0xA, "") + server_frame(0xA, ""));
  c.keepalive = Keepalive::kNone;
  make(c);
  in_.take();
  open();
  EXPECT_TRUE(session_->on_tick(1000000, out_));
  EXPECT_EQ(out_.size(), 0u);
}

TEST_F(WsSessionTest, RejectedHandshakeLogsAreLimited) {
  WsStats stats(1);
  std::uint64_t suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += stats.allow_log(0, 5000, 3, &suppressed);
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(stats.sum().get(Counter::kLogsSuppressed), 7u);
  EXPECT_TRUE(stats.allow_log(0, 6000, 3, &suppressed));  // a new second
  EXPECT_EQ(suppressed, 7u);
  EXPECT_TRUE(stats.allow_log(0, 6001, 3, &suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST_F(WsSessionTest, SessionsCountedPerShard) {
  make();
  EXPECT_EQ(stat(Counter::kSessionsOpened), 1u);
  session_.reset();
  EXPECT_EQ(stat(Counter::kSessionsClosed), 1u);
}

}  // namespace
}  // namespace strowger::modules::websocket
