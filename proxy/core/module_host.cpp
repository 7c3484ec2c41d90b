// ModuleHostImpl: module services, worker posting and the module timer thread.
#include "proxy/core/module_host.h"

#include "common/log.h"

namespace strowger::proxy::core {

ModuleHostImpl::ModuleHostImpl(const config::ProxyConfig& config, WorkerGroup& group)
    : config_(config), group_(group) {
  const std::size_t slash = config.file.rfind('/');
  config_dir_ = slash == std::string::npos ? "." : config.file.substr(0, slash);
}

ModuleHostImpl::~ModuleHostImpl() {
  stop_timers();
}

void ModuleHostImpl::add_timer(std::int64_t interval_ms, std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto interval = std::max<std::int64_t>(interval_ms, 10);
  timers_.push_back({interval, std::move(fn),
                     std::chrono::steady_clock::now() + std::chrono::milliseconds(interval)});
  wake_.notify_all();
}

void ModuleHostImpl::provide(std::string name, std::shared_ptr<void> service) {
  std::lock_guard<std::mutex> lock(mutex_);
  services_[std::move(name)] = std::move(service);
}

std::shared_ptr<void> ModuleHostImpl::find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second;
}

void ModuleHostImpl::post_to_worker(int worker, std::function<void()> fn) {
  if (Worker* w = group_.at(worker)) w->post_task(std::move(fn));
}

bool ModuleHostImpl::send(const sipproxy::Peer& to, std::uint64_t connection_id,
                          std::string bytes) {
  const std::optional<transport::Protocol> proto = transport::protocol_from_name(to.proto);
  std::optional<transport::Address> remote = transport::Address::from_ip_port(to.ip, to.port);
  if (!proto || !remote || group_.workers.empty()) return false;
  int worker = 0;
  if (connection_id != 0) {
    worker = transport::connection_worker(connection_id);
  } else {
    worker = static_cast<int>(next_worker_.fetch_add(1, std::memory_order_relaxed) %
                              group_.workers.size());
  }
  Worker* w = group_.at(worker);
  if (w == nullptr) return false;
  const std::optional<int> listener = w->local().pick(*proto, remote->family(), -1);
  if (!listener) return false;  // nothing of ours speaks that protocol
  transport::Peer peer{*proto, *remote, *listener, connection_id};
  peer.no_connect = connection_id != 0;
  w->post_task([w, peer, bytes = std::move(bytes)] { w->send(peer, bytes); });
  return true;
}

std::optional<sipproxy::Peer> ModuleHostImpl::listen_address(std::string_view proto) const {
  const std::optional<transport::Protocol> p = transport::protocol_from_name(proto);
  if (!p || group_.workers.empty()) return std::nullopt;
  for (const Listener& l : group_.workers.front()->local().listeners()) {
    if (l.proto != *p) continue;
    std::string host = l.host;
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    return sipproxy::Peer{std::string(transport::protocol_token(l.proto)), std::move(host), l.port};
  }
  return std::nullopt;
}

void ModuleHostImpl::on_reply(
    std::string branch_prefix,
    std::function<void(sipproxy::Message& reply, const sipproxy::Peer& from)> fn) {
  if (started_ || branch_prefix.empty()) {
    LOG_ERROR("module reply hook '%s' refused: register a non-empty prefix at init_process",
              branch_prefix.c_str());
    return;
  }
  group_.reply_hooks.push_back({std::move(branch_prefix), std::move(fn)});
}

void ModuleHostImpl::hand_to_workers() {
  started_ = true;
  group_.tls = static_cast<sipproxy::TlsService*>(find(sipproxy::kTlsService).get());
  group_.ws = static_cast<sipproxy::WebSocketService*>(find(sipproxy::kWebSocketService).get());
}

void ModuleHostImpl::start_timers() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable() || timers_.empty()) return;
  thread_ = std::thread([this] { run_timers(); });
}

void ModuleHostImpl::stop_timers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void ModuleHostImpl::run_timers() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    auto next = std::chrono::steady_clock::time_point::max();
    for (const Timer& t : timers_) next = std::min(next, t.next);
    wake_.wait_until(lock, next, [&] { return stopping_; });
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < timers_.size(); ++i) {
      if (timers_[i].next > now) continue;
      timers_[i].next = now + std::chrono::milliseconds(timers_[i].interval_ms);
      std::function<void()> fn = timers_[i].fn;
      lock.unlock();  // a timer may take long (a database): others may add timers meanwhile
      fn();
      lock.lock();
    }
  }
}

}  // namespace strowger::proxy::core
