// Digest credentials parser, HA1/response computation and challenge values.
#include "modules/auth/digest.h"

#include <cctype>

namespace strowger::modules::auth {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-.!%*_+`'~/:@[]?=&$;").find(c) != std::string_view::npos;
}

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && is_space(s[i])) ++i;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::optional<Credentials> parse_credentials(std::string_view v) {
  std::size_t i = 0;
  skip_space(v, i);
  if (v.size() - i < 6 || !iequals(v.substr(i, 6), "Digest")) return std::nullopt;
  i += 6;
  if (i >= v.size() || !is_space(v[i])) return std::nullopt;
  Credentials c;
  bool any = false;
  while (true) {
    skip_space(v, i);
    if (i >= v.size()) break;
    std::size_t name_start = i;
    while (i < v.size() &&
           (std::isalnum(static_cast<unsigned char>(v[i])) || v[i] == '-' || v[i] == '_'))
      ++i;
    std::string_view name = v.substr(name_start, i - name_start);
    if (name.empty()) return std::nullopt;
    skip_space(v, i);
    if (i >= v.size() || v[i] != '=') return std::nullopt;
    ++i;
    skip_space(v, i);
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char ch = v[i++];
        if (ch == '"') {
          closed = true;
          break;
        }
        if (ch == '\\') {
          if (i >= v.size()) return std::nullopt;
          ch = v[i++];
        }
        value.push_back(ch);
      }
      if (!closed) return std::nullopt;
    } else {
      std::size_t start = i;
      while (i < v.size() && is_token_char(v[i]) && v[i] != ',') ++i;
      if (i == start) return std::nullopt;
      value.assign(v.substr(start, i - start));
    }
    if (value.size() > 1024) return std::nullopt;  // no real parameter is that long
    std::string* field = nullptr;
    if (iequals(name, "username"))
      field = &c.username;
    else if (iequals(name, "realm"))
      field = &c.realm;
    else if (iequals(name, "nonce"))
      field = &c.nonce;
    else if (iequals(name, "uri"))
      field = &c.uri;
    else if (iequals(name, "response"))
      field = &c.response;
    else if (iequals(name, "algorithm"))
      field = &c.algorithm;
    else if (iequals(name, "cnonce"))
      field = &c.cnonce;
    else if (iequals(name, "opaque"))
      field = &c.opaque;
    else if (iequals(name, "qop"))
      field = &c.qop;
    else if (iequals(name, "nc"))
      field = &c.nc;
    if (field) *field = std::move(value);  // unknown parameters (userhash, auth-param) ignored
    any = true;
    skip_space(v, i);
    if (i >= v.size()) break;
    if (v[i] != ',') return std::nullopt;
    ++i;
  }
  if (!any) return std::nullopt;
  return c;
}

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  if (name.empty() || iequals(name, "MD5")) return Algorithm::kMd5;
  if (iequals(name, "SHA-256")) return Algorithm::kSha256;
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm algorithm) {
  return algorithm == Algorithm::kMd5 ? "MD5" : "SHA-256";
}

std::string compute_ha1(Algorithm algorithm, std::string_view username, std::string_view realm,
                        std::string_view password) {
  std::string a1;
  a1.reserve(username.size() + realm.size() + password.size() + 2);
  a1.append(username).append(":").append(realm).append(":").append(password);
  return hex_digest(algorithm, a1);
}

std::string compute_response(Algorithm algorithm, std::string_view ha1, std::string_view method,
                             std::string_view uri, std::string_view nonce, std::string_view nc,
                             std::string_view cnonce, std::string_view qop) {
  std::string a2;
  a2.append(method).append(":").append(uri);
  std::string ha2 = hex_digest(algorithm, a2);
  std::string kd;
  kd.append(ha1).append(":").append(nonce).append(":");
  if (!qop.empty()) kd.append(nc).append(":").append(cnonce).append(":").append(qop).append(":");
  kd.append(ha2);
  return hex_digest(algorithm, kd);
}

std::string challenge_value(const ChallengeSpec& spec) {
  std::string out = "Digest realm=";
  out += quote(spec.realm);
  out += ", nonce=";
  out += quote(spec.nonce);
  out += ", opaque=";
  out += quote(spec.opaque);
  out += ", algorithm=";
  out += algorithm_name(spec.algorithm);
  if (spec.qop_auth) out += ", qop=\"auth\"";
  if (spec.stale) out += ", stale=true";
  return out;
}

}  // namespace strowger::modules::auth
