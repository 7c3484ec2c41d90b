// websocket.so loaded through a script (dlopen): modparams reach the service it provides to the
// core, a session from that service works, and ws.stats sums its counters.
#include <gtest/gtest.h>

#include "sipproxy/transport.h"
#include "tests/unit/support/script_runner.h"
#include "tests/unit/support/test_module_host.h"
#include "ws_test_util.h"

namespace strowger::proxy {
namespace {

namespace ws = modules::websocket;

class TestHost final : public test_support::TestModuleHost {
 public:
  TestHost() { workers = 2; }
};

TEST(WsModule, ProvidesTheServiceWithItsParameters) {
  TestHost host;
  auto program = test_support::load_script(
      "loadmodule \"websocket.so\"\n"
      "modparam(\"websocket\", \"origin\", \"https://a.example.com\")\n"
      "modparam(\"websocket\", \"origin\", \"https://b.example.com, https://c.example.com\")\n"
      "modparam(\"websocket\", \"path\", \"/ws\")\n"
      "modparam(\"websocket\", \"max_message_size\", 4096)\n"
      "modparam(\"websocket\", \"keepalive_mechanism\", 0)\n"
      "request_route { exit; }\n",
      "w.cfg", host);
  ASSERT_NE(program, nullptr);
  auto service =
      std::static_pointer_cast<sipproxy::WebSocketService>(host.find(sipproxy::kWebSocketService));
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->tick_ms(), 1000);

  auto handshake = [&](const std::string& origin, const std::string& path) {
    sipproxy::ConnectionInfo conn;
    conn.id = 5;
    auto session = service->accept(conn, 0);
    ws::test::EvBuf in, out;
    ws::test::Sink sink;
    std::string req = ws::test::kUpgrade;
    req.replace(req.find("https://www.example.com"), 23, origin);
    req.replace(4, 3, path);
    in.add(req);
    session->on_input(in, out, sink);
    std::string answer = out.take();
    return answer.substr(0, answer.find("\r\n"));
  };
  EXPECT_EQ(handshake("https://c.example.com", "/ws"), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(handshake("https://a.example.com", "/ws"), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(handshake("https://d.example.com", "/ws"), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(handshake("https://a.example.com", "/x"), "HTTP/1.1 404 Not Found");

  // max_message_size reached the sessions.
  sipproxy::ConnectionInfo conn;
  auto session = service->accept(conn, 0);
  ws::test::EvBuf in, out;
  ws::test::Sink sink;
  std::string req = ws::test::kUpgrade;
  req.replace(req.find("https://www.example.com"), 23, "https://b.example.com");
  in.add(req);
  ASSERT_TRUE(session->on_input(in, out, sink));
  in.add(ws::test::client_frame(0x1, std::string(4097, 'x')));
  EXPECT_FALSE(session->on_input(in, out, sink));

  const module::LoadedModule* m = module::ModuleRegistry::instance().find("websocket");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->descriptor->rpcs.size(), 1u);
  EXPECT_EQ(m->descriptor->rpcs[0].name, "ws.stats");
  common::Json stats = m->descriptor->rpcs[0].handler(common::Json::object());
  EXPECT_EQ(stats["handshakes"]["ok"], 3);
  EXPECT_EQ(stats["handshakes"]["failed"], 2);
  EXPECT_EQ(stats["handshakes"]["failed_by_reason"]["origin"], 1);
  EXPECT_EQ(stats["handshakes"]["failed_by_reason"]["path"], 1);
  EXPECT_EQ(stats["closes"]["message_too_big"], 1);
  EXPECT_EQ(stats["sessions"]["opened"], 5);
  EXPECT_EQ(stats["sessions"]["current"], 1);
}

TEST(WsModule, BadParametersAreLoadErrors) {
  auto errors = [](const std::string& line) {
    return test_support::compile_with_modules(
               "loadmodule \"websocket.so\"\n" + line + "\nrequest_route { exit; }\n", "w.cfg")
        .format_diagnostics();
  };
  EXPECT_NE(errors("modparam(\"websocket\", \"keepalive_mechanism\", 3)").find("between 0 and 2"),
            std::string::npos);
  EXPECT_NE(errors("modparam(\"websocket\", \"path\", \"ws\")").find("starts with '/'"),
            std::string::npos);
}

}  // namespace
}  // namespace strowger::proxy
