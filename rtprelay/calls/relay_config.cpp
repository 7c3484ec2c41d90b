// Loads rtprelay.yaml into RelayConfig; every problem is a ConfigError naming file:line.
#include "rtprelay/calls/relay_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>

#include "common/yaml_config.h"
#include "common/yaml_reader.h"
#include "rtprelay/control/ng_server.h"
#include "rtprelay/media/endpoint.h"

namespace strowger::rtprelay::calls {
namespace {

using common::ConfigError;

// A range must hold at least this many RTP/RTCP pairs: one call (two legs) per stream.
constexpr int kMinPortPairs = 2;

class Reader : public common::YamlReader {
 public:
  using common::YamlReader::YamlReader;

  std::vector<std::string> addresses(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) fail(n, what + " must be a list of \"host:port\"");
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const YAML::Node& item : n) {
      std::string text = str(item, what + " address");
      socklen_t len = 0;
      if (!control::parse_host_port(text, &len))
        fail(item, what + " address '" + text + "' is not ip:port or [ipv6]:port");
      if (!seen.insert(text).second) fail(item, what + " address '" + text + "' is listed twice");
      out.push_back(text);
    }
    return out;
  }
};

void read_interfaces(const Reader& r, const YAML::Node& list, RelayConfig& cfg) {
  if (!list.IsSequence() || list.size() == 0)
    r.fail(list, "interfaces must be a non-empty list of {name, address, advertise}");
  std::set<std::string> addresses;
  std::set<std::pair<std::string, bool>> families;  // (name, is IPv6)
  for (const YAML::Node& item : list) {
    r.only_keys(item, {"name", "address", "advertise"}, "interfaces");
    InterfaceConfig i;
    i.line = item.Mark().line + 1;
    i.name = item["name"] ? r.str(item["name"], "interface name") : "default";
    if (i.name.empty() || i.name.find_first_of(" /!") != std::string::npos)
      r.fail(item["name"] ? item["name"] : item, "interface name '" + i.name + "' is not valid");
    if (!item["address"]) r.fail(item, "interface '" + i.name + "' needs 'address'");
    i.address = r.str(item["address"], "interface address");
    auto local = media::Endpoint::parse(i.address, 0);
    if (!local) r.fail(item["address"], "'" + i.address + "' is not an IPv4 or IPv6 address");
    if (!addresses.insert(local->ip_string()).second)
      r.fail(item["address"], "address " + i.address + " is used by two interfaces");
    if (!families.insert({i.name, local->is_v6()}).second)
      r.fail(item, "interface '" + i.name + "' already has an " +
                       (local->is_v6() ? "IPv6" : "IPv4") +
                       " address (a name may hold one of each family)");
    if (item["advertise"]) {
      i.advertise = r.str(item["advertise"], "advertise");
      auto adv = media::Endpoint::parse(i.advertise, 0);
      if (!adv) r.fail(item["advertise"], "'" + i.advertise + "' is not an IP address");
      if (adv->is_v6() != local->is_v6())
        r.fail(item["advertise"],
               "advertise " + i.advertise + " is not of the family of " + i.address);
    }
    cfg.interfaces.push_back(std::move(i));
  }
}

RelayConfig from_node(const YAML::Node& root, const std::string& file) {
  Reader r(file);
  RelayConfig cfg;
  cfg.file = file;
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(file, 1, "the file is empty");
  r.only_keys(root,
              {"interfaces", "port_range", "ng", "workers", "media", "timeouts", "log", "control"},
              "the top level");
  if (!root["interfaces"]) r.fail(root, "'interfaces' is required (at least one address)");
  read_interfaces(r, root["interfaces"], cfg);
  if (const YAML::Node pr = root["port_range"]) {
    r.only_keys(pr, {"min", "max"}, "port_range");
    if (pr["min"])
      cfg.port_min = static_cast<std::uint16_t>(r.integer(pr["min"], "min", 1024, 65535));
    if (pr["max"])
      cfg.port_max = static_cast<std::uint16_t>(r.integer(pr["max"], "max", 1024, 65535));
    if (cfg.port_min % 2 != 0)
      r.fail(pr["min"], "port_range min must be even (RTP on even ports, RTCP on the next)");
    if (cfg.port_min >= cfg.port_max)
      r.fail(pr["max"] ? pr["max"] : pr, "port_range min must be below max");
    if ((cfg.port_max - cfg.port_min + 1) / 2 < kMinPortPairs)
      r.fail(pr, "port_range holds fewer than " + std::to_string(kMinPortPairs) +
                     " RTP/RTCP port pairs (one call)");
  }
  if (!root["ng"]) r.fail(root, "'ng' is required (at least one ng control address)");
  {
    const YAML::Node ng = root["ng"];
    r.only_keys(ng, {"udp", "tcp"}, "ng");
    if (ng["udp"]) cfg.ng_udp = r.addresses(ng["udp"], "ng udp");
    if (ng["tcp"]) cfg.ng_tcp = r.addresses(ng["tcp"], "ng tcp");
    if (cfg.ng_udp.empty() && cfg.ng_tcp.empty())
      r.fail(ng, "ng needs at least one udp or tcp address");
  }
  if (root["workers"])
    cfg.workers = static_cast<int>(r.integer(root["workers"], "workers", 0, 255));
  if (const YAML::Node media = root["media"]) {
    r.only_keys(media, {"backend", "batch_wait_us"}, "media");
    if (media["backend"]) {
      auto b = media::parse_media_backend(r.str(media["backend"], "media backend"));
      if (!b) r.fail(media["backend"], "media backend must be auto, io_uring or epoll");
      cfg.media_backend = *b;
    }
    if (media["batch_wait_us"])
      cfg.media_batch_wait_us =
          static_cast<int>(r.integer(media["batch_wait_us"], "batch_wait_us", 0, 10'000));
  }
  if (const YAML::Node t = root["timeouts"]) {
    r.only_keys(t, {"media_s", "silent_s", "delete_delay_s", "cookie_cache_s"}, "timeouts");
    if (t["media_s"])
      cfg.media_timeout_s = static_cast<int>(r.integer(t["media_s"], "media_s", 0, 86400));
    if (t["silent_s"])
      cfg.silent_timeout_s = static_cast<int>(r.integer(t["silent_s"], "silent_s", 0, 86400));
    if (t["delete_delay_s"])
      cfg.delete_delay_s =
          static_cast<int>(r.integer(t["delete_delay_s"], "delete_delay_s", 0, 3600));
    if (t["cookie_cache_s"])
      cfg.cookie_cache_s =
          static_cast<int>(r.integer(t["cookie_cache_s"], "cookie_cache_s", 1, 3600));
  }
  if (const YAML::Node log = root["log"]) r.log_section(log, &cfg.log_level, &cfg.log_format);
  if (const YAML::Node control = root["control"]) {
    r.only_keys(control, {"socket"}, "control");
    if (control["socket"]) cfg.control_socket = r.str(control["socket"], "control socket");
  }
  return cfg;
}

RelayConfig guarded(const std::string& file, const std::function<YAML::Node()>& load) {
  YAML::Node root;
  try {
    root = load();
  } catch (const YAML::BadFile&) {
    throw ConfigError(file, 0, "cannot read the file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file, e.mark.line + 1, e.msg);
  }
  try {
    return from_node(root, file);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, e.mark.line + 1, e.msg);
  }
}

}  // namespace

RelayConfig load_config(const std::string& path) {
  return guarded(path, [&] { return YAML::LoadFile(path); });
}

RelayConfig parse_config(const std::string& text, const std::string& file) {
  return guarded(file, [&] { return YAML::Load(text); });
}

}  // namespace strowger::rtprelay::calls
