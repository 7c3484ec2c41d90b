// ModuleHostImpl: what sipproxy gives its modules (sipproxy::ModuleHost): workers, the module
// timer thread, the service registry between modules.
#pragma once
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/core/worker.h"
#include "sipproxy/module.h"

namespace strowger::proxy::core {

class ModuleHostImpl final : public sipproxy::ModuleHost {
 public:
  ModuleHostImpl(const config::ProxyConfig& config, WorkerGroup& group);
  ~ModuleHostImpl() override;  // stops the timer thread

  int worker_count() const override { return static_cast<int>(group_.workers.size()); }
  const std::string& config_dir() const override { return config_dir_; }
  void add_timer(std::int64_t interval_ms, std::function<void()> fn) override;
  void provide(std::string name, std::shared_ptr<void> service) override;
  std::shared_ptr<void> find(std::string_view name) const override;
  void post_to_worker(int worker, std::function<void()> fn) override;
  const std::string& config_file() const override { return config_.file; }
  bool send(const sipproxy::Peer& to, std::uint64_t connection_id, std::string bytes) override;
  std::optional<sipproxy::Peer> listen_address(std::string_view proto) const override;
  void on_reply(std::string branch_prefix,
                std::function<void(sipproxy::Message& reply, const sipproxy::Peer& from)> fn)
      override;

  // After every module's init_process: the transport services and reply hooks go to the
  // workers (before they open listeners and run).
  void hand_to_workers();

  // Starts the timer thread (after every module's init_process).
  void start_timers();
  void stop_timers();

 private:
  struct Timer {
    std::int64_t interval_ms;
    std::function<void()> fn;
    std::chrono::steady_clock::time_point next;
  };
  void run_timers();

  const config::ProxyConfig& config_;
  WorkerGroup& group_;
  std::string config_dir_;
  bool started_ = false;  // reply hooks are fixed once the workers run
  std::atomic<unsigned> next_worker_{0};
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<void>, std::less<>> services_;
  std::vector<Timer> timers_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace strowger::proxy::core
