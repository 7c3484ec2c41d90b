// OpenSSL calls of the auth module (nothing else in it touches libcrypto).
#include "modules/auth/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace strowger::modules::auth {

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

namespace {

// OpenSSL 3 looks an algorithm up in its provider store (locks, property matching) on every
// EVP_Digest/HMAC call with EVP_md5()/EVP_sha256(), and HMAC() allocates a context each time;
// a profile of authenticated REGISTERs showed libcrypto at 16% of the proxy's CPU, spread over
// that bookkeeping. So the algorithms are fetched once and each thread keeps its contexts.
const EVP_MD* fetched(Algorithm algorithm) {
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm == Algorithm::kMd5 ? md5 : sha256;
}

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

struct MacCtx {
  MacCtx() {
    if (EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr)) {
      ctx = EVP_MAC_CTX_new(mac);
      EVP_MAC_free(mac);  // the context holds its own reference
      char digest_name[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
          OSSL_PARAM_construct_end()};
      // The digest is set once: EVP_MAC_init with a key and no parameters then only re-keys.
      if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = nullptr;
      }
    }
  }
  ~MacCtx() { EVP_MAC_CTX_free(ctx); }
  EVP_MAC_CTX* ctx = nullptr;
};

}  // namespace

std::string hex_digest(Algorithm algorithm, std::string_view data) {
  thread_local MdCtx c;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = fetched(algorithm);
  if (!c.ctx || !type || EVP_DigestInit_ex2(c.ctx, type, nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx, md, &len) != 1)
    return {};
  return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local MacCtx c;
  unsigned char md[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  if (!c.ctx ||
      EVP_MAC_init(c.ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) !=
          1 ||
      EVP_MAC_update(c.ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(c.ctx, md, &len, sizeof md) != 1)
    return {};
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) return {};
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace strowger::modules::auth
