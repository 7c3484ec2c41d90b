// Unit tests for NgClient against a real ng server on loopback: replies matched by cookie,
// error replies passed through, retransmission then timeout on a silent relay, cancel.
#include "modules/rtprelay/ng_client.h"

#include <optional>

#include "loop_fixture.h"

namespace strowger::modules::rtprelay {
namespace {

class NgClientTest : public LoopFixture {};

TEST_F(NgClientTest, PingAndCommands) {
  std::string url = start_server("[::1]:0");
  auto relay = servers_[0]->udp_addresses()[0];
  NgClient client(base_);
  std::optional<common::Result<bencode::Dict>> pong, offer, unknown;
  bencode::Dict ping;
  ping.set("command", "ping");
  client.send(relay, ping, [&](common::Result<bencode::Dict> r) { pong = std::move(r); });
  client.send(relay, command("offer", "call-1"),
              [&](common::Result<bencode::Dict> r) { offer = std::move(r); });
  client.send(relay, command("dance", "call-1"),
              [&](common::Result<bencode::Dict> r) { unknown = std::move(r); });
  EXPECT_FALSE(pong.has_value());  // never called back from inside send()
  EXPECT_EQ(client.pending(), 3u);
  ASSERT_TRUE(pump_until([&] { return pong && offer && unknown; }));
  ASSERT_TRUE(pong->ok());
  EXPECT_EQ(pong->value().get_string("result"), "pong");
  ASSERT_TRUE(offer->ok());
  EXPECT_EQ(offer->value().get_string("result"), "ok");
  EXPECT_EQ(offer->value().get_string("call-id"), "call-1");
  ASSERT_TRUE(unknown->ok());  // an error reply is still a reply
  EXPECT_EQ(unknown->value().get_string("result"), "error");
  EXPECT_EQ(unknown->value().get_string("error-reason"), "unknown command 'dance'");
  EXPECT_EQ(client.pending(), 0u);
  EXPECT_EQ(hits_[0]["offer"], 1);
}

TEST_F(NgClientTest, RetransmitsThenTimesOut) {
  sockaddr_storage dead{};
  silent_relay(&dead);
  NgClient client(base_, NgClientOptions{NgRetry{40, 3}});
  std::optional<common::Result<bencode::Dict>> result;
  auto start = std::chrono::steady_clock::now();
  client.send(dead, command("offer", "c"),
              [&](common::Result<bencode::Dict> r) { result = std::move(r); });
  ASSERT_TRUE(pump_until([&] { return result.has_value(); }));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code, kNgTimeout);
  // 40 + 80 + 160 ms of waiting for three sends.
  EXPECT_GE(elapsed, std::chrono::milliseconds(270));
  // Three identical datagrams (same cookie, so a relay's cookie cache can match them).
  char buf[3][2048];
  ssize_t n[3];
  for (int i = 0; i < 3; ++i) n[i] = ::recv(silent_[0], buf[i], sizeof buf[i], MSG_DONTWAIT);
  ASSERT_GT(n[0], 0);
  EXPECT_EQ(std::string(buf[0], n[0]), std::string(buf[1], n[1]));
  EXPECT_EQ(std::string(buf[0], n[0]), std::string(buf[2], n[2]));
  EXPECT_EQ(drain_silent(0), 0);
}

TEST_F(NgClientTest, CancelledRequestNeverCallsBack) {
  sockaddr_storage dead{};
  silent_relay(&dead);
  NgClient client(base_, NgClientOptions{NgRetry{20, 1}});
  bool called = false;
  auto id = client.send(dead, command("offer", "c"),
                        [&](common::Result<bencode::Dict>) { called = true; });
  EXPECT_TRUE(client.cancel(id));
  EXPECT_FALSE(client.cancel(id));
  pump_until([] { return false; }, 100);
  EXPECT_FALSE(called);
}

TEST_F(NgClientTest, UnsendableAddressFailsFromTheLoop) {
  NgClient client(base_);
  sockaddr_storage bad{};
  bad.ss_family = AF_INET;  // 0.0.0.0 port 0: the kernel refuses to send there
  std::optional<common::Result<bencode::Dict>> result;
  client.send(bad, command("offer", "c"),
              [&](common::Result<bencode::Dict> r) { result = std::move(r); });
  EXPECT_FALSE(result.has_value());
  ASSERT_TRUE(pump_until([&] { return result.has_value(); }, 5000));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code, kNgSendFailed);
}

TEST_F(NgClientTest, StrayRepliesIgnoredGarbageUnderOurCookieFails) {
  sockaddr_storage relay{};
  silent_relay(&relay);  // answered by hand below
  NgClient client(base_, NgClientOptions{NgRetry{2000, 1}});
  std::optional<common::Result<bencode::Dict>> result;
  client.send(relay, command("offer", "c"),
              [&](common::Result<bencode::Dict> r) { result = std::move(r); });
  char buf[2048];
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  ssize_t n =
      ::recvfrom(silent_[0], buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  ASSERT_GT(n, 0);
  std::string msg(buf, n);
  std::string cookie = msg.substr(0, msg.find(' '));
  auto reply = [&](const std::string& wire) {
    ::sendto(silent_[0], wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  };
  reply("someone-else d6:result2:oke");  // not our cookie
  reply("nospace");
  pump_until([] { return false; }, 50);
  EXPECT_FALSE(result.has_value());
  reply(cookie + " this is not bencode");
  ASSERT_TRUE(pump_until([&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code, kNgBadReply);
  reply(cookie + " d6:result2:oke");  // late duplicate: nobody waits for it any more
  pump_until([] { return false; }, 50);
  EXPECT_EQ(client.pending(), 0u);
}

}  // namespace
}  // namespace strowger::modules::rtprelay
