// Building a ContextSet: file checks with errors that name the setting, SSL_CTX settings shared
// by server and client sides, and the SNI callback.
#include "modules/tls/tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/log.h"

namespace strowger::modules::tls {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr const unsigned char kSessionIdContext[] = "strowger-sipproxy";
constexpr int kExpiryWarningDays = 30;

// Never prompt on the terminal for a passphrase: an encrypted key is a start-up error.
int no_password(char*, int, int, void*) {
  return 0;
}

// fopen first: its errno ("No such file or directory", "Permission denied") says more than
// OpenSSL's "system library" error.
common::Result<BioPtr> open_file(const std::string& path) {
  errno = 0;
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return common::Error{errno, path + ": " + std::strerror(errno)};
  BioPtr bio(BIO_new_fp(f, BIO_CLOSE));
  if (!bio) {
    std::fclose(f);
    return common::Error{0, path + ": " + openssl_errors()};
  }
  return bio;
}

common::Error file_error(const FileSetting& f, const std::string& what) {
  return common::Error{0, (f.where.empty() ? "" : f.where + ": ") + f.key + ": " + what};
}

CertificateInfo describe_certificate(X509* cert, const std::string& file,
                                     const std::string& server_name) {
  CertificateInfo info;
  info.server_name = server_name;
  info.file = file;
  info.subject = x509_name_text(X509_get_subject_name(cert));
  info.issuer = x509_name_text(X509_get_issuer_name(cert));
  info.not_before = asn1_time_iso(X509_get0_notBefore(cert));
  info.not_after = asn1_time_iso(X509_get0_notAfter(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      info.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  return info;
}

// Certificate chain + key into ctx, with the checks operators need spelled out.
common::Result<CertificateInfo> load_identity(SSL_CTX* ctx, const FileSetting& cert_file,
                                              const FileSetting& key_file,
                                              const std::string& server_name, bool warn = true) {
  auto cert = read_certificate(cert_file.path);
  if (!cert) return file_error(cert_file, cert.error().message);
  const std::string when_file = cert_file.key + " " + cert_file.path;
  if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) <= 0)
    return file_error(cert_file, cert_file.path + ": certificate expired on " +
                                     asn1_time_iso(X509_get0_notAfter(cert->get())));
  if (X509_cmp_current_time(X509_get0_notBefore(cert->get())) >= 0)
    return file_error(cert_file, cert_file.path + ": certificate is not valid before " +
                                     asn1_time_iso(X509_get0_notBefore(cert->get())));
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.path.c_str()) != 1)
    return file_error(cert_file, cert_file.path + ": " + openssl_errors());

  auto key_bio = open_file(key_file.path);
  if (!key_bio) return file_error(key_file, key_bio.error().message);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio->get(), nullptr, no_password, nullptr));
  if (!key) {
    openssl_errors();
    return file_error(key_file,
                      key_file.path + ": no readable private key (PEM, not encrypted) in the file");
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    openssl_errors();
    return file_error(key_file, key_file.path + " does not match the certificate " +
                                    cert_file.path + " (" + cert_file.key + ")");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
    return file_error(key_file, key_file.path + ": " + openssl_errors());

  CertificateInfo info = describe_certificate(cert->get(), cert_file.path, server_name);
  const std::time_t soon = std::time(nullptr) + kExpiryWarningDays * 86400;
  std::time_t soon_copy = soon;
  if (warn && X509_cmp_time(X509_get0_notAfter(cert->get()), &soon_copy) <= 0)
    LOG_WARN("tls: %s expires on %s", when_file.c_str(), info.not_after.c_str());
  return info;
}

std::optional<common::Error> configure_common(SSL_CTX* ctx, const TlsConfig& config) {
  SSL_CTX_set_min_proto_version(ctx, config.min_version);
  // No renegotiation: client-initiated renegotiation is a cheap CPU-exhaustion attack, and SIP
  // over TLS has no use for it. RELEASE_BUFFERS: thousands of idle phones keep connections.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb(ctx, no_password);
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(ctx, config.ciphers.c_str()) != 1) {
    openssl_errors();
    return common::Error{0, "tls.ciphers: no usable TLS 1.2 cipher in '" + config.ciphers + "'"};
  }
  if (!config.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, config.ciphersuites.c_str()) != 1) {
    openssl_errors();
    return common::Error{
        0, "tls.ciphersuites: no usable TLS 1.3 suite in '" + config.ciphersuites + "'"};
  }
  return std::nullopt;
}

std::optional<common::Error> load_ca_list(SSL_CTX* ctx, const FileSetting& ca, bool client_ca) {
  // Open it ourselves first so a missing file is reported with the configured path and errno.
  auto bio = open_file(ca.path);
  if (!bio) return file_error(ca, bio.error().message);
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx, ca.path.c_str(), nullptr) != 1)
    return file_error(ca, ca.path + ": no CA certificate could be loaded: " + openssl_errors());
  if (client_ca) {
    // The CA names a server sends in its CertificateRequest, so phones pick the right cert.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.path.c_str());
    if (!names) return file_error(ca, ca.path + ": no CA certificate names: " + openssl_errors());
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  return std::nullopt;
}

// The SNI callback: arg is the ContextSet the SSL was made from (SessionState keeps it alive).
int on_server_name(SSL* ssl, int*, void* arg) {
  const auto* set = static_cast<const ContextSet*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || !set) return SSL_TLSEXT_ERR_OK;
  if (SSL_CTX* ctx = set->for_server_name(name)) SSL_set_SSL_CTX(ssl, ctx);
  // An unknown name gets the default certificate rather than a fatal alert: phones often send
  // the proxy's IP or an outdated name and still trust the default certificate.
  return SSL_TLSEXT_ERR_OK;
}

common::Result<SslCtxPtr> make_server_ctx(const TlsConfig& config) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return common::Error{0, "tls: cannot create an SSL_CTX: " + openssl_errors()};
  if (auto err = configure_common(ctx.get(), config)) return *err;
  SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof kSessionIdContext - 1);
  int mode = SSL_VERIFY_NONE;
  if (config.verify_client == VerifyClient::kOptional) mode = SSL_VERIFY_PEER;
  if (config.verify_client == VerifyClient::kRequired)
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  if (!config.ca_list.empty()) {
    if (auto err = load_ca_list(ctx.get(), config.ca_list, true)) return *err;
  }
  return ctx;
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    // Keep the reason only: "error:0A000086:SSL routines::certificate verify failed".
    const char* reason = std::strrchr(buf, ':');
    out += reason && reason[1] ? reason + 1 : buf;
  }
  return out;
}

std::string asn1_time_iso(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string x509_name_text(const X509_NAME* name) {
  if (!name) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

common::Result<X509Ptr> read_certificate(const std::string& path) {
  auto bio = open_file(path);
  if (!bio) return bio.error();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, no_password, nullptr));
  if (!cert) {
    openssl_errors();
    return common::Error{0, path + ": no PEM certificate in the file"};
  }
  return cert;
}

common::Result<std::shared_ptr<const ContextSet>> ContextSet::build(const TlsConfig& config) {
  auto set = std::make_shared<ContextSet>();
  set->config_ = config;

  auto server = make_server_ctx(config);
  if (!server) return server.error();
  set->server_ = std::move(*server);
  auto identity = load_identity(set->server_.get(), config.certificate, config.private_key, "");
  if (!identity) return identity.error();
  set->certificates_.push_back(std::move(*identity));

  for (const SniCertificate& sni : config.sni) {
    auto ctx = make_server_ctx(config);
    if (!ctx) return ctx.error();
    auto info = load_identity(ctx->get(), sni.certificate, sni.private_key, sni.server_name);
    if (!info) return info.error();
    set->certificates_.push_back(std::move(*info));
    set->sni_.push_back({sni.server_name, std::move(*ctx)});
  }
  // Only the default context sees the ClientHello; the callback may switch to an SNI one.
  SSL_CTX_set_tlsext_servername_callback(set->server_.get(), on_server_name);
  SSL_CTX_set_tlsext_servername_arg(set->server_.get(), set.get());

  SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
  if (!client) return common::Error{0, "tls: cannot create an SSL_CTX: " + openssl_errors()};
  if (auto err = configure_common(client.get(), config)) return *err;
  if (config.verify_server) {
    SSL_CTX_set_verify(client.get(), SSL_VERIFY_PEER, nullptr);
    if (!config.ca_list.empty()) {
      if (auto err = load_ca_list(client.get(), config.ca_list, false)) return *err;
    } else if (SSL_CTX_set_default_verify_paths(client.get()) != 1) {
      return common::Error{0, "tls: cannot load the system CA store: " + openssl_errors()};
    }
  }
  // Our certificate doubles as the client certificate towards peers that ask (proxy trunks).
  auto client_identity =
      load_identity(client.get(), config.certificate, config.private_key, "", false);
  if (!client_identity) return client_identity.error();
  set->client_ = std::move(client);
  return std::shared_ptr<const ContextSet>(std::move(set));
}

SSL_CTX* ContextSet::for_server_name(std::string_view name) const {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const SniContext& s : sni_) {
    if (s.server_name == lower) return s.ctx.get();
  }
  const std::size_t dot = lower.find('.');
  if (dot == std::string::npos) return nullptr;
  const std::string wildcard = "*" + lower.substr(dot);
  for (const SniContext& s : sni_) {
    if (s.server_name == wildcard) return s.ctx.get();
  }
  return nullptr;
}

}  // namespace strowger::modules::tls
