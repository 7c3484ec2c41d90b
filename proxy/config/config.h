// ProxyConfig: the deployment facts read from sipproxy.yaml (listen sockets, workers, timers, limits).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/log.h"
#include "proxy/transport/address.h"

namespace strowger::proxy::config {

struct Listen {
  transport::Protocol proto = transport::Protocol::kUdp;
  std::string address;        // IP literal to bind
  std::uint16_t port = 5060;
  std::string advertise;      // host[:port] put in Via/Record-Route instead of address:port
  int line = 0;               // where it was configured, for messages
};

struct SipTimers {
  int t1_ms = 500;
  int t2_ms = 4000;
  int t4_ms = 5000;
  int timer_c_ms = 180000;   // proxy INVITE transaction (RFC 3261 16.6 step 11)
};

struct TcpLimits {
  int idle_timeout_s = 300;
  int max_connections = 4096;
  int max_connections_per_source = 64;
  int connect_timeout_ms = 5000;
};

// The routing script (Kamailio cfg language); without one the proxy routes by Request-URI
// (OPTIONS to itself: 200, other requests to itself: 404).
struct ScriptSettings {
  std::string file;  // empty: no script
  std::vector<std::pair<std::string, std::string>> defines;  // -D NAME[=VALUE]
  int line = 0;
};

struct ProxyConfig {
  std::string file;  // path it was read from
  std::vector<Listen> listen;
  std::vector<std::string> aliases;  // extra host names that are "myself"
  int workers = 0;                    // 0: one per core
  common::LogLevel log_level = common::LogLevel::kInfo;
  common::LogFormat log_format = common::LogFormat::kText;
  std::string control_socket;
  SipTimers timers;
  TcpLimits tcp;
  std::size_t max_message_size = 65535;
  bool record_route = true;
  int dns_cache_ttl_s = 300;  // upper bound for cached answers
  ScriptSettings script;
};

// Reads and validates the file; throws common::ConfigError("file:line: message") on any problem.
ProxyConfig load_config(const std::string& path);
// The built-in default (same as deploy/sipproxy.yaml) when no -c is given.
ProxyConfig default_config();

}  // namespace strowger::proxy::config
