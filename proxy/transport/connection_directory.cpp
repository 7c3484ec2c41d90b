// ConnectionDirectory: a readers-writer map from (protocol, remote address) to connection ids.
#include "proxy/transport/connection_directory.h"

#include <algorithm>
#include <mutex>

namespace strowger::proxy::transport {

void ConnectionDirectory::add(Protocol proto, const Address& remote, std::uint64_t id) {
  const auto p = static_cast<std::size_t>(proto);
  if (p >= kProtocols) return;
  std::unique_lock lock(mutex_);
  by_remote_[p][remote].push_back(id);
}

void ConnectionDirectory::remove(Protocol proto, const Address& remote, std::uint64_t id) {
  const auto p = static_cast<std::size_t>(proto);
  if (p >= kProtocols) return;
  std::unique_lock lock(mutex_);
  auto it = by_remote_[p].find(remote);
  if (it == by_remote_[p].end()) return;
  std::erase(it->second, id);
  if (it->second.empty()) by_remote_[p].erase(it);
}

std::uint64_t ConnectionDirectory::find(Protocol proto, const Address& remote) const {
  const auto p = static_cast<std::size_t>(proto);
  if (p >= kProtocols) return 0;
  std::shared_lock lock(mutex_);
  auto it = by_remote_[p].find(remote);
  return it == by_remote_[p].end() || it->second.empty() ? 0 : it->second.back();
}

}  // namespace strowger::proxy::transport
