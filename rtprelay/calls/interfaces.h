// InterfaceSet: the relay's logical interfaces (rtpengine's --interface), each name holding an
// IPv4 and/or an IPv6 local address with its advertised address and its own port pool.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "rtprelay/calls/relay_config.h"
#include "rtprelay/media/endpoint.h"
#include "rtprelay/media/port_pool.h"

namespace strowger::rtprelay::calls {

struct LocalInterface {
  std::string name;
  media::Endpoint local;  // port 0
  std::string advertise;  // IP literal written into SDP
  std::unique_ptr<media::PortPool> pool;
  bool v6() const { return local.is_v6(); }
};

class InterfaceSet {
 public:
  // Binds nothing yet; a pool only checks its range. Error names the address that failed.
  static common::Result<std::unique_ptr<InterfaceSet>> create(
      const std::vector<InterfaceConfig>& interfaces, std::uint16_t port_min,
      std::uint16_t port_max);

  // The address of interface `name` ("" = the first configured name) in the wanted family, or
  // in the other one when the name has only that. nullptr for an unknown name.
  const LocalInterface* select(std::string_view name, std::optional<bool> v6) const;
  bool has_name(std::string_view name) const;
  const std::vector<std::unique_ptr<LocalInterface>>& all() const { return all_; }

 private:
  std::vector<std::unique_ptr<LocalInterface>> all_;
};

}  // namespace strowger::rtprelay::calls
