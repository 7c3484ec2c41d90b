// OpenSSL wrapped once: RAII handles, and ContextSet, the immutable set of SSL_CTX built from a
// TlsConfig (server default + SNI certificates + client side). A reload builds a new set and
// swaps it; SSL objects made from the old one keep it alive until they are freed.
#pragma once
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "modules/tls/tls_config.h"

namespace strowger::modules::tls {

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// What tls.info shows of a loaded certificate.
struct CertificateInfo {
  std::string server_name;  // "" for the default certificate
  std::string file;
  std::string subject;
  std::string issuer;
  std::string serial;  // hex
  std::string not_before;
  std::string not_after;  // ISO 8601 UTC
};

class ContextSet {
 public:
  // Loads and checks every file (readable, key matches certificate, dates valid, CA list
  // loads); the error names the setting and the file.
  static common::Result<std::shared_ptr<const ContextSet>> build(const TlsConfig& config);

  SSL_CTX* server() const { return server_.get(); }
  SSL_CTX* client() const { return client_.get(); }
  // The context of an SNI certificate for name (exact, then "*.parent"); nullptr: the default.
  SSL_CTX* for_server_name(std::string_view name) const;
  const TlsConfig& config() const { return config_; }
  const std::vector<CertificateInfo>& certificates() const { return certificates_; }

  ContextSet(const ContextSet&) = delete;
  ContextSet& operator=(const ContextSet&) = delete;
  ContextSet() = default;

 private:
  struct SniContext {
    std::string server_name;
    SslCtxPtr ctx;
  };
  TlsConfig config_;
  SslCtxPtr server_;
  SslCtxPtr client_;
  std::vector<SniContext> sni_;
  std::vector<CertificateInfo> certificates_;
};

// The thread's OpenSSL error queue as text (and emptied), "" when empty.
std::string openssl_errors();
// ASN1_TIME as "2026-01-31T12:00:00Z".
std::string asn1_time_iso(const ASN1_TIME* t);
// A certificate name as one RFC 2253 line ("CN=localhost,O=Strowger dev").
std::string x509_name_text(const X509_NAME* name);
// Reads the first certificate of a PEM file; the error is errno's text or OpenSSL's.
common::Result<X509Ptr> read_certificate(const std::string& path);

}  // namespace strowger::modules::tls
