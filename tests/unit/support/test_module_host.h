// TestModuleHost: a sipproxy::ModuleHost for module unit tests. Services work; timers, posted
// tasks, sent messages and reply hooks are recorded for the test to run or inspect.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sipproxy/module.h"

namespace strowger::test_support {

class TestModuleHost : public sipproxy::ModuleHost {
 public:
  struct Sent {
    sipproxy::Peer to;
    std::uint64_t connection_id = 0;
    std::string bytes;
  };
  struct ReplyHook {
    std::string prefix;
    std::function<void(sipproxy::Message&, const sipproxy::Peer&)> fn;
  };

  int worker_count() const override { return workers; }
  const std::string& config_dir() const override { return dir; }
  const std::string& config_file() const override { return file; }
  void add_timer(std::int64_t, std::function<void()> fn) override { timers.push_back(fn); }
  void provide(std::string name, std::shared_ptr<void> s) override { services[name] = s; }
  std::shared_ptr<void> find(std::string_view name) const override {
    auto it = services.find(std::string(name));
    return it == services.end() ? nullptr : it->second;
  }
  void post_to_worker(int, std::function<void()> fn) override { tasks.push_back(fn); }
  bool send(const sipproxy::Peer& to, std::uint64_t connection_id, std::string bytes) override {
    sent.push_back({to, connection_id, std::move(bytes)});
    return true;
  }
  std::optional<sipproxy::Peer> listen_address(std::string_view proto) const override {
    for (const sipproxy::Peer& p : listening) {
      if (p.proto == proto) return p;
    }
    return std::nullopt;
  }
  void on_reply(std::string prefix,
                std::function<void(sipproxy::Message&, const sipproxy::Peer&)> fn) override {
    reply_hooks.push_back({std::move(prefix), std::move(fn)});
  }

  int workers = 1;
  std::string dir = ".";
  std::string file = "./sipproxy.yaml";
  std::vector<std::function<void()>> timers;
  std::vector<std::function<void()>> tasks;
  std::map<std::string, std::shared_ptr<void>> services;
  std::vector<Sent> sent;
  std::vector<sipproxy::Peer> listening{{"udp", "127.0.0.1", 5060}};
  std::vector<ReplyHook> reply_hooks;
};

}  // namespace strowger::test_support
