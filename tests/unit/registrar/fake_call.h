// A ScriptCall over one parsed message that records replies and branches, for registrar tests.
#pragma once
#include <gtest/gtest.h>

#include <map>

#include "modules/usrloc/location_table.h"
#include "sipproxy/script.h"

namespace strowger::modules::registrar {

struct Reply {
  int code = 0;
  std::string reason;
  std::string headers;
};

class FakeCall final : public sipproxy::ScriptCall {
 public:
  explicit FakeCall(std::string_view text, sipproxy::Peer src = {"udp", "192.0.2.10", 5060})
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

  std::vector<Reply> replies;
  std::string du;
  std::vector<std::string> path;
  std::uint64_t connection_id_set = 0;  // set_connection: branch 0 bound to a connection
  bool flow = false;
  std::vector<sipproxy::Branch> appended;
  std::uint64_t flags = 0;
  std::uint64_t conn_ = 0;
  std::map<std::string, std::string> avps;
  std::string myself;  // our host name; empty: every host is ours

 private:
  sipproxy::Message msg_;
  sipproxy::Peer src_;
};

// A REGISTER for alice with the given extra header lines ("Contact: ...\r\n").
inline std::string register_msg(std::string_view headers, std::string_view call_id = "reg-1",
                                int cseq = 1) {
  return "REGISTER sip:example.com SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" +
         std::to_string(cseq) + std::string(call_id) +
         "\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.com>;tag=1\r\n"
         "To: <sip:alice@example.com>\r\n"
         "Call-ID: " +
         std::string(call_id) + "\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\n" +
         std::string(headers) + "Content-Length: 0\r\n\r\n";
}

// The table with a clock the test moves.
struct Clocked {
  explicit Clocked(modules::usrloc::TableLimits limits = {})
      : table(limits, [this] { return now; }) {}
  std::int64_t now = 1'700'000'000;
  modules::usrloc::LocationTable table;
};

}  // namespace strowger::modules::registrar
