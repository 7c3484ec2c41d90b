// A ScriptCall over one parsed message with a settable source, $du and AVPs, for nathelper tests.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sipproxy/script.h"

namespace strowger::modules::nathelper {

class FakeCall final : public sipproxy::ScriptCall {
 public:
  explicit FakeCall(std::string_view text, sipproxy::Peer src = {"udp", "203.0.113.7", 40000})
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
  std::uint64_t connection_id() const override { return 0; }
  bool is_myself(std::string_view, std::uint16_t) const override { return false; }
  int reply(int, std::string_view, std::string_view) override { return 1; }
  const std::string& dst_uri() const override { return du; }
  void set_dst_uri(std::string uri) override { du = std::move(uri); }
  void set_path(std::vector<std::string>) override {}
  void set_connection(std::uint64_t, bool) override {}
  void clear_branches() override { branches_.clear(); }
  const std::vector<sipproxy::Branch>& branches() const override { return branches_; }
  bool append_branch(sipproxy::Branch b) override {
    branches_.push_back(std::move(b));
    return true;
  }
  bool flag(int) const override { return false; }
  void set_flag(int, bool) override {}
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

  std::string du;
  std::map<std::string, std::string> avps;

 private:
  sipproxy::Message msg_;
  sipproxy::Peer src_;
  std::vector<sipproxy::Branch> branches_;
};

// A request with the given top Via sent-by, extra headers ("Contact: ...\r\n") and body.
inline std::string request(std::string_view method, std::string_view ruri, std::string_view via,
                           std::string_view headers, std::string_view body = {}) {
  std::string m = std::string(method) + " " + std::string(ruri) + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP " + std::string(via) + ";branch=z9hG4bK-1\r\n";
  m += "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n";
  m += "To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 " + std::string(method) + "\r\n";
  m += std::string(headers);
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  return m;
}

}  // namespace strowger::modules::nathelper
