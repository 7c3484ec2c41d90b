// Parsing of sipproxy.yaml's `tls:` section into TlsConfig (files are checked later, when the
// contexts are built, so a reload re-checks them too).
#include "modules/tls/tls_config.h"

#include <openssl/ssl.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "common/yaml_reader.h"

namespace strowger::modules::tls {
namespace {

std::string resolve(const std::string& path, const std::string& dir) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir.back() == '/' ? dir + path : dir + "/" + path;
}

FileSetting file_setting(const common::YamlReader& r, const YAML::Node& n, const std::string& key,
                         const std::string& dir) {
  FileSetting f;
  f.key = key;
  f.path = resolve(r.str(n, key), dir);
  f.where = r.file() + ":" + std::to_string(n.Mark().line + 1);
  if (f.path.empty()) r.fail(n, key + " must not be empty");
  return f;
}

TlsConfig parse_section(const common::YamlReader& r, const YAML::Node& tls,
                        const std::string& dir) {
  r.only_keys(tls,
              {"certificate", "private_key", "ca_list", "verify_client", "verify_server",
               "min_version", "ciphers", "ciphersuites", "handshake_timeout_ms", "sni"},
              "tls");
  TlsConfig c;
  if (!tls["certificate"]) r.fail(tls, "tls.certificate is required");
  if (!tls["private_key"]) r.fail(tls, "tls.private_key is required");
  c.certificate = file_setting(r, tls["certificate"], "tls.certificate", dir);
  c.private_key = file_setting(r, tls["private_key"], "tls.private_key", dir);
  if (tls["ca_list"]) c.ca_list = file_setting(r, tls["ca_list"], "tls.ca_list", dir);
  if (tls["verify_client"]) {
    const std::string v = r.str(tls["verify_client"], "tls.verify_client");
    if (v == "none") {
      c.verify_client = VerifyClient::kNone;
    } else if (v == "optional") {
      c.verify_client = VerifyClient::kOptional;
    } else if (v == "required") {
      c.verify_client = VerifyClient::kRequired;
    } else {
      r.fail(tls["verify_client"], "tls.verify_client must be none, optional or required");
    }
    if (c.verify_client != VerifyClient::kNone && c.ca_list.empty())
      r.fail(tls["verify_client"], "tls.verify_client " + v + " needs tls.ca_list");
  }
  if (tls["verify_server"]) c.verify_server = r.boolean(tls["verify_server"], "tls.verify_server");
  c.min_version = TLS1_2_VERSION;
  if (tls["min_version"]) {
    const std::string v = r.str(tls["min_version"], "tls.min_version");
    if (v == "TLSv1.2") {
      c.min_version = TLS1_2_VERSION;
    } else if (v == "TLSv1.3") {
      c.min_version = TLS1_3_VERSION;
    } else {
      // TLS 1.0/1.1 are broken (RFC 8996); refusing them here beats a silent downgrade.
      r.fail(tls["min_version"], "tls.min_version must be TLSv1.2 or TLSv1.3, not '" + v + "'");
    }
  }
  c.ciphers = tls["ciphers"] ? r.str(tls["ciphers"], "tls.ciphers") : kDefaultCiphers;
  if (tls["ciphersuites"]) c.ciphersuites = r.str(tls["ciphersuites"], "tls.ciphersuites");
  if (tls["handshake_timeout_ms"])
    c.handshake_timeout_ms =
        r.integer(tls["handshake_timeout_ms"], "tls.handshake_timeout_ms", 0, 600000);
  if (const YAML::Node sni = tls["sni"]) {
    if (!sni.IsSequence()) r.fail(sni, "tls.sni must be a list");
    for (std::size_t i = 0; i < sni.size(); ++i) {
      const YAML::Node e = sni[i];
      const std::string key = "tls.sni[" + std::to_string(i) + "]";
      r.only_keys(e, {"server_name", "certificate", "private_key"}, key);
      if (!e["server_name"] || !e["certificate"] || !e["private_key"])
        r.fail(e, key + " needs server_name, certificate and private_key");
      SniCertificate s;
      s.server_name = r.str(e["server_name"], key + ".server_name");
      if (s.server_name.empty()) r.fail(e["server_name"], key + ".server_name must not be empty");
      for (char& ch : s.server_name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      for (const SniCertificate& other : c.sni) {
        if (other.server_name == s.server_name)
          r.fail(e["server_name"], key + ".server_name '" + s.server_name + "' is listed twice");
      }
      s.certificate = file_setting(r, e["certificate"], key + ".certificate", dir);
      s.private_key = file_setting(r, e["private_key"], key + ".private_key", dir);
      c.sni.push_back(std::move(s));
    }
  }
  return c;
}

}  // namespace

std::string describe(const FileSetting& f) {
  std::string out = f.where.empty() ? "" : f.where + ": ";
  return out + f.key + ": " + f.path;
}

common::Result<std::optional<TlsConfig>> parse_tls_config(const std::string& text,
                                                          const std::string& name,
                                                          const std::string& config_dir) {
  common::YamlReader reader(name);
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["tls"]) return std::optional<TlsConfig>();
    return std::optional<TlsConfig>(parse_section(reader, root["tls"], config_dir));
  } catch (const common::ConfigError& e) {
    return common::Error{0, e.what()};
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return common::Error{0, name + ":" + std::to_string(line) + ": " + e.msg};
  }
}

common::Result<std::optional<TlsConfig>> load_tls_config(const std::string& config_file,
                                                         const std::string& config_dir) {
  std::ifstream in(config_file);
  if (!in) return common::Error{errno, config_file + ": cannot read the configuration"};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_tls_config(ss.str(), config_file, config_dir);
}

}  // namespace strowger::modules::tls
