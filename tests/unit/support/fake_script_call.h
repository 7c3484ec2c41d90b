// FakeScriptCall: a sipproxy::ScriptCall over one parsed message for module unit tests; what the
// module sets (replies, $du, path, branches, flags, AVPs, the connection) is kept to inspect.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sipproxy/script.h"

namespace strowger::test_support {

class FakeScriptCall : public sipproxy::ScriptCall {
 public:
  struct Reply {
    int code = 0;
    std::string reason;
    std::string headers;
  };

  FakeScriptCall(std::string_view text, sipproxy::Peer src)
      : msg_(parse(text)), src_(std::move(src)) {}
  static sipproxy::Message parse(std::string_view text) {
    auto m = sipproxy::Message::parse(text);
    EXPECT_TRUE(m.ok()) << text;
    return std::move(m.value());
  }
  sipproxy::Message& message() override { return msg_; }
  sipproxy::RouteMask route() const override { return sipproxy::kRequestRoute; }
  int worker() const override { return 0; }
  sipproxy::Peer source() const override { return src_; }
  sipproxy::Peer local() const override { return {"udp", "192.0.2.1", 5060}; }
  std::uint64_t connection_id() const override { return conn_; }
  bool is_myself(std::string_view host, std::uint16_t) const override {
    return myself.empty() || host == myself;
  }
  int reply(int code, std::string_view reason, std::string_view extra) override {
    replies.push_back({code, std::string(reason), std::string(extra)});
    return 1;
  }
  const std::string& dst_uri() const override { return du; }
  void set_dst_uri(std::string uri) override { du = std::move(uri); }
  void set_path(std::vector<std::string> p) override { path = std::move(p); }
  void set_connection(std::uint64_t id, bool f) override {
    connection_id_set = id;
    flow = f;
  }
  void clear_branches() override { appended.clear(); }
  const std::vector<sipproxy::Branch>& branches() const override { return appended; }
  bool append_branch(sipproxy::Branch b) override {
    appended.push_back(std::move(b));
    return true;
  }
  bool flag(int bit) const override { return flags >> bit & 1; }
  void set_flag(int bit, bool on) override {
    if (on)
      flags |= 1ull << bit;
    else
      flags &= ~(1ull << bit);
  }
  std::optional<std::string> avp(std::string_view name) const override {
    auto it = avps.find(std::string(name));
    if (it == avps.end()) return std::nullopt;
    return it->second;
  }
  void set_avp(std::string_view name, std::string value) override {
    avps[std::string(name)] = std::move(value);
  }
  void log(sipproxy::LogLevel, std::string_view) override {}

  std::vector<std::string> contacts() { return msg_.header_values("Contact"); }

  std::vector<Reply> replies;
  std::string du;
  std::vector<std::string> path;
  std::uint64_t connection_id_set = 0;  // set_connection: branch 0 bound to a connection
  bool flow = false;
  std::vector<sipproxy::Branch> appended;
  std::uint64_t flags = 0;
  std::uint64_t conn_ = 0;  // the connection the message came on (connection_id())
  std::map<std::string, std::string> avps;
  std::string myself;  // our host name; empty: every host is ours

 private:
  sipproxy::Message msg_;
  sipproxy::Peer src_;
};

}  // namespace strowger::test_support
