// Test fixture for the ng client tests: an event_base, ng servers from rtprelay/control on
// loopback, a silent UDP socket (a relay that never answers) and a loop pump.
#pragma once
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rtprelay/control/ng_server.h"

namespace strowger::modules::rtprelay {

namespace control = strowger::rtprelay::control;

class LoopFixture : public ::testing::Test {
 protected:
  void SetUp() override { base_ = event_base_new(); }
  void TearDown() override {
    servers_.clear();
    for (int fd : silent_) ::close(fd);
  }
  ~LoopFixture() override {
    if (base_) event_base_free(base_);
  }

  // Starts an ng server on `addr` ("127.0.0.1:0"); its "offer"/"answer"/"delete" count per
  // server in hits_[index][command]. Returns its "udp:host:port" URL.
  std::string start_server(const std::string& addr = "127.0.0.1:0") {
    control::NgServerOptions o;
    o.udp = {addr};
    auto s = std::make_unique<control::NgServer>(base_, o, clock_);
    std::size_t index = servers_.size();
    for (const char* cmd : {"offer", "answer", "delete"}) {
      s->add_command(cmd, [this, index, cmd](const control::bencode::Dict& req,
                                             const control::Peer&, control::bencode::Dict& reply) {
        ++hits_[index][cmd];
        reply.set("call-id", req.get_string("call-id").value_or(""));
      });
    }
    auto err = s->start();
    EXPECT_FALSE(err) << *err;
    std::string url = url_of(s->udp_addresses()[0]);
    servers_.push_back(std::move(s));
    return url;
  }
  static std::string url_of(const sockaddr_storage& a) {
    control::Peer p;
    p.addr = a;
    std::string hp = p.to_string();
    return (a.ss_family == AF_INET6 ? "udp6:" : "udp:") + hp;
  }
  // A bound UDP socket nobody reads: a relay that is dead but not refusing.
  std::string silent_relay(sockaddr_storage* bound = nullptr) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    silent_.push_back(fd);
    if (bound) *bound = ss;
    return url_of(ss);
  }
  // Datagrams waiting on a silent socket (drained).
  int drain_silent(int index) {
    int n = 0;
    char buf[65536];
    while (::recv(silent_[index], buf, sizeof buf, MSG_DONTWAIT) >= 0) ++n;
    return n;
  }
  bool pump_until(const std::function<bool()>& done, int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
      ::usleep(500);
    }
    return true;
  }
  static control::bencode::Dict command(const char* cmd, const std::string& call_id) {
    control::bencode::Dict d;
    d.set("command", cmd);
    d.set("call-id", call_id);
    return d;
  }

  common::SteadyClock clock_;
  event_base* base_ = nullptr;
  std::vector<std::unique_ptr<control::NgServer>> servers_;
  std::map<std::size_t, std::map<std::string, int>> hits_;
  std::vector<int> silent_;
};

}  // namespace strowger::modules::rtprelay
