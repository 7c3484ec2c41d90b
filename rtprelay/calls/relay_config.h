// RelayConfig: what deploy/rtprelay.yaml says (interfaces, port range, ng addresses, timeouts,
// log, control socket), loaded strictly: every problem is a ConfigError naming file:line.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/log.h"
#include "rtprelay/media/media_types.h"

namespace strowger::rtprelay::calls {

// One address of a logical interface (rtpengine's --interface=NAME/ADDR!ADVERTISE). A name
// given twice holds one IPv4 and one IPv6 address.
struct InterfaceConfig {
  std::string name;
  std::string address;    // IP literal the media ports are bound on
  std::string advertise;  // written into SDP; empty = address
  int line = 0;
};

struct RelayConfig {
  std::string file;  // "" for the built-in defaults
  std::vector<InterfaceConfig> interfaces;
  std::uint16_t port_min = 30000;
  std::uint16_t port_max = 40000;
  std::vector<std::string> ng_udp;  // "127.0.0.1:2223", "[::1]:2223"
  std::vector<std::string> ng_tcp;
  int workers = 0;                                                 // 0 = one per core
  media::MediaBackend media_backend = media::MediaBackend::kAuto;  // media: {backend: ...}
  int media_batch_wait_us = 0;                                     // media: {batch_wait_us: ...}
  int media_timeout_s = 60;
  int silent_timeout_s = 3600;
  int delete_delay_s = 30;
  int cookie_cache_s = 30;
  common::LogLevel log_level = common::LogLevel::kInfo;
  common::LogFormat log_format = common::LogFormat::kText;
  std::string control_socket = "/run/strowger/rtprelay.sock";
};

// Throws common::ConfigError ("file:line: message") for anything wrong or unknown.
RelayConfig load_config(const std::string& path);
// The same checks on YAML text (tests); `file` names it in errors.
RelayConfig parse_config(const std::string& text, const std::string& file);

}  // namespace strowger::rtprelay::calls
