// Test fixture for the TCP transport tests: an event loop, a recording receiver, SIP requests.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "proxy/transport/tcp.h"
#include "tests/unit/transport/test_support.h"

namespace strowger::proxy::transport::test {

inline std::string request(std::string_view body = "", int cseq = 1) {
  return "MESSAGE sip:bob@example.com SIP/2.0\r\n"
         "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-" +
         std::to_string(cseq) +
         "\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.com>;tag=1\r\n"
         "To: <sip:bob@example.com>\r\n"
         "Call-ID: abc@127.0.0.1\r\n"
         "CSeq: " +
         std::to_string(cseq) +
         " MESSAGE\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

inline constexpr std::string_view kOk = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

class TcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_.reset(event_base_new());
    ASSERT_TRUE(base_);
  }
  std::unique_ptr<TcpTransport> make(RecordingReceiver& r, std::size_t max_size = 65535,
                                     int worker = 0) {
    return std::make_unique<TcpTransport>(base_.get(), r, worker, limits_, max_size);
  }
  // A transport listening on 127.0.0.1 with a kernel-chosen port, as listener `index`.
  std::unique_ptr<TcpTransport> server(std::size_t max_size = 65535, int worker = 0,
                                       int index = 0) {
    auto t = make(receiver_, max_size, worker);
    EXPECT_EQ(t->listen(index, loopback4()), std::nullopt);
    addr_ = t->local_address(index);
    EXPECT_NE(addr_.port(), 0);
    return t;
  }
  bool run_until(const std::function<bool()>& done, int timeout_ms = 3000) {
    return test::run_until(base_.get(), done, timeout_ms);
  }

  EventBasePtr base_;
  config::TcpLimits limits_;
  RecordingReceiver receiver_;
  Address addr_;
};

}  // namespace strowger::proxy::transport::test
