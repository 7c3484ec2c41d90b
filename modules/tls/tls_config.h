// The tls module's settings: the `tls:` section of sipproxy.yaml, read with the shared YAML reader.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace strowger::modules::tls {

enum class VerifyClient { kNone, kOptional, kRequired };

// A path from the config with where it was set, so errors name both the key and the file.
struct FileSetting {
  std::string key;    // "tls.certificate", "tls.sni[1].private_key"
  std::string path;   // absolute (relative ones are resolved against the config directory)
  std::string where;  // "sipproxy.yaml:12" or empty when not from a file (tests)
  bool empty() const { return path.empty(); }
};

struct SniCertificate {
  std::string server_name;  // exact name, or "*.example.com" for one label
  FileSetting certificate;
  FileSetting private_key;
};

struct TlsConfig {
  FileSetting certificate;
  FileSetting private_key;
  FileSetting ca_list;  // empty: client certificates cannot verify; servers use the system store
  VerifyClient verify_client = VerifyClient::kNone;
  bool verify_server = true;
  int min_version = 0;                       // TLS1_2_VERSION unless set; TLS1_3_VERSION allowed
  std::string ciphers;                       // TLS 1.2 cipher list (OpenSSL syntax)
  std::string ciphersuites;                  // TLS 1.3 suites; empty: OpenSSL's defaults
  std::int64_t handshake_timeout_ms = 5000;  // 0: none
  std::vector<SniCertificate> sni;
};

inline constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Reads the `tls:` section of config_file (relative paths against config_dir). nullopt inside
// the Result: the file has no tls section (the module then idles). Errors are
// "file:line: message".
common::Result<std::optional<TlsConfig>> load_tls_config(const std::string& config_file,
                                                         const std::string& config_dir);

// The same from YAML text (name is used in errors): unit tests and the loader share it.
common::Result<std::optional<TlsConfig>> parse_tls_config(const std::string& text,
                                                          const std::string& name,
                                                          const std::string& config_dir);

// "where: key: path: " prefix of an error about a configured file.
std::string describe(const FileSetting& f);

}  // namespace strowger::modules::tls
