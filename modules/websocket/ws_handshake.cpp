// The WebSocket opening handshake: request head checks, Sec-WebSocket-Accept, HTTP answers.
#include "modules/websocket/ws_handshake.h"

#include <openssl/evp.h>

#include <cstdint>

namespace strowger::modules::websocket {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 5.6.2 tchar.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// True when the comma-separated list holds token (case-insensitive).
bool list_has(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool is_base64_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// A base64 encoding of 16 bytes: 22 characters, "==" (RFC 6455 4.1 step 7).
bool is_valid_key(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return true;
}

// The path of an origin-form ("/a?b") or absolute-form ("ws://h/a?b") target; empty if neither.
std::string_view target_path(std::string_view target) {
  if (target.empty()) return {};
  if (target.front() != '/') {
    const std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || scheme == 0) return {};
    const std::size_t slash = target.find('/', scheme + 3);
    if (slash == std::string_view::npos) return "/";
    target.remove_prefix(slash);
  }
  return target.substr(0, target.find_first_of("?#"));
}

struct RequestHead {
  std::string_view method, target, version;
  std::string_view host, key, ws_version, origin;
  int host_count = 0, key_count = 0, version_count = 0, origin_count = 0;
  bool upgrade_websocket = false;
  bool connection_upgrade = false;
  bool sip_protocol = false;
};

bool parse_request_line(std::string_view line, RequestHead* r) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  r->method = line.substr(0, sp1);
  r->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  r->version = line.substr(sp2 + 1);
  for (char c : r->method) {
    if (!is_token_char(c)) return false;
  }
  for (char c : r->target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return r->version == "HTTP/1.1";
}

bool parse_header(std::string_view line, RequestHead* r) {
  // obs-fold (a line starting with white space) is rejected (RFC 9112 5.2).
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!is_token_char(c)) return false;
  }
  const std::string_view value = trim(line.substr(colon + 1));
  for (char c : value) {
    if (c == '\0') return false;
  }
  if (iequals(name, "Host")) {
    r->host = value, ++r->host_count;
  } else if (iequals(name, "Upgrade")) {
    r->upgrade_websocket = r->upgrade_websocket || list_has(value, "websocket");
  } else if (iequals(name, "Connection")) {
    r->connection_upgrade = r->connection_upgrade || list_has(value, "upgrade");
  } else if (iequals(name, "Sec-WebSocket-Key")) {
    r->key = value, ++r->key_count;
  } else if (iequals(name, "Sec-WebSocket-Version")) {
    r->ws_version = value, ++r->version_count;
  } else if (iequals(name, "Sec-WebSocket-Protocol")) {
    r->sip_protocol = r->sip_protocol || list_has(value, "sip");
  } else if (iequals(name, "Origin")) {
    r->origin = value, ++r->origin_count;
  }
  return true;
}

bool parse_head(std::string_view head, RequestHead* r) {
  bool first = true;
  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    if (line.find_first_of("\r\n") != std::string_view::npos) return false;  // bare CR or LF
    if (line.empty()) {
      if (first) return false;
      break;  // the blank line ends the head
    }
    if (first) {
      if (!parse_request_line(line, r)) return false;
      first = false;
    } else if (!parse_header(line, r)) {
      return false;
    }
  }
  return !first;
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  for (const std::string& a : allowed) {
    std::string_view want = a;
    while (!want.empty() && want.back() == '/') want.remove_suffix(1);
    if (iequals(origin, want)) return true;
  }
  return false;
}

Reject check(const RequestHead& r, const HandshakePolicy& policy) {
  if (r.method != "GET") return Reject::kMethod;
  const std::string_view path = target_path(r.target);
  if (path.empty()) return Reject::kMalformed;
  if (!policy.paths.empty()) {
    bool found = false;
    for (const std::string& p : policy.paths) found = found || p == path;
    if (!found) return Reject::kPath;
  }
  if (!r.upgrade_websocket) return Reject::kNotUpgrade;
  if (!r.connection_upgrade || r.host_count != 1 || r.key_count != 1 || !is_valid_key(r.key))
    return Reject::kBadUpgrade;
  if (r.version_count != 1 || r.ws_version != "13") return Reject::kVersion;
  // Origin protects browsers, which always send it; a client without one is not a browser and
  // could have sent any Origin, so it passes (as with Kamailio's websocket module).
  if (r.origin_count > 1) return Reject::kBadUpgrade;
  if (r.origin_count == 1 && !policy.origins.empty() && !origin_allowed(r.origin, policy.origins))
    return Reject::kOrigin;
  if (!r.sip_protocol) return Reject::kNoSipProtocol;
  return Reject::kNone;
}

}  // namespace

const char* reject_name(Reject r) {
  switch (r) {
    case Reject::kNone:
      return "none";
    case Reject::kMalformed:
      return "malformed";
    case Reject::kMethod:
      return "method";
    case Reject::kPath:
      return "path";
    case Reject::kNotUpgrade:
      return "not_upgrade";
    case Reject::kBadUpgrade:
      return "bad_upgrade";
    case Reject::kVersion:
      return "version";
    case Reject::kOrigin:
      return "origin";
    case Reject::kNoSipProtocol:
      return "no_sip_protocol";
    case Reject::kTooLarge:
      return "too_large";
    case Reject::kTimeout:
      return "timeout";
    case Reject::kCount:
      break;
  }
  return "unknown";
}

int reject_status(Reject r) {
  switch (r) {
    case Reject::kNone:
      return 101;
    case Reject::kMethod:
      return 405;
    case Reject::kPath:
      return 404;
    case Reject::kNotUpgrade:
    case Reject::kVersion:
      return 426;
    case Reject::kOrigin:
      return 403;
    case Reject::kTooLarge:
      return 431;
    case Reject::kTimeout:
      return 408;
    default:
      return 400;
  }
}

std::string http_error_response(Reject reject) {
  std::string_view status = "400 Bad Request";
  std::string_view extra;
  switch (reject) {
    case Reject::kMethod:
      status = "405 Method Not Allowed", extra = "Allow: GET\r\n";
      break;
    case Reject::kPath:
      status = "404 Not Found";
      break;
    case Reject::kNotUpgrade:
    case Reject::kVersion:
      status = "426 Upgrade Required";
      extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
      break;
    case Reject::kOrigin:
      status = "403 Forbidden";
      break;
    case Reject::kTooLarge:
      status = "431 Request Header Fields Too Large";
      break;
    case Reject::kTimeout:
      status = "408 Request Timeout";
      break;
    default:
      break;
  }
  std::string out;
  out.reserve(128);
  out.append("HTTP/1.1 ").append(status).append("\r\n");
  out.append(extra);
  out.append("Content-Length: 0\r\nConnection: close\r\n\r\n");
  return out;
}

std::string websocket_accept(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kGuid.size());
  input.append(key).append(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr) != 1)
    return {};
  unsigned char encoded[64];  // 4 * ceil(20 / 3) + NUL
  const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_len));
  return std::string(reinterpret_cast<const char*>(encoded),
                     n > 0 ? static_cast<std::size_t>(n) : 0);
}

HandshakeAnswer answer_handshake(std::string_view head, const HandshakePolicy& policy) {
  HandshakeAnswer a;
  RequestHead r;
  a.reject = parse_head(head, &r) ? check(r, policy) : Reject::kMalformed;
  a.origin = std::string(r.origin);
  if (a.reject != Reject::kNone) {
    a.status = reject_status(a.reject);
    a.response = http_error_response(a.reject);
    return a;
  }
  const std::string accept = websocket_accept(r.key);
  if (accept.empty()) {
    a.status = 400;
    a.reject = Reject::kBadUpgrade;
    a.response = http_error_response(a.reject);
    return a;
  }
  a.status = 101;
  a.response.reserve(160);
  a.response.append(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ");
  a.response.append(accept);
  a.response.append("\r\nSec-WebSocket-Protocol: sip\r\n\r\n");
  return a;
}

}  // namespace strowger::modules::websocket
