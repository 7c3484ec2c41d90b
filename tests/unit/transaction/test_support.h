// Test support for the transaction tests: a recording Sender and TransactionUser, SIP text
// builders, and a fixture that drives the layer's timers with a FakeClock.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/timer_heap.h"
#include "proxy/sip/message.h"
#include "proxy/transaction/transaction_layer.h"
#include "proxy/transport/address.h"

namespace strowger::proxy::transaction::test {

inline transport::Peer peer(std::string_view ip, std::uint16_t port,
                            transport::Protocol proto = transport::Protocol::kUdp,
                            std::uint64_t connection_id = 0) {
  transport::Peer p;
  p.proto = proto;
  p.remote = *transport::Address::from_ip_port(ip, port);
  p.listener = 0;
  p.connection_id = connection_id;
  return p;
}

inline sip::Message parse(std::string_view text) {
  auto m = sip::Message::parse(text);
  EXPECT_TRUE(m.ok()) << "could not parse:\n" << text;
  return std::move(m.value());
}

// One message handed to the Sender.
struct Sent {
  transport::Peer to;
  std::string bytes;
  std::int64_t at_ms;  // fake clock time, relative to the fixture's start
  sip::Message message() const { return parse(bytes); }
};

class FakeSender final : public Sender {
 public:
  explicit FakeSender(const common::FakeClock& clock) : clock_(clock), start_(clock.now_ms()) {}
  std::uint64_t send(const transport::Peer& to, std::string_view bytes) override {
    if (fail_next > 0) {
      --fail_next;
      ++failures;
      return 0;
    }
    if (fail_all) {
      ++failures;
      return 0;
    }
    sent.push_back({to, std::string(bytes), clock_.now_ms() - start_});
    return transport::is_reliable(to.proto) ? reliable_connection_id : 1;
  }
  // Times (relative) of every sent message whose first line starts with prefix.
  std::vector<std::int64_t> times_of(std::string_view prefix) const {
    std::vector<std::int64_t> out;
    for (const Sent& s : sent)
      if (std::string_view(s.bytes).substr(0, prefix.size()) == prefix) out.push_back(s.at_ms);
    return out;
  }
  std::size_t count_of(std::string_view prefix) const { return times_of(prefix).size(); }

  std::vector<Sent> sent;
  int fail_next = 0;
  bool fail_all = false;
  int failures = 0;
  std::uint64_t reliable_connection_id = 42;

 private:
  const common::FakeClock& clock_;
  std::int64_t start_;
};

// Records every callback. Pointers to gone transactions are only compared, never followed.
class FakeUser final : public TransactionUser {
 public:
  struct Response {
    ClientTransaction* ct;
    int status;
    std::string to_tag;
  };
  void on_request(ServerTransaction& st, sip::Message& request) override {
    requests.push_back(&st);
    request_methods.emplace_back(request.method_name());
    if (on_request_hook) on_request_hook(st);
  }
  void on_cancel(ServerTransaction& invite_st) override { cancels.push_back(&invite_st); }
  void on_stray_ack(sip::Message& ack, const transport::Peer&) override {
    stray_acks.emplace_back(ack.via(0) ? ack.via(0)->branch : std::string());
  }
  void on_response(ClientTransaction& ct, sip::Message& response) override {
    EXPECT_FALSE(is_gone(&ct)) << "on_response after on_client_gone";
    responses.push_back({&ct, response.status(), std::string(response.to_tag())});
  }
  void on_client_failure(ClientTransaction& ct, int status) override {
    EXPECT_FALSE(is_gone(&ct)) << "on_client_failure after on_client_gone";
    failures.emplace_back(&ct, status);
  }
  void on_timer_c(ClientTransaction& ct) override {
    timer_c.push_back(&ct);
    if (on_timer_c_hook) on_timer_c_hook(ct);
  }
  void on_stray_response(sip::Message& response, const transport::Peer&) override {
    stray_responses.push_back(response.status());
  }
  void on_server_gone(ServerTransaction& st) override { servers_gone.push_back(&st); }
  void on_client_gone(ClientTransaction& ct) override { clients_gone.push_back(&ct); }

  bool is_gone(const ClientTransaction* ct) const {
    for (const ClientTransaction* g : clients_gone)
      if (g == ct) return true;
    return false;
  }

  std::vector<ServerTransaction*> requests;
  std::vector<std::string> request_methods;
  std::vector<ServerTransaction*> cancels;
  std::vector<std::string> stray_acks;
  std::vector<Response> responses;
  std::vector<std::pair<ClientTransaction*, int>> failures;
  std::vector<ClientTransaction*> timer_c;
  std::vector<int> stray_responses;
  std::vector<ServerTransaction*> servers_gone;
  std::vector<ClientTransaction*> clients_gone;
  std::function<void(ServerTransaction&)> on_request_hook;
  std::function<void(ClientTransaction&)> on_timer_c_hook;
};

// A request as a UAC (or the previous hop) sends it.
struct RequestSpec {
  std::string method = "INVITE";
  std::string ruri = "sip:bob@example.com";
  std::string via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-uac1;rport";
  std::string cseq_method;  // defaults to method
  std::uint32_t cseq = 1;
  std::string call_id = "call-1@192.0.2.10";
  std::string from_tag = "ft1";
  std::string to_tag;  // empty: no To tag
  std::string extra;   // extra header lines, each ending in \r\n
};

inline std::string request_text(const RequestSpec& s) {
  std::string t;
  t += s.method + " " + s.ruri + " SIP/2.0\r\n";
  t += "Via: " + s.via + "\r\n";
  t += "Max-Forwards: 70\r\n";
  t += "From: <sip:alice@example.com>;tag=" + s.from_tag + "\r\n";
  t += "To: <sip:bob@example.com>" + (s.to_tag.empty() ? std::string() : ";tag=" + s.to_tag) +
       "\r\n";
  t += "Call-ID: " + s.call_id + "\r\n";
  t += "CSeq: " + std::to_string(s.cseq) + " " +
       (s.cseq_method.empty() ? s.method : s.cseq_method) + "\r\n";
  t += s.extra;
  t += "Content-Length: 0\r\n\r\n";
  return t;
}

// A response to a request whose top Via is via.
inline std::string response_text(int status, std::string_view reason, std::string_view via,
                                 std::string_view cseq_method, std::uint32_t cseq = 1,
                                 std::string_view to_tag = "",
                                 std::string_view call_id = "call-1@192.0.2.10") {
  std::string t = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  t += "Via: " + std::string(via) + "\r\n";
  t += "From: <sip:alice@example.com>;tag=ft1\r\n";
  t += "To: <sip:bob@example.com>" +
       (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\r\n";
  t += "Call-ID: " + std::string(call_id) + "\r\n";
  t += "CSeq: " + std::to_string(cseq) + " " + std::string(cseq_method) + "\r\n";
  t += "Content-Length: 0\r\n\r\n";
  return t;
}

class TransactionTest : public ::testing::Test {
 protected:
  static constexpr int kT1 = 500;
  static constexpr int kT2 = 4000;
  static constexpr int kT4 = 5000;
  static constexpr int kWorker = 3;

  // Relative fake time since the fixture started.
  std::int64_t now() const { return clock_.now_ms() - start_; }
  // Runs every timer due up to relative time t, at its exact deadline, collecting after each
  // batch as the worker does.
  void run_until(std::int64_t t) {
    for (;;) {
      std::int64_t next = heap_.next_deadline();
      if (next < 0 || next > start_ + t) break;
      if (next > clock_.now_ms()) clock_.set(next);
      heap_.run_due();
      layer_.collect();
    }
    if (clock_.now_ms() < start_ + t) clock_.set(start_ + t);
  }
  void advance(std::int64_t ms) { run_until(now() + ms); }

  void receive_request(const RequestSpec& spec, const transport::Peer& from) {
    layer_.receive_request(parse(request_text(spec)), from);
    layer_.collect();
  }
  void receive_response(std::string_view text, const transport::Peer& from) {
    layer_.receive_response(parse(text), from);
    layer_.collect();
  }

  common::FakeClock clock_;
  std::int64_t start_ = clock_.now_ms();
  common::TimerHeap heap_{clock_};
  FakeSender sender_{clock_};
  FakeUser user_;
  TimerSettings settings_{};
  TransactionLayer layer_{heap_, sender_, user_, settings_, kWorker};
};

// Drives one client transaction against the layer.
class ClientTest : public TransactionTest {
 protected:
  // Starts a client transaction (our Via on top of the UAC's, two Routes) for method to
  // 192.0.2.20:5060 (UDP unless proto says otherwise).
  ClientTransaction& start(std::string method = "INVITE",
                           transport::Protocol proto = transport::Protocol::kUdp) {
    method_ = method;
    branch_ = layer_.new_branch("looptag");
    via_ = std::string("SIP/2.0/") + std::string(transport::protocol_name(proto)) +
           " 198.51.100.1:5060;branch=" + branch_;
    RequestSpec spec;
    spec.method = method;
    spec.ruri = "sip:bob@192.0.2.20:5060;transport=udp";
    spec.via = via_ + "\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-uac1;rport";
    spec.extra = "Route: <sip:edge1.example.com;lr>\r\nRoute: <sip:edge2.example.com;lr>\r\n";
    ClientTransaction& ct =
        layer_.start_client(parse(request_text(spec)), peer("192.0.2.20", 5060, proto), &marker_);
    EXPECT_EQ(ct.user_data, &marker_);
    return ct;
  }
  void respond(int status, std::string_view tag = "", std::string_view method = "") {
    std::string_view m = method.empty() ? std::string_view(method_) : method;
    receive_response(response_text(status, "Reason", via_, m, 1, tag), peer("192.0.2.20", 5060));
  }
  std::vector<Sent> sent_with(std::string_view prefix) const {
    std::vector<Sent> out;
    for (const Sent& s : sender_.sent)
      if (std::string_view(s.bytes).substr(0, prefix.size()) == prefix) out.push_back(s);
    return out;
  }
  std::vector<int> response_statuses() const {
    std::vector<int> out;
    for (const auto& r : user_.responses) out.push_back(r.status);
    return out;
  }

  int marker_ = 0;
  std::string method_;
  std::string branch_;
  std::string via_;
};

}  // namespace strowger::proxy::transaction::test
