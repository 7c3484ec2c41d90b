// InterfaceSet: one port pool per configured local address; selection by name and family.
#include "rtprelay/calls/interfaces.h"

namespace strowger::rtprelay::calls {

common::Result<std::unique_ptr<InterfaceSet>> InterfaceSet::create(
    const std::vector<InterfaceConfig>& interfaces, std::uint16_t port_min,
    std::uint16_t port_max) {
  auto set = std::make_unique<InterfaceSet>();
  for (const InterfaceConfig& c : interfaces) {
    auto local = media::Endpoint::parse(c.address, 0);
    if (!local) return common::Error{EINVAL, "interface " + c.name + ": bad address " + c.address};
    media::PortPoolConfig pc;
    pc.local = *local;
    pc.port_min = port_min;
    pc.port_max = port_max;
    auto pool = media::PortPool::create(pc);
    if (!pool.ok())
      return common::Error{pool.error().code,
                           "interface " + c.name + " " + c.address + ": " + pool.error().message};
    auto li = std::make_unique<LocalInterface>();
    li->name = c.name;
    li->local = *local;
    li->advertise = c.advertise.empty() ? local->ip_string() : c.advertise;
    li->pool = std::move(pool.value());
    set->all_.push_back(std::move(li));
  }
  if (set->all_.empty()) return common::Error{EINVAL, "no interface configured"};
  return set;
}

const LocalInterface* InterfaceSet::select(std::string_view name, std::optional<bool> v6) const {
  if (name.empty()) name = all_.front()->name;
  const LocalInterface* any = nullptr;
  for (const auto& li : all_) {
    if (li->name != name) continue;
    if (!v6 || li->v6() == *v6) return li.get();
    if (any == nullptr) any = li.get();
  }
  return any;
}

bool InterfaceSet::has_name(std::string_view name) const {
  for (const auto& li : all_)
    if (li->name == name) return true;
  return false;
}

}  // namespace strowger::rtprelay::calls
