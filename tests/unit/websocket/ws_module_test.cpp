// websocket.so loaded through a script (dlopen): modparams reach the service it provides to the
// core, a session from that service works, and ws.stats sums its counters.
#include <gtest/gtest.h>

#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"
#include "sipproxy/transport.h"
#include "ws_test_util.h"

namespace strowger::proxy {
namespace {

namespace ws = modules::websocket;

class TestHost final : public sipproxy::ModuleHost {
 public:
  int worker_count() const override { return 2; }
  const std::string& config_dir() const override { return dir_; }
  void add_timer(std::int64_t, std::function<void()>) override {}
  void provide(std::string name, std::shared_ptr<void> service) override {
    provided[name] = std::move(service);
  }
  std::shared_ptr<void> find(std::string_view name) const override {
    auto it = provided.find(std::string(name));
    return it == provided.end() ? nullptr : it->second;
  }
  void post_to_worker(int, std::function<void()>) override {}
  const std::string& config_file() const override { return dir_; }
  bool send(const sipproxy::Peer&, std::uint64_t, std::string) override { return false; }
  std::optional<sipproxy::Peer> listen_address(std::string_view) const override {
    return std::nullopt;
  }
  void on_reply(std::string,
                std::function<void(sipproxy::Message&, const sipproxy::Peer&)>) override {}

  std::map<std::string, std::shared_ptr<void>> provided;

 private:
  std::string dir_ = ".";
};

TEST(WsModule, ProvidesTheServiceWithItsParameters) {
  module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  auto compiled = script::engine::compile_text(
      "loadmodule \"websocket.so\"\n"
      "modparam(\"websocket\", \"origin\", \"https://a.example.com\")\n"
      "modparam(\"websocket\", \"origin\", \"https://b.example.com, https://c.example.com\")\n"
      "modparam(\"websocket\", \"path\", \"/ws\")\n"
      "modparam(\"websocket\", \"max_message_size\", 4096)\n"
      "modparam(\"websocket\", \"keepalive_mechanism\", 0)\n"
      "request_route { exit; }\n",
      "w.cfg");
  ASSERT_TRUE(compiled.ok()) << compiled.format_diagnostics();
  TestHost host;
  ASSERT_EQ(module::ModuleRegistry::instance().init_all(host), std::nullopt);
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
  module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  auto errors = [](const std::string& line) {
    return script::engine::compile_text(
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
