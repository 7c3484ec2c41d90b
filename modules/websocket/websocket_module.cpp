// The websocket module: WebSocket (RFC 6455) sessions carrying SIP (RFC 7118) for the core's
// WS/WSS listeners, its parameters and the ws.stats RPC command.
#include <memory>

#include "modules/websocket/ws_session.h"
#include "sipproxy/module.h"

namespace strowger::modules::websocket {
namespace {

std::shared_ptr<Service> g_service;  // set once by init_process; the RPC reads its counters

// Every setting of a list parameter, each possibly "a, b, c".
std::vector<std::string> list_param(const sipproxy::Params& params, std::string_view name) {
  std::vector<std::string> out;
  for (const sipproxy::ParamValue& v : params.values(name)) {
    std::string_view s = v.s;
    while (!s.empty()) {
      const std::size_t comma = s.find(',');
      std::string_view item = s.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
  }
  return out;
}

std::optional<std::string> check_paths(const sipproxy::ParamValue& v) {
  std::string_view s = v.s;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (!item.empty() && item.front() != '/') return "a path starts with '/'";
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

common::Json stats_json(const StatsSnapshot& s) {
  common::Json closes = common::Json::object();
  for (Counter c : {Counter::kClosePeer, Counter::kCloseProtocolError, Counter::kCloseTooBig,
                    Counter::kCloseKeepaliveTimeout, Counter::kCloseConnectionGone})
    closes[counter_name(c)] = s.get(c);
  common::Json failures = common::Json::object();
  for (std::size_t r = 1; r < kRejectCount; ++r)
    failures[reject_name(static_cast<Reject>(r))] = s.rejects[r];
  const std::uint64_t opened = s.get(Counter::kSessionsOpened);
  const std::uint64_t closed = s.get(Counter::kSessionsClosed);
  common::Json out = {
      {"sessions", {{"opened", opened}, {"current", opened >= closed ? opened - closed : 0}}},
      {"handshakes",
       {{"ok", s.get(Counter::kHandshakeOk)},
        {"failed", s.get(Counter::kHandshakeFailed)},
        {"failed_by_reason", failures}}},
      {"frames", {{"in", s.get(Counter::kFramesIn)}, {"out", s.get(Counter::kFramesOut)}}},
      {"messages", {{"in", s.get(Counter::kMessagesIn)}, {"out", s.get(Counter::kMessagesOut)}}},
      {"pings", {{"in", s.get(Counter::kPingsIn)}, {"out", s.get(Counter::kPingsOut)}}},
      {"pongs", {{"in", s.get(Counter::kPongsIn)}, {"out", s.get(Counter::kPongsOut)}}},
      {"closes", closes},
      {"logs_suppressed", s.get(Counter::kLogsSuppressed)},
  };
  return out;
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "websocket";
  d.params = {
      sipproxy::int_param("max_message_size", 65535, 256, 16 * 1024 * 1024,
                          "largest WebSocket message in bytes; larger closes with 1009"),
      sipproxy::int_param("max_header_size", 8192, 1024, 65536,
                          "largest handshake request head in bytes; larger gets 431"),
      sipproxy::int_param("handshake_timeout", 10, 1, 3600,
                          "seconds a connection has to complete its handshake (else 408)"),
      sipproxy::int_param("keepalive_mechanism", 1, 0, 2,
                          "0 none, 1 ping (and close without answer), 2 unsolicited pong"),
      sipproxy::int_param("keepalive_interval", 30, 1, 86400,
                          "seconds without input before a keepalive frame"),
      sipproxy::int_param("keepalive_timeout", 10, 1, 3600,
                          "seconds after a ping within which any frame must arrive"),
      sipproxy::int_param("log_rate_limit", 10, 0, 100000,
                          "rejected-handshake log lines per second and worker"),
      sipproxy::string_param("origin", "",
                             "allowed Origin (may be set several times); none set: any origin"),
      sipproxy::string_param("path", "",
                             "allowed request path (may be set several times); none set: any",
                             check_paths),
  };
  sipproxy::RpcSpec stats;
  stats.name = "ws.stats";
  stats.help = "WebSocket counters: sessions, handshakes (failures by reason), frames, closes";
  stats.handler = [](const common::Json&) {
    if (!g_service) return stats_json(StatsSnapshot{});
    return stats_json(g_service->stats());
  };
  d.rpcs.push_back(std::move(stats));
  d.init_process = [](sipproxy::ModuleHost& host,
                      const sipproxy::Params& params) -> std::optional<std::string> {
    WsConfig c;
    c.max_message_size = static_cast<std::size_t>(params.get_int("max_message_size"));
    c.max_header_size = static_cast<std::size_t>(params.get_int("max_header_size"));
    c.handshake_timeout_ms = params.get_int("handshake_timeout") * 1000;
    c.keepalive = static_cast<Keepalive>(params.get_int("keepalive_mechanism"));
    c.keepalive_interval_ms = params.get_int("keepalive_interval") * 1000;
    c.keepalive_timeout_ms = params.get_int("keepalive_timeout") * 1000;
    c.log_lines_per_second = static_cast<int>(params.get_int("log_rate_limit"));
    c.policy.origins = list_param(params, "origin");
    c.policy.paths = list_param(params, "path");
    const int workers = host.worker_count();
    g_service = std::make_shared<Service>(std::move(c), workers > 0 ? workers : 1);
    host.provide(sipproxy::kWebSocketService,
                 std::shared_ptr<sipproxy::WebSocketService>(g_service));
    return std::nullopt;
  };
  d.shutdown = [] { g_service.reset(); };
  return d;
}

}  // namespace
}  // namespace strowger::modules::websocket

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::websocket::make_descriptor();
  return &descriptor;
}
