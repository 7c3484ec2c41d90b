// What TlsTransport refuses or survives: missing client certificates, TLS 1.1, plain text on the
// TLS port, silent clients (handshake timeout); and reload under a live connection.
#include "tests/unit/tls/transport_fixture.h"

// In the fixture's namespace: its pieces by their own names.
namespace strowger::modules::tls::testing {
namespace {

TEST_F(TlsTransportTest, RequiredClientCertificate) {
  TlsConfig sc = config_for(server_id_, pki_.ca_file());
  sc.verify_client = VerifyClient::kRequired;
  auto server_t = make(sc);
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  {  // our client presents its certificate: accepted, and tls.list names it
    Side server, client;
    open(*server_t, *client_t, "localhost", server, client);
    ASSERT_TRUE(run_until([&] { return server.connected || server.failed; }));
    ASSERT_TRUE(server.connected) << server_t->last_error(server.bev);
    const auto row = server_t->list()["connections"][0];
    EXPECT_NE(row["peer_subject"].get<std::string>().find("CN=phone.test"), std::string::npos);
    EXPECT_TRUE(row["peer_verified"].get<bool>());
  }
  {  // a client without a certificate is refused
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    auto [c, s] = tcp_pair();
    Side client, server;
    client.bev = raw_client(ctx, c);
    client.watch();
    std::string err;
    server.bev = server_t->accept(base_, s, info(8, false), &err);
    server.watch();
    ASSERT_TRUE(run_until([&] { return server.failed; }));
    EXPECT_FALSE(server.connected);
    EXPECT_FALSE(server_t->last_error(server.bev).empty());
    client.close();
    SSL_CTX_free(ctx);
  }
}

TEST_F(TlsTransportTest, Tls11ClientIsRefused) {
  auto server_t = make(config_for(server_id_, ""));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);  // let the client even try TLS 1.1
  SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  auto [c, s] = tcp_pair();
  Side client, server;
  client.bev = raw_client(ctx, c);
  client.watch();
  std::string err;
  server.bev = server_t->accept(base_, s, info(9, false), &err);
  server.watch();
  ASSERT_TRUE(run_until([&] { return server.failed; }));
  EXPECT_FALSE(server.connected);
  const std::string why = server_t->last_error(server.bev);
  EXPECT_NE(why.find("protocol"), std::string::npos) << why;
  client.close();
  SSL_CTX_free(ctx);
}

TEST_F(TlsTransportTest, PlainSipOnTheTlsPortIsAnErrorNotACrash) {
  auto server_t = make(config_for(server_id_, ""));
  auto [c, s] = tcp_pair();
  const std::string junk = "OPTIONS sip:localhost SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n\r\n";
  ASSERT_EQ(write(c, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  Side server;
  std::string err;
  server.bev = server_t->accept(base_, s, info(10, false), &err);
  server.watch();
  ASSERT_TRUE(run_until([&] { return server.failed; }));
  EXPECT_FALSE(server.connected);
  EXPECT_FALSE(server_t->last_error(server.bev).empty());
  close(c);
}

TEST_F(TlsTransportTest, SilentClientHitsTheHandshakeTimeout) {
  TlsConfig sc = config_for(server_id_, "");
  sc.handshake_timeout_ms = 200;
  auto server_t = make(sc);
  auto [c, s] = tcp_pair();
  Side server;
  std::string err;
  const auto start = std::chrono::steady_clock::now();
  server.bev = server_t->accept(base_, s, info(11, false), &err);
  server.watch();
  ASSERT_TRUE(run_until([&] { return server.failed; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(190));
  EXPECT_TRUE(server.events & BEV_EVENT_ERROR);
  EXPECT_NE(server_t->last_error(server.bev).find("timed out after 200 ms"), std::string::npos)
      << server_t->last_error(server.bev);
  server.close();
  EXPECT_EQ(server_t->info()["handshakes"]["timed_out"], 1);
  run_until([&] { return server_t->sessions().size() == 0; });
  EXPECT_EQ(server_t->info()["handshakes"]["failed"], 0);  // counted as timed out only
  close(c);
}

TEST_F(TlsTransportTest, CompletedHandshakeCancelsTheTimeout) {
  TlsConfig sc = config_for(server_id_, "");
  sc.handshake_timeout_ms = 300;
  auto server_t = make(sc);
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  Side server, client;
  open(*server_t, *client_t, "localhost", server, client);
  ASSERT_TRUE(run_until([&] { return server.connected && client.connected; }));
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  run_until([&] { return std::chrono::steady_clock::now() > until; });
  EXPECT_FALSE(server.failed);
  exchange(client, server, "still here");
}

TEST_F(TlsTransportTest, ReloadKeepsLiveConnectionsAndServesTheNewCertificate) {
  auto server_t = make(config_for(server_id_, ""));
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  Side server1, client1;
  open(*server_t, *client_t, "localhost", server1, client1);
  ASSERT_TRUE(run_until([&] { return server1.connected && client1.connected; }));
  EXPECT_EQ(peer_serial(client1.bev), "100");

  // A failed reload changes nothing.
  TlsConfig broken = config_for(server_id_, "");
  broken.private_key.path = dir_.file("gone.key");
  const auto before = server_t->contexts();
  auto err = server_t->reload(broken);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("tls.private_key: " + dir_.file("gone.key")), std::string::npos) << *err;
  EXPECT_EQ(server_t->contexts(), before);

  // Renew the certificate in place (same paths), reload.
  pki_.issue("server", "localhost", "DNS:localhost,IP:127.0.0.1", 101);
  ASSERT_FALSE(server_t->reload(config_for(server_id_, "")).has_value());
  EXPECT_EQ(server_t->info()["reloads"], 1);
  EXPECT_EQ(server_t->info()["certificates"][0]["serial"], "65");

  exchange(client1, server1, "old connection lives");
  exchange(server1, client1, "and answers");
  Side server2, client2;
  open(*server_t, *client_t, "localhost", server2, client2);
  ASSERT_TRUE(run_until([&] { return server2.connected && client2.connected; }));
  EXPECT_EQ(peer_serial(client2.bev), "101");
  EXPECT_EQ(server_t->list()["count"], 2);
}

}  // namespace
}  // namespace strowger::modules::tls::testing
