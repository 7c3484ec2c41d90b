// TestPki: certificates for the tls unit tests, built with OpenSSL's X509 API.
#include "tests/unit/tls/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace strowger::modules::tls::testing {
namespace {

EVP_PKEY* new_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* make_cert(EVP_PKEY* key, const std::string& cn, long serial, long nb, long na, X509* issuer) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), nb);
  X509_gmtime_adj(X509_getm_notAfter(cert), na);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Strowger test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

void write_cert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  PEM_write_X509(f, cert);
  std::fclose(f);
}

void write_key(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

}  // namespace

TestPki::TestPki(std::string dir, std::string name) : dir_(std::move(dir)) {
  EVP_PKEY* key = new_key();
  X509* cert = make_cert(key, name, 1, -86400, 86400 * 365, nullptr);
  add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert, cert, NID_subject_key_identifier, "hash");
  X509_sign(cert, key, EVP_sha256());
  ca_file_ = dir_ + "/" + name + "-ca.pem";
  write_cert(ca_file_, cert);
  ca_cert_ = cert;
  ca_key_ = key;
}

TestPki::~TestPki() {
  X509_free(static_cast<X509*>(ca_cert_));
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
}

Identity TestPki::issue(const std::string& file_stem, const std::string& cn,
                        const std::string& sans, long serial, long not_before_s,
                        long not_after_s) const {
  auto* ca = static_cast<X509*>(ca_cert_);
  auto* ca_key = static_cast<EVP_PKEY*>(ca_key_);
  EVP_PKEY* key = new_key();
  X509* cert = make_cert(key, cn, serial, not_before_s, not_after_s, ca);
  add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert, ca, NID_ext_key_usage, "serverAuth,clientAuth");
  if (!sans.empty()) add_ext(cert, ca, NID_subject_alt_name, sans);
  X509_sign(cert, ca_key, EVP_sha256());
  Identity id{dir_ + "/" + file_stem + ".pem", dir_ + "/" + file_stem + ".key"};
  write_cert(id.certificate, cert);
  write_key(id.private_key, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return id;
}

std::string TestPki::stray_key(const std::string& file_stem) const {
  EVP_PKEY* key = new_key();
  const std::string path = dir_ + "/" + file_stem + ".key";
  write_key(path, key);
  EVP_PKEY_free(key);
  return path;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/strowger-tls-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace strowger::modules::tls::testing
