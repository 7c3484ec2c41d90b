// Loads sipproxy.yaml into ProxyConfig; every problem is a ConfigError naming file:line.
#include "proxy/config/config.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <thread>

#include "common/yaml_config.h"
#include "common/yaml_reader.h"
#include "proxy/sip/uri.h"

namespace strowger::proxy::config {
namespace {

using common::ConfigError;

using Reader = common::YamlReader;

void read_listen(const Reader& r, const YAML::Node& list, ProxyConfig& cfg) {
  if (!list.IsSequence() || list.size() == 0) r.fail(list, "listen must be a non-empty list");
  std::set<std::string> seen;
  for (const YAML::Node& item : list) {
    r.only_keys(item, {"proto", "address", "port", "advertise"}, "listen");
    Listen l;
    l.line = item.Mark().line + 1;
    if (!item["proto"]) r.fail(item, "listen entry needs 'proto' (udp, tcp, tls, ws or wss)");
    const std::string proto = r.str(item["proto"], "proto");
    // tls and wss need the tls module, ws and wss the websocket module (checked at start).
    auto p = transport::protocol_from_name(proto);
    if (!p) r.fail(item["proto"], "unsupported proto '" + proto + "' (udp, tcp, tls, ws or wss)");
    l.proto = *p;
    if (!item["address"]) r.fail(item, "listen entry needs 'address'");
    l.address = r.str(item["address"], "address");
    if (item["port"])
      l.port = static_cast<std::uint16_t>(r.integer(item["port"], "port", 1, 65535));
    if (!transport::Address::from_ip_port(l.address, l.port))
      r.fail(item["address"], "address '" + l.address + "' is not an IPv4 or IPv6 address");
    if (item["advertise"]) l.advertise = r.str(item["advertise"], "advertise");
    const std::string key = proto + "/" + l.address + "/" + std::to_string(l.port);
    if (!seen.insert(key).second)
      r.fail(item, "duplicate listen " + proto + " " + l.address + ":" + std::to_string(l.port));
    cfg.listen.push_back(l);
  }
}

ProxyConfig from_node(const YAML::Node& root, const std::string& file) {
  Reader r(file);
  ProxyConfig cfg;
  cfg.file = file;
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(file, 1, "the file is empty");
  r.only_keys(root,
              {"listen", "aliases", "workers", "log", "control", "sip", "tcp", "dns", "routes",
               "script", "tls"},  // "routes" only to explain that it moved; tls: the tls module
              "the top level");
  if (!root["listen"]) r.fail(root, "'listen' is required");
  read_listen(r, root["listen"], cfg);
  if (const YAML::Node a = root["aliases"]) {
    if (!a.IsSequence()) r.fail(a, "aliases must be a list of host names");
    for (const YAML::Node& n : a) cfg.aliases.push_back(r.str(n, "alias"));
  }
  if (root["workers"])
    cfg.workers = static_cast<int>(r.integer(root["workers"], "workers", 0, 256));
  if (const YAML::Node log = root["log"]) r.log_section(log, &cfg.log_level, &cfg.log_format);
  if (const YAML::Node control = root["control"]) {
    r.only_keys(control, {"socket"}, "control");
    if (control["socket"]) cfg.control_socket = r.str(control["socket"], "control socket");
  }
  if (const YAML::Node sip = root["sip"]) {
    r.only_keys(sip, {"t1_ms", "t2_ms", "t4_ms", "timer_c_ms", "max_message_size", "record_route"},
                "sip");
    if (sip["t1_ms"])
      cfg.timers.t1_ms = static_cast<int>(r.integer(sip["t1_ms"], "t1_ms", 10, 60000));
    if (sip["t2_ms"])
      cfg.timers.t2_ms = static_cast<int>(r.integer(sip["t2_ms"], "t2_ms", 10, 600000));
    if (sip["t4_ms"])
      cfg.timers.t4_ms = static_cast<int>(r.integer(sip["t4_ms"], "t4_ms", 10, 600000));
    if (sip["timer_c_ms"])
      cfg.timers.timer_c_ms =
          static_cast<int>(r.integer(sip["timer_c_ms"], "timer_c_ms", 1000, 3600000));
    if (cfg.timers.t2_ms < cfg.timers.t1_ms)
      r.fail(sip["t2_ms"] ? sip["t2_ms"] : sip, "t2_ms must not be smaller than t1_ms");
    if (sip["max_message_size"])
      cfg.max_message_size = static_cast<std::size_t>(
          r.integer(sip["max_message_size"], "max_message_size", 1024, 1 << 20));
    if (sip["record_route"]) cfg.record_route = r.boolean(sip["record_route"], "record_route");
  }
  if (const YAML::Node tcp = root["tcp"]) {
    r.only_keys(
        tcp,
        {"idle_timeout_s", "max_connections", "max_connections_per_source", "connect_timeout_ms"},
        "tcp");
    if (tcp["idle_timeout_s"])
      cfg.tcp.idle_timeout_s =
          static_cast<int>(r.integer(tcp["idle_timeout_s"], "idle_timeout_s", 1, 86400));
    if (tcp["max_connections"])
      cfg.tcp.max_connections =
          static_cast<int>(r.integer(tcp["max_connections"], "max_connections", 1, 1000000));
    if (tcp["max_connections_per_source"])
      cfg.tcp.max_connections_per_source = static_cast<int>(
          r.integer(tcp["max_connections_per_source"], "max_connections_per_source", 1, 1000000));
    if (tcp["connect_timeout_ms"])
      cfg.tcp.connect_timeout_ms =
          static_cast<int>(r.integer(tcp["connect_timeout_ms"], "connect_timeout_ms", 100, 120000));
  }
  if (const YAML::Node dns = root["dns"]) {
    r.only_keys(dns, {"cache_max_ttl_s"}, "dns");
    if (dns["cache_max_ttl_s"])
      cfg.dns_cache_ttl_s =
          static_cast<int>(r.integer(dns["cache_max_ttl_s"], "cache_max_ttl_s", 0, 86400));
  }
  if (root["routes"])
    r.fail(root["routes"], "'routes' is gone: routing belongs to the routing script ('script:')");
  if (const YAML::Node script = root["script"]) {
    r.only_keys(script, {"file", "defines"}, "script");
    if (!script["file"])
      r.fail(script, "script needs 'file' (the routing script, e.g. default.cfg)");
    cfg.script.file = r.str(script["file"], "script file");
    cfg.script.line = script["file"].Mark().line + 1;
    // A relative path is relative to the YAML file, so the config can move with its script.
    if (!cfg.script.file.empty() && cfg.script.file.front() != '/') {
      const std::size_t slash = file.rfind('/');
      if (slash != std::string::npos) cfg.script.file = file.substr(0, slash + 1) + cfg.script.file;
    }
    if (const YAML::Node d = script["defines"]) {
      if (!d.IsSequence()) r.fail(d, "script defines must be a list (NAME or NAME=value)");
      for (const YAML::Node& n : d) {
        const std::string text = r.str(n, "define");
        const std::size_t eq = text.find('=');
        const std::string name = text.substr(0, eq);
        if (name.empty()) r.fail(n, "a define needs a name");
        cfg.script.defines.emplace_back(name, eq == std::string::npos ? "" : text.substr(eq + 1));
      }
    }
  }
  return cfg;
}

}  // namespace

ProxyConfig load_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path, 0, "cannot read the file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path, e.mark.line + 1, e.msg);
  }
  try {
    return from_node(root, path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path, e.mark.line + 1, e.msg);
  }
}

ProxyConfig default_config() {
  static const char* kDefault = R"(
listen:
  - {proto: udp, address: 127.0.0.1, port: 5060}
  - {proto: tcp, address: 127.0.0.1, port: 5060}
control:
  socket: /run/strowger/sipproxy.sock
)";
  return from_node(YAML::Load(kDefault), "<built-in default>");
}

}  // namespace strowger::proxy::config
