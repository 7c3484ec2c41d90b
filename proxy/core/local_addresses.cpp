// LocalAddresses implementation.
#include "proxy/core/local_addresses.h"

#include <algorithm>
#include <cctype>

namespace strowger::proxy::core {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return lower(host);
}

}  // namespace

LocalAddresses::LocalAddresses(const config::ProxyConfig& config) {
  int index = 0;
  for (const config::Listen& l : config.listen) {
    Listener out;
    out.index = index++;
    out.proto = l.proto;
    if (auto a = transport::Address::from_ip_port(l.address, l.port)) out.local = *a;
    out.wildcard = l.address == "0.0.0.0" || l.address == "::" || l.address == "[::]";
    out.port = l.port;
    if (!l.advertise.empty()) {
      std::string adv = l.advertise;
      std::size_t colon = adv.rfind(':');
      std::size_t bracket = adv.rfind(']');
      if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        out.port = static_cast<std::uint16_t>(std::stoi(adv.substr(colon + 1)));
        adv = adv.substr(0, colon);
      }
      out.host = adv;
    } else {
      out.host = out.local.host_for_uri();
    }
    listeners_.push_back(out);
  }
  for (const std::string& a : config.aliases) aliases_.push_back(lower(a));
}

bool LocalAddresses::is_myself(std::string_view host, std::uint16_t port, bool secure) const {
  const std::string h = strip_brackets(host);
  for (const std::string& a : aliases_) {
    if (a == h) return true;
  }
  for (const Listener& l : listeners_) {
    const std::uint16_t want = port ? port
                                    : ((secure || l.proto == transport::Protocol::kTls) ? 5061 : 5060);
    if (want != l.port && want != l.local.port()) continue;
    if (strip_brackets(l.host) == h || strip_brackets(l.local.ip()) == h) return true;
    if (l.wildcard && (h == "127.0.0.1" || h == "::1" || h == "localhost")) return true;
  }
  return false;
}

bool LocalAddresses::is_myself(const sip::Uri& uri) const {
  return is_myself(uri.host, uri.port, uri.scheme == "sips");
}

std::optional<int> LocalAddresses::pick(transport::Protocol proto, int family, int preferred) const {
  if (preferred >= 0 && preferred < static_cast<int>(listeners_.size())) {
    const Listener& l = listeners_[static_cast<std::size_t>(preferred)];
    if (l.proto == proto && l.local.family() == family) return preferred;
  }
  for (const Listener& l : listeners_) {
    if (l.proto == proto && l.local.family() == family) return l.index;
  }
  return std::nullopt;
}

std::string LocalAddresses::sent_by(int index) const {
  const Listener& l = listener(index);
  return l.host + ":" + std::to_string(l.port);
}

}  // namespace strowger::proxy::core
