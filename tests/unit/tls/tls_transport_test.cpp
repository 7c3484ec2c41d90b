// TlsTransport handshakes on a real event loop over loopback: data both ways, the session table
// behind tls.list, TLS 1.2, SNI, and server verification (unknown CA, host name, IP SAN).
#include "tests/unit/tls/transport_fixture.h"

// In the fixture's namespace: its pieces by their own names.
namespace strowger::modules::tls::testing {
namespace {

TEST_F(TlsTransportTest, HandshakeCarriesDataAndIsListed) {
  auto server_t = make(config_for(server_id_, pki_.ca_file()));
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  Side server, client;
  open(*server_t, *client_t, "localhost", server, client);
  ASSERT_TRUE(run_until(
      [&] { return (server.connected && client.connected) || server.failed || client.failed; }));
  ASSERT_TRUE(server.connected && client.connected)
      << server_t->last_error(server.bev) << " / " << client_t->last_error(client.bev);
  exchange(client, server, "REGISTER sip:localhost SIP/2.0\r\n\r\n");
  exchange(server, client, "SIP/2.0 200 OK\r\n\r\n");

  const auto in = server_t->list();
  ASSERT_EQ(in["count"], 1);
  const auto& row = in["connections"][0];
  EXPECT_EQ(row["id"], 1);
  EXPECT_EQ(row["direction"], "in");
  EXPECT_EQ(row["remote"], "127.0.0.1:40000");
  EXPECT_EQ(row["version"], "TLSv1.3");
  EXPECT_FALSE(row["cipher"].get<std::string>().empty());
  EXPECT_EQ(row["server_name"], "localhost");
  EXPECT_EQ(row["peer_subject"], "");  // verify_client none: no certificate asked
  EXPECT_FALSE(row["local_certificate_expiry"].get<std::string>().empty());
  const auto out = client_t->list();
  ASSERT_EQ(out["count"], 1);
  EXPECT_EQ(out["connections"][0]["direction"], "out");
  EXPECT_EQ(out["connections"][0]["server_name"], "localhost");
  EXPECT_NE(out["connections"][0]["peer_subject"].get<std::string>().find("CN=localhost"),
            std::string::npos);
  EXPECT_TRUE(out["connections"][0]["peer_verified"].get<bool>());

  server.close();
  client.close();
  // libevent finalizes a freed bufferevent (and so frees the SSL) on its next loop pass.
  EXPECT_TRUE(
      run_until([&] { return server_t->list()["count"] == 0 && client_t->list()["count"] == 0; }));
  EXPECT_EQ(server_t->info()["handshakes"]["completed"], 1);
  EXPECT_EQ(server_t->info()["handshakes"]["failed"], 0);
}

TEST_F(TlsTransportTest, Tls12WhenTheClientCapsIt) {
  auto server_t = make(config_for(server_id_, pki_.ca_file()));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  auto [c, s] = tcp_pair();
  Side client, server;
  client.bev = raw_client(ctx, c);
  client.watch();
  std::string err;
  server.bev = server_t->accept(base_, s, info(7, false), &err);
  server.watch();
  ASSERT_TRUE(run_until([&] { return server.connected || server.failed; }));
  ASSERT_TRUE(server.connected) << server_t->last_error(server.bev);
  EXPECT_EQ(server_t->list()["connections"][0]["version"], "TLSv1.2");
  EXPECT_NE(server_t->list()["connections"][0]["cipher"].get<std::string>().find("ECDHE"),
            std::string::npos);
  client.close();
  SSL_CTX_free(ctx);
}

TEST_F(TlsTransportTest, OutboundToAnIpChecksTheIpSan) {
  auto server_t = make(config_for(server_id_, ""));
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  Side server, client;
  open(*server_t, *client_t, "", server, client);  // no name: the remote IP 127.0.0.1
  ASSERT_TRUE(run_until([&] { return client.connected || client.failed; }));
  EXPECT_TRUE(client.connected) << client_t->last_error(client.bev);
  EXPECT_EQ(client_t->list()["connections"][0]["server_name"], "");
}

TEST_F(TlsTransportTest, SniSelectsTheCertificate) {
  Identity alt = pki_.issue("alt", "alt.test", "DNS:alt.test", 300);
  TlsConfig sc = config_for(server_id_, "");
  sc.sni.push_back({"alt.test",
                    {"tls.sni[0].certificate", alt.certificate, ""},
                    {"tls.sni[0].private_key", alt.private_key, ""}});
  auto server_t = make(sc);
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  {
    Side server, client;
    open(*server_t, *client_t, "alt.test", server, client);
    ASSERT_TRUE(run_until([&] { return client.connected || client.failed; }));
    ASSERT_TRUE(client.connected) << client_t->last_error(client.bev);
    EXPECT_EQ(peer_serial(client.bev), "300");
    ASSERT_TRUE(run_until([&] { return server.connected; }));
    EXPECT_EQ(server_t->list()["connections"][0]["server_name"], "alt.test");
  }
  {
    Side server, client;
    open(*server_t, *client_t, "localhost", server, client);
    ASSERT_TRUE(run_until([&] { return client.connected || client.failed; }));
    ASSERT_TRUE(client.connected) << client_t->last_error(client.bev);
    EXPECT_EQ(peer_serial(client.bev), "100");
  }
}

TEST_F(TlsTransportTest, UnknownCaFailsVerificationOnBothSides) {
  TempDir other_dir;
  TestPki other(other_dir.path(), "other");
  auto server_t = make(config_for(server_id_, ""));
  auto client_t = make(config_for(client_id_, other.ca_file()));
  Side server, client;
  open(*server_t, *client_t, "localhost", server, client);
  ASSERT_TRUE(run_until([&] { return client.failed && server.failed; }));
  EXPECT_FALSE(client.connected);
  EXPECT_FALSE(server.connected);
  const std::string why = client_t->last_error(client.bev);
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;
  EXPECT_NE(server_t->last_error(server.bev).find("peer sent alert"), std::string::npos)
      << server_t->last_error(server.bev);
  EXPECT_EQ(server_t->list()["count"], 0);
  server.close();
  client.close();
  EXPECT_TRUE(run_until([&] { return server_t->info()["handshakes"]["failed"] == 1; }));
}

TEST_F(TlsTransportTest, WrongHostNameFailsVerification) {
  auto server_t = make(config_for(server_id_, ""));
  auto client_t = make(config_for(client_id_, pki_.ca_file()));
  Side server, client;
  open(*server_t, *client_t, "sip.elsewhere.test", server, client);
  ASSERT_TRUE(run_until([&] { return client.failed; }));
  EXPECT_NE(client_t->last_error(client.bev).find("hostname mismatch"), std::string::npos)
      << client_t->last_error(client.bev);
}

TEST_F(TlsTransportTest, VerifyServerOffAcceptsAnyCertificate) {
  TempDir other_dir;
  TestPki other(other_dir.path(), "other");
  TlsConfig cc = config_for(client_id_, other.ca_file());
  cc.verify_server = false;
  auto server_t = make(config_for(server_id_, ""));
  auto client_t = make(cc);
  Side server, client;
  open(*server_t, *client_t, "sip.elsewhere.test", server, client);
  ASSERT_TRUE(run_until([&] { return client.connected || client.failed; }));
  EXPECT_TRUE(client.connected) << client_t->last_error(client.bev);
}

}  // namespace
}  // namespace strowger::modules::tls::testing
