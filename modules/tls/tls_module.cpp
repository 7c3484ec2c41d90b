// The tls module: reads sipproxy.yaml's tls: section, provides the TLS service the core's TLS
// and WSS transports use, and the RPC commands tls.reload, tls.list and tls.info.
#include <memory>

#include "modules/tls/tls_config.h"
#include "modules/tls/tls_transport.h"
#include "sipproxy/module.h"

namespace strowger::modules::tls {
namespace {

// Set once by init_process (before workers run), read by the RPC handlers on the control thread.
struct ModuleState {
  std::shared_ptr<TlsTransport> transport;
  std::string config_file;
  std::string config_dir;
};
std::shared_ptr<ModuleState> g_state;

[[noreturn]] void not_configured() {
  throw common::ControlError(-32000, "tls is not configured (no tls: section in the config)");
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "tls";

  sipproxy::RpcSpec reload;
  reload.name = "tls.reload";
  reload.help =
      "re-read the tls: section and its files; new connections use them, existing ones stay";
  reload.handler = [](const common::Json&) {
    if (!g_state || !g_state->transport) not_configured();
    auto config = load_tls_config(g_state->config_file, g_state->config_dir);
    if (!config) throw common::ControlError(-32000, config.error().message);
    if (!config->has_value())
      throw common::ControlError(-32000, g_state->config_file + ": the tls: section is gone");
    if (auto err = g_state->transport->reload(**config)) throw common::ControlError(-32000, *err);
    LOG_NOTICE("tls: reloaded %s", g_state->config_file.c_str());
    return g_state->transport->info();
  };
  d.rpcs.push_back(std::move(reload));

  sipproxy::RpcSpec list;
  list.name = "tls.list";
  list.help = "established TLS connections: peer, version, cipher, SNI, peer certificate";
  list.handler = [](const common::Json&) {
    if (!g_state || !g_state->transport)
      return common::Json{{"connections", common::Json::array()}, {"count", 0}};
    return g_state->transport->list();
  };
  d.rpcs.push_back(std::move(list));

  sipproxy::RpcSpec info;
  info.name = "tls.info";
  info.help = "loaded certificates (subject, expiry), settings and handshake counters";
  info.handler = [](const common::Json&) {
    if (!g_state || !g_state->transport) not_configured();
    return g_state->transport->info();
  };
  d.rpcs.push_back(std::move(info));

  d.init_process = [](sipproxy::ModuleHost& host,
                      const sipproxy::Params&) -> std::optional<std::string> {
    auto state = std::make_shared<ModuleState>();
    state->config_file = host.config_file();
    state->config_dir = host.config_dir();
    if (state->config_file.empty()) {
      g_state = std::move(state);
      return std::nullopt;  // no config file (--check of a script): nothing to serve
    }
    auto config = load_tls_config(state->config_file, state->config_dir);
    if (!config) return config.error().message;
    if (config->has_value()) {
      auto transport = TlsTransport::create(**config);
      if (!transport) return transport.error().message;
      state->transport = std::move(*transport);
      host.provide(
          sipproxy::kTlsService,
          std::static_pointer_cast<void>(std::shared_ptr<sipproxy::TlsService>(state->transport)));
      const auto& certs = state->transport->contexts()->certificates();
      LOG_INFO("tls: certificate %s (%s), valid until %s", certs[0].file.c_str(),
               certs[0].subject.c_str(), certs[0].not_after.c_str());
    }
    g_state = std::move(state);
    return std::nullopt;
  };
  d.shutdown = [] { g_state.reset(); };
  return d;
}

}  // namespace
}  // namespace strowger::modules::tls

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::tls::make_descriptor();
  return &descriptor;
}
