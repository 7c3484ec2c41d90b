// nathelper.so loaded by a script with the real usrloc.so and registrar.so (dlopen): a NATed
// REGISTER saved with fix_nated_register's received URI, an INVITE looked up to that address,
// an alias round trip, then the module's keepalive timer pinging the binding through the host
// and the reply coming back by Via branch prefix.
#include <gtest/gtest.h>

#include <map>

#include "common/log.h"
#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"
#include "sipproxy/usrloc.h"

namespace strowger::proxy {
namespace {

struct Sent {
  sipproxy::Peer to;
  std::uint64_t connection = 0;
  std::string bytes;
};

class RecordingHost final : public sipproxy::ModuleHost {
 public:
  int worker_count() const override { return 1; }
  const std::string& config_dir() const override { return dir_; }
  const std::string& config_file() const override { return file_; }
  void add_timer(std::int64_t ms, std::function<void()> fn) override {
    timers.push_back({ms, std::move(fn)});
  }
  void provide(std::string name, std::shared_ptr<void> s) override { services_[name] = s; }
  std::shared_ptr<void> find(std::string_view name) const override {
    auto it = services_.find(std::string(name));
    return it == services_.end() ? nullptr : it->second;
  }
  void post_to_worker(int, std::function<void()>) override {}
  bool send(const sipproxy::Peer& to, std::uint64_t conn, std::string bytes) override {
    sent.push_back({to, conn, std::move(bytes)});
    return true;
  }
  std::optional<sipproxy::Peer> listen_address(std::string_view proto) const override {
    return sipproxy::Peer{std::string(proto), "127.0.0.1", 5060};
  }
  void on_reply(std::string prefix,
                std::function<void(sipproxy::Message&, const sipproxy::Peer&)> fn) override {
    reply_handlers.push_back({std::move(prefix), std::move(fn)});
  }

  std::vector<std::pair<std::int64_t, std::function<void()>>> timers;
  std::vector<Sent> sent;
  std::vector<
      std::pair<std::string, std::function<void(sipproxy::Message&, const sipproxy::Peer&)>>>
      reply_handlers;

 private:
  std::string dir_ = ".";
  std::string file_;
  std::map<std::string, std::shared_ptr<void>> services_;
};

struct Result {
  std::string nat, du, ru, contact;
};

Result run(const script::engine::Program& program, const std::string& text, sipproxy::Peer src) {
  auto msg = sip::Message::parse(text);
  EXPECT_TRUE(msg.ok()) << text;
  script::engine::DryRunHost dry(std::move(msg.value()), {src.proto, src.ip, src.port},
                                 {"udp", "127.0.0.1", 5060}, {});
  script::engine::ExecutionContext ctx(program, dry);
  script::engine::run_route(ctx, program.request_route);
  Result r{ctx.vars["nat"].to_str(), ctx.vars["du"].to_str(), ctx.vars["ru"].to_str(), {}};
  if (auto c = dry.message().contact_uri()) r.contact = c->to_string();
  return r;
}

std::string msg(std::string_view method, std::string_view ruri, std::string_view extra) {
  return std::string(method) + " " + std::string(ruri) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bK-" + std::string(method) +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=1\r\n"
         "To: <sip:bob@example.com>\r\nCall-ID: " +
         std::string(method) + "-1\r\nCSeq: 1 " + std::string(method) + "\r\n" +
         std::string(extra) + "Content-Length: 0\r\n\r\n";
}

TEST(NathelperScript, RegisterLookupAliasAndKeepalive) {
  LOG_DEBUG("nathelper script test: loading usrloc.so, registrar.so, nathelper.so");
  module::ModuleRegistry::instance().set_default_paths({STROWGER_MODULE_DIR});
  auto compiled = script::engine::compile_text(
      "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\nloadmodule \"nathelper.so\"\n"
      "modparam(\"nathelper\", \"natping_interval\", 15)\n"
      "modparam(\"nathelper\", \"ping_nated_only\", 1)\n"
      "modparam(\"nathelper\", \"sipping_from\", \"sip:pinger@example.com\")\n"
      "modparam(\"nathelper\", \"keepalive_timeout\", 60)\n"
      "modparam(\"nathelper\", \"received_avp\", \"$avp(RECEIVED)\")\n"
      "request_route {\n"
      "  force_rport();\n"
      "  if (nat_uac_test(\"19\")) {\n"
      "    $var(nat) = \"yes\";\n"
      "    if (is_method(\"REGISTER\")) { fix_nated_register(); } else { add_contact_alias(); }\n"
      "  }\n"
      "  if (is_method(\"REGISTER\")) { save(\"location\"); exit; }\n"
      "  if (is_method(\"BYE\")) { handle_ruri_alias(); $var(du) = $du; $var(ru) = $ru; exit; }\n"
      "  if (lookup(\"location\")) { $var(du) = $du; $var(ru) = $ru; }\n"
      "}\n",
      "nat.cfg");
  ASSERT_TRUE(compiled.ok()) << compiled.format_diagnostics();
  RecordingHost host;
  ASSERT_EQ(module::ModuleRegistry::instance().init_all(host), std::nullopt);
  ASSERT_EQ(host.timers.size(), 2u);  // usrloc's expiry timer and nathelper's pings
  ASSERT_EQ(host.reply_handlers.size(), 1u);
  auto loc = std::static_pointer_cast<sipproxy::usrloc::Location>(
      host.find(sipproxy::usrloc::kUsrlocService));
  ASSERT_NE(loc, nullptr);

  const sipproxy::Peer nat_src{"udp", "127.0.0.1", 40000};
  Result reg = run(*compiled.program,
                   msg("REGISTER", "sip:example.com",
                       "Contact: <sip:bob@192.168.1.10:5062>\r\nExpires: 600\r\n"),
                   nat_src);
  EXPECT_EQ(reg.nat, "yes");
  auto bindings = loc->get("bob");
  ASSERT_EQ(bindings.size(), 1u);
  EXPECT_EQ(bindings[0].received, "sip:127.0.0.1:40000");
  EXPECT_TRUE(bindings[0].flags & sipproxy::usrloc::kFlagNat);

  Result inv = run(*compiled.program,
                   msg("INVITE", "sip:bob@example.com", "Contact: <sip:carol@10.0.0.7:5080>\r\n"),
                   {"udp", "127.0.0.1", 40002});
  EXPECT_EQ(inv.du, "sip:127.0.0.1:40000");
  EXPECT_EQ(inv.ru, "sip:bob@192.168.1.10:5062");
  EXPECT_EQ(inv.contact, "sip:carol@10.0.0.7:5080;alias=127.0.0.1~40002~1");

  Result bye = run(*compiled.program, msg("BYE", inv.contact, ""), {"udp", "127.0.0.1", 40000});
  EXPECT_EQ(bye.du, "sip:127.0.0.1:40002");
  EXPECT_EQ(bye.ru, "sip:carol@10.0.0.7:5080");

  // The keepalive timer: one OPTIONS to the REGISTER's source, never to the private Contact.
  host.timers[1].second();
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0].to.ip, "127.0.0.1");
  EXPECT_EQ(host.sent[0].to.port, 40000);
  auto ping = sip::Message::parse(host.sent[0].bytes);
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping.value().method(), sip::Method::kOptions);
  auto via = ping.value().via(0);
  ASSERT_TRUE(via);
  EXPECT_TRUE(via->branch.starts_with(host.reply_handlers[0].first));
  auto reply = sip::Message::parse(ping.value().make_response(200, "OK", "ua"));
  ASSERT_TRUE(reply.ok());
  host.reply_handlers[0].second(reply.value(), nat_src);

  const module::LoadedModule* m = module::ModuleRegistry::instance().find("nathelper");
  ASSERT_NE(m, nullptr);
  common::Json stats;
  for (const auto& rpc : m->descriptor->rpcs)
    if (rpc.name == "nathelper.stats") stats = rpc.handler(common::Json::object());
  EXPECT_EQ(stats["sip_pings"], 1);
  EXPECT_EQ(stats["replies"], 1);
  for (const auto& rpc : m->descriptor->rpcs)
    if (rpc.name == "nathelper.enable_ping") {
      EXPECT_EQ(rpc.handler(common::Json{{"value", "0"}})["enabled"], false);
      EXPECT_THROW(rpc.handler(common::Json{{"value", "x"}}), common::ControlError);
    }
  host.timers[1].second();  // disabled: nothing more is sent
  EXPECT_EQ(host.sent.size(), 1u);
}

TEST(NathelperScript, BadParametersAreLoadErrors) {
  auto diag = [](const std::string& line) {
    return script::engine::compile_text(
               "loadmodule \"nathelper.so\"\n" + line + "\nrequest_route { exit; }\n", "bad.cfg")
        .format_diagnostics();
  };
  EXPECT_NE(diag("modparam(\"nathelper\", \"received_avp\", \"$var(x)\")"), "");
  EXPECT_NE(diag("modparam(\"nathelper\", \"sipping_from\", \"not a uri\")"), "");
  EXPECT_NE(diag("modparam(\"nathelper\", \"natping_interval\", -1)"), "");
  EXPECT_NE(script::engine::compile_text("loadmodule \"nathelper.so\"\n"
                                         "request_route { add_contact_alias(\"1.2.3.4\"); }\n",
                                         "bad.cfg")
                .format_diagnostics(),
            "");
}

}  // namespace
}  // namespace strowger::proxy
