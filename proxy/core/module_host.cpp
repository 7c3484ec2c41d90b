// ModuleHostImpl: module services, worker posting and the module timer thread.
#include "proxy/core/module_host.h"

#include "common/log.h"

namespace strowger::proxy::core {

ModuleHostImpl::ModuleHostImpl(const config::ProxyConfig& config, WorkerGroup& group)
    : group_(group) {
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
