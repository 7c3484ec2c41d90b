// The fixture of the TlsTransport tests: a loopback listener, an event loop to run until a
// condition holds, and Side, what one end's bufferevent reported.
#pragma once
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

#include "modules/tls/tls_transport.h"
#include "tests/unit/tls/test_pki.h"

namespace strowger::modules::tls::testing {

// One side of a connection: what its bufferevent reported.
struct Side {
  bufferevent* bev = nullptr;
  bool connected = false;
  bool failed = false;
  short events = 0;
  std::string received;

  ~Side() {
    if (bev) bufferevent_free(bev);
  }
  void watch() {
    bufferevent_setcb(bev, on_read, nullptr, on_event, this);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
  }
  void close() {
    if (bev) bufferevent_free(bev);
    bev = nullptr;
  }
  static void on_read(bufferevent* bev, void* arg) {
    auto* self = static_cast<Side*>(arg);
    evbuffer* in = bufferevent_get_input(bev);
    const std::size_t n = evbuffer_get_length(in);
    std::string chunk(n, '\0');
    evbuffer_remove(in, chunk.data(), n);
    self->received += chunk;
  }
  static void on_event(bufferevent*, short what, void* arg) {
    auto* self = static_cast<Side*>(arg);
    self->events |= what;
    if (what & BEV_EVENT_CONNECTED) self->connected = true;
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) self->failed = true;
  }
};

// A config with id's certificate and key, trusting ca when given. A stuck handshake gives up in
// 3 s, well inside run_until's 5 s, so a test sees the failure rather than its own timeout.
inline TlsConfig config_for(const Identity& id, const std::string& ca = "") {
  TlsConfig c;
  c.certificate = {"tls.certificate", id.certificate, ""};
  c.private_key = {"tls.private_key", id.private_key, ""};
  if (!ca.empty()) c.ca_list = {"tls.ca_list", ca, ""};
  c.min_version = TLS1_2_VERSION;
  c.ciphers = kDefaultCiphers;
  c.handshake_timeout_ms = 3000;
  return c;
}

inline std::string peer_serial(bufferevent* bev) {
  SSL* ssl = bufferevent_openssl_get_ssl(bev);
  X509* cert = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
  if (!cert) return "";
  return std::to_string(ASN1_INTEGER_get(X509_get0_serialNumber(cert)));
}

// A CA of its own in a fresh directory.
class PkiTest : public ::testing::Test {
 protected:
  TempDir dir_;
  TestPki pki_{dir_.path(), "ca"};
};

class TlsTransportTest : public PkiTest {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(listen_fd_, 16), 0);
    socklen_t len = sizeof addr_;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), &len);
    server_id_ = pki_.issue("server", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", 100);
    client_id_ = pki_.issue("client", "phone.test", "DNS:phone.test", 200);
  }
  void TearDown() override {
    close(listen_fd_);
    // Sides are freed by their destructors before the base (they are test-local).
  }
  ~TlsTransportTest() override {
    if (base_) event_base_free(base_);
  }

  std::shared_ptr<TlsTransport> make(const TlsConfig& c) {
    auto t = TlsTransport::create(c);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return t.ok() ? *t : nullptr;
  }

  // A plain TCP socket connected to the listener and the accepted end (both non-blocking).
  std::pair<int, int> tcp_pair() {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_), 0);
    int s = ::accept(listen_fd_, nullptr, nullptr);
    evutil_make_socket_nonblocking(c);
    evutil_make_socket_nonblocking(s);
    return {c, s};
  }

  sipproxy::ConnectionInfo info(std::uint64_t id, bool outbound) {
    sipproxy::ConnectionInfo ci;
    ci.id = id;
    ci.proto = "tls";
    ci.remote_ip = "127.0.0.1";
    ci.remote_port = outbound ? ntohs(addr_.sin_port) : 40000;
    ci.local_ip = "127.0.0.1";
    ci.local_port = outbound ? 40000 : ntohs(addr_.sin_port);
    return ci;
  }

  // Server side via accept(); client side via connect() + bufferevent_socket_connect like the
  // core does it.
  void open(TlsTransport& server_t, TlsTransport& client_t, const std::string& sni, Side& server,
            Side& client) {
    std::string err;
    client.bev = client_t.connect(base_, info(2, true), sni, &err);
    ASSERT_NE(client.bev, nullptr) << err;
    client.watch();
    ASSERT_EQ(
        bufferevent_socket_connect(client.bev, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_),
        0);
    int s = -1;
    run_until([&] { return (s = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK)) >= 0; });
    ASSERT_GE(s, 0);
    server.bev = server_t.accept(base_, s, info(1, false), &err);
    ASSERT_NE(server.bev, nullptr) << err;
    server.watch();
  }

  // Runs the loop until done() or 5 s.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    evutil_make_socket_nonblocking(listen_fd_);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      timeval tv{0, 10000};
      event_base_loopexit(base_, &tv);
      event_base_dispatch(base_);
    }
    return true;
  }

  void exchange(Side& a, Side& b, const std::string& text) {
    const std::size_t before = b.received.size();
    bufferevent_write(a.bev, text.data(), text.size());
    ASSERT_TRUE(run_until([&] { return b.received.size() >= before + text.size(); }));
    EXPECT_EQ(b.received.substr(before), text);
  }

  // A raw OpenSSL client on a plain connected socket, for what TlsTransport never does itself
  // (TLS 1.1, no client certificate).
  bufferevent* raw_client(SSL_CTX* ctx, int fd) {
    SSL* ssl = SSL_new(ctx);
    return bufferevent_openssl_socket_new(base_, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
                                          BEV_OPT_CLOSE_ON_FREE);
  }

  Identity server_id_;
  Identity client_id_;
  event_base* base_ = nullptr;
  int listen_fd_ = -1;
  sockaddr_in addr_{};
};

}  // namespace strowger::modules::tls::testing
