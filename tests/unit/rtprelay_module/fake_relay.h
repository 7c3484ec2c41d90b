// A fake ng relay for the module tests: a UDP socket on 127.0.0.1 served by its own thread
// (the module blocks the calling thread, so the relay cannot share its loop). It answers
// `ping` with pong and offer/answer/delete with ok and a marked SDP, or stays silent; it
// records every request it got.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/bencode.h"

namespace strowger::modules::rtprelay {

class FakeRelay {
 public:
  FakeRelay() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRelay() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "udp:127.0.0.1:" + std::to_string(port_); }
  void set_silent(bool silent) { silent_ = silent; }
  void set_error(std::string reason) {
    std::lock_guard lock(mu_);
    error_ = std::move(reason);
  }
  // Datagrams received (retransmissions included).
  int datagrams() const { return datagrams_; }
  std::vector<common::bencode::Dict> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int count(std::string_view command) const {
    int n = 0;
    for (const auto& r : requests())
      if (r.get_string("command") == command) ++n;
    return n;
  }

 private:
  void serve() {
    char buf[65536];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      ++datagrams_;
      if (silent_) continue;
      std::string_view in(buf, static_cast<std::size_t>(n));
      std::size_t sp = in.find(' ');
      if (sp == std::string_view::npos) continue;
      auto v = common::bencode::decode(in.substr(sp + 1));
      if (!v.ok() || !v->as_dict()) continue;
      common::bencode::Dict req = *v->as_dict();
      common::bencode::Dict reply;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
        std::string_view cmd = req.get_string("command").value_or("");
        if (cmd == "ping") {
          reply.set("result", "pong");
        } else if (!error_.empty()) {
          reply.set("result", "error");
          reply.set("error-reason", error_);
        } else {
          reply.set("result", "ok");
          if (cmd == "offer" || cmd == "answer")
            reply.set("sdp", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio " + std::to_string(port_) +
                                 " RTP/AVP 0\r\na=" + std::string(cmd) + "\r\n");
        }
      }
      std::string out(in.substr(0, sp + 1));
      common::bencode::encode_to(reply, out);
      ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, silent_{false};
  std::atomic<int> datagrams_{0};
  mutable std::mutex mu_;
  std::string error_;
  std::vector<common::bencode::Dict> requests_;
  std::thread thread_;
};

}  // namespace strowger::modules::rtprelay
