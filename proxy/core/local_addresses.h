// LocalAddresses: the proxy's own listeners and aliases, to answer "is this URI myself?" and to
// pick the socket and Via/Record-Route address for an outgoing request.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/sip/uri.h"
#include "proxy/transport/address.h"

namespace strowger::proxy::core {

struct Listener {
  int index = 0;
  transport::Protocol proto = transport::Protocol::kUdp;
  transport::Address local;
  std::string host;       // what goes into Via / Record-Route (advertised or bound)
  std::uint16_t port = 0;
  bool wildcard = false;  // bound to 0.0.0.0 / ::
};

class LocalAddresses {
 public:
  explicit LocalAddresses(const config::ProxyConfig& config);
  const std::vector<Listener>& listeners() const { return listeners_; }
  const Listener& listener(int index) const { return listeners_.at(static_cast<std::size_t>(index)); }
  // RFC 3261 16.4 "myself": host is one of ours (or an alias) and the port is ours (or absent).
  bool is_myself(const sip::Uri& uri) const;
  bool is_myself(std::string_view host, std::uint16_t port, bool secure = false) const;
  // The listener to send from for a destination (protocol and address family), or nullopt.
  std::optional<int> pick(transport::Protocol proto, int family, int preferred) const;
  // "host:port" of a listener as written in Via and Record-Route.
  std::string sent_by(int index) const;

 private:
  std::vector<Listener> listeners_;
  std::vector<std::string> aliases_;
};

}  // namespace strowger::proxy::core
