// Unit tests for the socketless ng pieces: message splitting, reply building, the cookie cache
// (retransmissions, expiry, bounds) and dispatch errors.
#include "rtprelay/control/ng_dispatcher.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <stdexcept>

#include "rtprelay/control/cookie_cache.h"
#include "rtprelay/control/ng_message.h"

namespace strowger::rtprelay::control {
namespace {

Peer peer_v4(std::uint16_t port) {
  Peer p;
  auto* a = reinterpret_cast<sockaddr_in*>(&p.addr);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  p.addr_len = sizeof(sockaddr_in);
  return p;
}

TEST(NgMessage, SplitsAtFirstSpace) {
  auto m = split_message("5323_1 d7:command4:pinge");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cookie, "5323_1");
  EXPECT_EQ(m->body, "d7:command4:pinge");
  auto sdp = split_message("c d3:sdp3:a be");
  ASSERT_TRUE(sdp);
  EXPECT_EQ(sdp->body, "d3:sdp3:a be");  // spaces inside the dict stay
  EXPECT_FALSE(split_message(" d7:command4:pinge"));
  EXPECT_FALSE(split_message("nospace"));
  EXPECT_FALSE(split_message(""));
  EXPECT_TRUE(looks_like_cookie("abc_1"));
  EXPECT_FALSE(looks_like_cookie(""));
  EXPECT_FALSE(looks_like_cookie(std::string("a\0b", 3)));
  EXPECT_FALSE(looks_like_cookie(std::string(kMaxCookieBytes + 1, 'x')));
}

TEST(NgMessage, BuildsReplies) {
  EXPECT_EQ(build_reply("5323_1", pong_reply()), "5323_1 d6:result4:ponge");
  EXPECT_EQ(build_reply("c", error_reply("bad")), "c d12:error-reason3:bad6:result5:errore");
  bencode::Dict ok = ok_reply();
  ok.set("sdp", "v=0");
  set_warning(ok, "careful");
  EXPECT_EQ(build_reply("k", ok), "k d6:result2:ok3:sdp3:v=07:warning7:carefule");
  set_error(ok, "nope");
  EXPECT_TRUE(is_error(ok));
  EXPECT_EQ(ok.size(), 2u);
}

TEST(CookieCache, ExpiresAndIsBounded) {
  common::FakeClock clock;
  CookieCache cache(clock, CookieCacheOptions{1000, 3});
  cache.insert("a", "ra");
  clock.advance(10);
  cache.insert("b", "rb");
  ASSERT_NE(cache.find("a"), nullptr);
  EXPECT_EQ(*cache.find("a"), "ra");
  clock.advance(995);  // a is 1005 ms old, b 995
  EXPECT_EQ(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("b"), nullptr);
  cache.insert("c", "rc");  // drops the expired a
  EXPECT_EQ(cache.size(), 2u);
  cache.insert("d", "rd");
  cache.insert("e", "re");  // full: b, the oldest, goes
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
  cache.insert("c", "rc2");  // replace keeps one entry
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(*cache.find("c"), "rc2");
}

class Dispatcher : public ::testing::Test {
 protected:
  Dispatcher() : d_(clock_, NgDispatcherOptions{}) {
    d_.add_command("offer", [this](const bencode::Dict& req, const Peer&, bencode::Dict& reply) {
      ++offers_;
      reply.set("sdp", std::string(req.get_string("sdp").value_or("none")) + "-rewritten");
    });
  }
  std::string ask(std::string_view msg, std::uint16_t port = 5000) {
    return d_.handle_message(msg, peer_v4(port)).value_or("<dropped>");
  }
  common::FakeClock clock_;
  NgDispatcher d_;
  int offers_ = 0;
};

TEST_F(Dispatcher, RetransmissionIsAnsweredFromTheCache) {
  const std::string msg = "k1 d7:command5:offer3:sdp1:Xe";
  std::string first = ask(msg);
  EXPECT_EQ(first, "k1 d6:result2:ok3:sdp11:X-rewrittene");
  EXPECT_EQ(ask(msg), first);
  EXPECT_EQ(offers_, 1);
  EXPECT_EQ(d_.stats().retransmissions, 1u);
  ask("k2 d7:command5:offer3:sdp1:Xe");  // another cookie runs again
  EXPECT_EQ(offers_, 2);
  ask(msg, 5001);  // the same cookie from another sender is another request
  EXPECT_EQ(offers_, 3);
  clock_.advance(29'000);
  EXPECT_EQ(ask(msg), first);
  EXPECT_EQ(offers_, 3);
  clock_.advance(1'001);  // 30 s later it has expired: the command runs again
  EXPECT_EQ(ask(msg), first);
  EXPECT_EQ(offers_, 4);
}

TEST_F(Dispatcher, BadInputGetsErrors) {
  auto reason = [&](std::string_view msg) -> std::string {
    std::string r = ask(msg);
    auto sp = split_message(r);
    if (!sp) return "<no reply: " + r + ">";
    auto v = bencode::decode(sp->body);
    if (!v.ok() || !v.value().is_dict()) return "<bad reply>";
    const bencode::Dict& d = *v.value().as_dict();
    EXPECT_EQ(d.get_string("result"), "error") << msg;
    EXPECT_EQ(d.size(), 2u);
    return std::string(sp->cookie) + "|" + std::string(d.get_string("error-reason").value_or(""));
  };
  EXPECT_EQ(reason("lonely"), "lonely|no bencoded dictionary after the cookie");
  EXPECT_EQ(reason("c1 d7:command"),
            "c1|could not decode the bencoded dictionary: truncated bencode value");
  EXPECT_EQ(reason("c2 i5e"), "c2|the message is not a bencoded dictionary");
  EXPECT_EQ(reason("c3 d3:sdp1:xe"), "c3|no 'command' in the dictionary");
  EXPECT_EQ(reason("c4 d7:commandi1ee"), "c4|'command' is not a string");
  EXPECT_EQ(reason("c5 d7:command5:dancee"), "c5|unknown command 'dance'");
  EXPECT_EQ(
      reason("c6 d7:command4:pinge7:trailer"),
      "c6|could not decode the bencoded dictionary: trailing bytes after the value at byte 17");
  EXPECT_EQ(ask(" d7:command4:pinge"), "<dropped>");
  EXPECT_EQ(ask(""), "<dropped>");
  EXPECT_EQ(ask(std::string(300, 'x')), "<dropped>");
  EXPECT_EQ(d_.stats().dropped, 3u);
  EXPECT_EQ(d_.stats().errors, 7u);
  EXPECT_EQ(offers_, 0);
}

TEST_F(Dispatcher, HandlerErrorsAndExceptions) {
  d_.add_command("delete", [](const bencode::Dict&, const Peer&, bencode::Dict& reply) {
    reply.set("extra", "dropped from an error reply");
    reply.set("result", "error");
    reply.set("error-reason", "Unknown call-ID");
  });
  d_.add_command("query", [](const bencode::Dict&, const Peer&, bencode::Dict&) {
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(ask("a d7:command6:deletee"), "a d12:error-reason15:Unknown call-ID6:result5:errore");
  EXPECT_EQ(ask("b d7:command5:querye"),
            "b d12:error-reason20:internal error: boom6:result5:errore");
  EXPECT_EQ(ask("p d7:command4:pinge"), "p d6:result4:ponge");
}

}  // namespace
}  // namespace strowger::rtprelay::control
