// The tls: section parser and the start-up checks of ContextSet::build: each error names the
// setting and the file an operator has to fix.
#include "modules/tls/tls_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "modules/tls/tls_context.h"
#include "tests/unit/tls/transport_fixture.h"

namespace strowger::modules::tls {
namespace {

using testing::config_for;
using testing::Identity;
using testing::PkiTest;

TEST(TlsConfig, NoSectionMeansNotConfigured) {
  auto r = parse_tls_config("workers: 2\n", "sipproxy.yaml", "/etc/strowger");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST(TlsConfig, ReadsEveryKeyAndResolvesRelativePaths) {
  const std::string text =
      "workers: 2\n"
      "tls:\n"
      "  certificate: certs/server.pem\n"
      "  private_key: /abs/server.key\n"
      "  ca_list: ca.pem\n"
      "  verify_client: optional\n"
      "  verify_server: false\n"
      "  min_version: TLSv1.3\n"
      "  ciphers: ECDHE+AESGCM\n"
      "  ciphersuites: TLS_AES_128_GCM_SHA256\n"
      "  handshake_timeout_ms: 2500\n"
      "  sni:\n"
      "    - {server_name: Sip.Example.COM, certificate: a.pem, private_key: a.key}\n";
  auto r = parse_tls_config(text, "/etc/strowger/sipproxy.yaml", "/etc/strowger");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  const TlsConfig& c = **r;
  EXPECT_EQ(c.certificate.path, "/etc/strowger/certs/server.pem");
  EXPECT_EQ(c.certificate.where, "/etc/strowger/sipproxy.yaml:3");
  EXPECT_EQ(c.private_key.path, "/abs/server.key");
  EXPECT_EQ(c.ca_list.path, "/etc/strowger/ca.pem");
  EXPECT_EQ(c.verify_client, VerifyClient::kOptional);
  EXPECT_FALSE(c.verify_server);
  EXPECT_EQ(c.min_version, TLS1_3_VERSION);
  EXPECT_EQ(c.ciphers, "ECDHE+AESGCM");
  EXPECT_EQ(c.ciphersuites, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(c.handshake_timeout_ms, 2500);
  ASSERT_EQ(c.sni.size(), 1u);
  EXPECT_EQ(c.sni[0].server_name, "sip.example.com");
  EXPECT_EQ(c.sni[0].certificate.key, "tls.sni[0].certificate");
  EXPECT_EQ(c.sni[0].private_key.path, "/etc/strowger/a.key");
}

TEST(TlsConfig, DefaultsAreSafe) {
  auto r = parse_tls_config("tls: {certificate: c.pem, private_key: k.pem}\n", "s.yaml", "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const TlsConfig& c = **r;
  EXPECT_EQ(c.min_version, TLS1_2_VERSION);
  EXPECT_EQ(c.verify_client, VerifyClient::kNone);
  EXPECT_TRUE(c.verify_server);
  EXPECT_EQ(c.ciphers, kDefaultCiphers);
  EXPECT_EQ(c.handshake_timeout_ms, 5000);
}

TEST(TlsConfig, RefusesBadSettingsWithFileAndLine) {
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"tls:\n  certificate: c\n  private_key: k\n  min_version: TLSv1.1\n",
       "s.yaml:4: tls.min_version must be TLSv1.2 or TLSv1.3"},
      {"tls:\n  certificate: c\n  private_key: k\n  certifcate: x\n",
       "s.yaml:4: unknown setting 'certifcate' in tls"},
      {"tls:\n  certificate: c\n", "tls.private_key is required"},
      {"tls:\n  certificate: c\n  private_key: k\n  verify_client: maybe\n",
       "s.yaml:4: tls.verify_client must be none, optional or required"},
      {"tls:\n  certificate: c\n  private_key: k\n  verify_client: required\n",
       "tls.verify_client required needs tls.ca_list"},
      {"tls:\n  certificate: c\n  private_key: k\n  handshake_timeout_ms: -1\n",
       "tls.handshake_timeout_ms must be between"},
      {"tls:\n  certificate: c\n  private_key: k\n  sni: [{server_name: a, certificate: c}]\n",
       "tls.sni[0] needs server_name, certificate and private_key"},
      {"tls: [\n", "s.yaml:"},
  };
  for (const Case& c : cases) {
    auto r = parse_tls_config(c.text, "s.yaml", "");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << r.error().message << " <- " << c.text;
  }
}

TEST(TlsConfig, LoadReportsAnUnreadableConfigFile) {
  auto r = load_tls_config("/nonexistent/sipproxy.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/sipproxy.yaml"), std::string::npos);
}

class TlsContextBuild : public PkiTest {};

TEST_F(TlsContextBuild, BuildsFromValidFilesAndDescribesTheCertificate) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost,IP:127.0.0.1", 42);
  auto set = ContextSet::build(config_for(id, pki_.ca_file()));
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ((*set)->certificates().size(), 1u);
  EXPECT_EQ((*set)->certificates()[0].serial, "2A");
  EXPECT_NE((*set)->certificates()[0].subject.find("CN=localhost"), std::string::npos);
  EXPECT_NE((*set)->server(), nullptr);
  EXPECT_NE((*set)->client(), nullptr);
}

TEST_F(TlsContextBuild, MissingCertificateNamesKeyAndFile) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  TlsConfig c = config_for(id);
  c.certificate.path = dir_.file("nope.pem");
  c.certificate.where = "sipproxy.yaml:7";
  auto set = ContextSet::build(c);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().message, "sipproxy.yaml:7: tls.certificate: " + dir_.file("nope.pem") +
                                     ": No such file or directory");
}

TEST_F(TlsContextBuild, MissingKeyNamesKeyAndFile) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  TlsConfig c = config_for(id);
  c.private_key.path = dir_.file("nope.key");
  auto set = ContextSet::build(c);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().message,
            "tls.private_key: " + dir_.file("nope.key") + ": No such file or directory");
}

TEST_F(TlsContextBuild, KeyThatDoesNotMatchIsRefused) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  TlsConfig c = config_for(id);
  c.private_key.path = pki_.stray_key("other");
  auto set = ContextSet::build(c);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("tls.private_key: " + c.private_key.path +
                                     " does not match the certificate " + id.certificate),
            std::string::npos)
      << set.error().message;
}

TEST_F(TlsContextBuild, GarbageFilesAreErrorsNotCrashes) {
  const std::string junk = dir_.file("junk.pem");
  std::ofstream(junk) << "not a certificate\n";
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  TlsConfig c = config_for(id);
  c.certificate.path = junk;
  auto set = ContextSet::build(c);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("tls.certificate: " + junk), std::string::npos);
  c = config_for(id);
  c.private_key.path = junk;
  set = ContextSet::build(c);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("tls.private_key: " + junk), std::string::npos);
}

TEST_F(TlsContextBuild, ExpiredCertificateNamesFileAndDate) {
  Identity id = pki_.issue("old", "localhost", "DNS:localhost", 3, -86400 * 10, -86400 * 2);
  auto set = ContextSet::build(config_for(id));
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("tls.certificate: " + id.certificate +
                                     ": certificate expired on 20"),
            std::string::npos)
      << set.error().message;
}

TEST_F(TlsContextBuild, NotYetValidCertificateNamesFileAndDate) {
  Identity id = pki_.issue("future", "localhost", "DNS:localhost", 4, 86400 * 2, 86400 * 10);
  auto set = ContextSet::build(config_for(id));
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find(id.certificate + ": certificate is not valid before 20"),
            std::string::npos)
      << set.error().message;
}

TEST_F(TlsContextBuild, MissingCaListNamesTheConfiguredPath) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  auto set = ContextSet::build(config_for(id, dir_.file("calist.pem")));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().message,
            "tls.ca_list: " + dir_.file("calist.pem") + ": No such file or directory");
}

TEST_F(TlsContextBuild, CaListWithoutCertificatesIsRefused) {
  const std::string empty = dir_.file("empty.pem");
  std::ofstream(empty) << "\n";
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  auto set = ContextSet::build(config_for(id, empty));
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("tls.ca_list: " + empty), std::string::npos);
}

TEST_F(TlsContextBuild, UnusableCipherListIsRefused) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  TlsConfig c = config_for(id);
  c.ciphers = "NOT-A-CIPHER";
  auto set = ContextSet::build(c);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("tls.ciphers"), std::string::npos);
}

TEST_F(TlsContextBuild, SniNamesExactAndWildcard) {
  Identity id = pki_.issue("server", "localhost", "DNS:localhost", 2);
  Identity a = pki_.issue("a", "a.example.com", "DNS:a.example.com", 5);
  Identity w = pki_.issue("w", "*.example.org", "DNS:*.example.org", 6);
  TlsConfig c = config_for(id);
  c.sni.push_back({"a.example.com",
                   {"tls.sni[0].certificate", a.certificate, ""},
                   {"tls.sni[0].private_key", a.private_key, ""}});
  c.sni.push_back({"*.example.org",
                   {"tls.sni[1].certificate", w.certificate, ""},
                   {"tls.sni[1].private_key", w.private_key, ""}});
  auto set = ContextSet::build(c);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_NE((*set)->for_server_name("A.Example.com"), nullptr);
  EXPECT_NE((*set)->for_server_name("sip.example.org"), nullptr);
  EXPECT_NE((*set)->for_server_name("a.example.com"), (*set)->for_server_name("x.example.org"));
  EXPECT_EQ((*set)->for_server_name("b.example.com"), nullptr);
  EXPECT_EQ((*set)->for_server_name("a.b.example.org"), nullptr);  // one label only
  EXPECT_EQ((*set)->for_server_name("localhost"), nullptr);
  EXPECT_EQ((*set)->certificates().size(), 3u);

  c.sni[1].private_key.path = dir_.file("missing.key");
  auto bad = ContextSet::build(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("tls.sni[1].private_key: " + dir_.file("missing.key")),
            std::string::npos);
}

}  // namespace
}  // namespace strowger::modules::tls
