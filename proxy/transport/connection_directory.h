// ConnectionDirectory: which worker's connection reaches a remote address, shared by the workers
// of one process, so a request for a client behind NAT or on a WebSocket finds the connection the
// client opened even when another worker owns it. Changed when connections open and close, read
// when a worker has no connection of its own to the address: never per message on a connection.
#pragma once
#include <cstdint>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "proxy/transport/address.h"

namespace strowger::proxy::transport {

class ConnectionDirectory {
 public:
  void add(Protocol proto, const Address& remote, std::uint64_t id);
  void remove(Protocol proto, const Address& remote, std::uint64_t id);
  // The newest connection of that protocol to remote, 0 when there is none.
  std::uint64_t find(Protocol proto, const Address& remote) const;

 private:
  static constexpr std::size_t kProtocols = 5;
  mutable std::shared_mutex mutex_;
  std::unordered_map<Address, std::vector<std::uint64_t>, AddressHash> by_remote_[kProtocols];
};

}  // namespace strowger::proxy::transport
