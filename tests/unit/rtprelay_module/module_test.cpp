// The real rtprelay.so loaded through a script under Kamailio's names (loadmodule
// "rtpengine.so", rtpengine_sock, rtpengine_manage): the INVITE's SDP is replaced by the
// relay's with Content-Length fixed, a reply's SDP is answered, a BYE deletes, and with the
// relay silent the function returns false so the script can answer 503.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "fake_relay.h"
#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"
#include "tests/unit/support/test_module_host.h"

namespace strowger::proxy {
namespace {

using modules::rtprelay::FakeRelay;

using TimerHost = test_support::TestModuleHost;

const std::string kSdp =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

std::string invite(const std::string& body) {
  return "INVITE sip:bob@example.com SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.org>;tag=ft\r\n"
         "To: <sip:bob@example.com>\r\n"
         "Call-ID: mod-call\r\n"
         "CSeq: 1 INVITE\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Outcome {
  std::string result;
  std::string wire;
};

Outcome run(const script::engine::CompileResult& compiled, const std::string& text,
            bool reply = false) {
  auto msg = sip::Message::parse(text);
  EXPECT_TRUE(msg.ok());
  script::engine::DryRunHost dry(std::move(msg.value()), {"udp", "192.0.2.10", 5060},
                                 {"udp", "192.0.2.1", 5060}, {});
  script::engine::ExecutionContext ctx(*compiled.program, dry);
  if (reply) {
    script::engine::run_route(ctx, compiled.program->reply_route);
  } else {
    script::engine::run_route(ctx, compiled.program->request_route);
  }
  return {ctx.vars["r"].to_str(), std::string(dry.message().wire())};
}

TEST(RtprelayModule, ScriptDrivesTheRelay) {
  module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  FakeRelay relay;
  auto compiled = script::engine::compile_text(
      "loadmodule \"rtpengine.so\"\n"
      "modparam(\"rtpengine\", \"rtpengine_sock\", \"" +
          relay.url() +
          "\")\n"
          "modparam(\"rtpengine\", \"rtpengine_tout_ms\", 40)\n"
          "modparam(\"rtpengine\", \"rtpengine_retr\", 2)\n"
          "request_route {\n"
          "  if (!rtpengine_manage(\"replace-origin ICE=remove\")) { $var(r) = \"503\"; exit; }\n"
          "  $var(r) = \"ok\";\n"
          "}\n"
          "reply_route {\n"
          "  if (!rtprelay_manage()) { $var(r) = \"fail\"; exit; }\n"
          "  $var(r) = \"ok\";\n"
          "}\n",
      "m.cfg");
  ASSERT_TRUE(compiled.ok()) << compiled.format_diagnostics();
  TimerHost host;
  ASSERT_EQ(module::ModuleRegistry::instance().init_all(host), std::nullopt);
  ASSERT_EQ(host.timers.size(), 1u);

  Outcome offer = run(compiled, invite(kSdp));
  EXPECT_EQ(offer.result, "ok");
  std::string new_sdp = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio " +
                        relay.url().substr(relay.url().rfind(':') + 1) +
                        " RTP/AVP 0\r\na=offer\r\n";
  EXPECT_NE(offer.wire.find("Content-Length: " + std::to_string(new_sdp.size()) + "\r\n"),
            std::string::npos)
      << offer.wire;
  EXPECT_EQ(offer.wire.substr(offer.wire.size() - new_sdp.size()), new_sdp);
  ASSERT_EQ(relay.count("offer"), 1);
  auto req = relay.requests().back();
  EXPECT_EQ(req.get_string("call-id"), "mod-call");
  EXPECT_EQ(req.get_string("from-tag"), "ft");
  EXPECT_EQ(req.get_string("sdp"), kSdp);
  EXPECT_EQ(req.get_string("ICE"), "remove");
  EXPECT_TRUE(req.has_in_list("replace", "origin"));

  // The 200 with SDP is an answer (its INVITE had SDP).
  std::string ok200 =
      "SIP/2.0 200 OK\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-proxy\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
      "From: <sip:alice@example.org>;tag=ft\r\n"
      "To: <sip:bob@example.com>;tag=tt\r\n"
      "Call-ID: mod-call\r\n"
      "CSeq: 1 INVITE\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: " +
      std::to_string(kSdp.size()) + "\r\n\r\n" + kSdp;
  Outcome answer = run(compiled, ok200, true);
  EXPECT_EQ(answer.result, "ok");
  EXPECT_NE(answer.wire.find("a=answer"), std::string::npos);
  ASSERT_EQ(relay.count("answer"), 1);
  EXPECT_EQ(relay.requests().back().get_string("to-tag"), "tt");

  // An INVITE without SDP: nothing sent, false (as Kamailio).
  EXPECT_EQ(run(compiled, invite("")).result, "503");
  EXPECT_EQ(relay.count("offer"), 1);

  // The relay stops answering: marked down, the function fails -> the script's 503.
  relay.set_silent(true);
  EXPECT_EQ(run(compiled, invite(kSdp)).result, "503");
  EXPECT_EQ(run(compiled, invite(kSdp)).result, "503");  // at once now: all down
  int sent = relay.datagrams();
  // The timer's ping brings it back once it answers again.
  relay.set_silent(false);
  host.timers[0]();
  EXPECT_EQ(relay.count("ping"), 1);
  EXPECT_EQ(run(compiled, invite(kSdp)).result, "ok");
  EXPECT_EQ(relay.datagrams(), sent + 2);  // the ping and the offer
  module::ModuleRegistry::instance().shutdown();
}

}  // namespace
}  // namespace strowger::proxy
