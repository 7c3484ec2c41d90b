// Uri: splits SIP/SIPS/TEL URIs (RFC 3261 19.1, RFC 3966) into parts, keeping escapes as
// received; other schemes are kept opaque. sofia's url_d() is not used here because it
// unescapes unreserved characters and splits unknown schemes at their first ':'.
#include "proxy/sip/uri.h"

#include <charconv>

namespace strowger::proxy::sip {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Octets never allowed in a URI anywhere: controls, SP, DEL and the characters that
// delimit a URI in a header (RFC 3986 2.2 and RFC 3261 25.1 exclude them unescaped).
bool forbidden(unsigned char c) {
  return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"';
}

bool valid_host_name(std::string_view h) {
  if (h.empty()) return false;
  for (char c : h)
    if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_')) return false;
  return true;
}

// "[...]": hex digits, ':' and '.' (an IPv4 tail). The RFC 5118 "three colons" form passes,
// as RFC 5118 4.10 asks; a zone ("%25eth0") is not allowed in SIP.
bool valid_ipv6_reference(std::string_view h) {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  bool colon = false;
  for (char c : h.substr(1, h.size() - 2)) {
    if (c == ':') {
      colon = true;
      continue;
    }
    if (!(is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f') || c == '.')) return false;
  }
  return colon;
}

// params and headers (whichever follow) from the text after the host[:port] or number.
bool split_tail(std::string_view tail, Uri& uri) {
  if (tail.empty()) return true;
  if (tail[0] == ';') {
    std::size_t q = tail.find('?');
    uri.params = std::string(tail.substr(1, q == std::string_view::npos ? q : q - 1));
    if (q == std::string_view::npos) return true;
    tail = tail.substr(q);
  }
  if (tail[0] != '?') return false;
  uri.headers = std::string(tail.substr(1));
  return true;
}

bool parse_sip(std::string_view rest, Uri& uri) {
  std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    std::size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    if (user.empty()) return false;
    uri.user = std::string(user);
    if (colon != std::string_view::npos) uri.password = std::string(userinfo.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  std::size_t host_end;
  if (!rest.empty() && rest[0] == '[') {
    host_end = rest.find(']');
    if (host_end == std::string_view::npos) return false;
    host_end++;
    if (!valid_ipv6_reference(rest.substr(0, host_end))) return false;
  } else {
    host_end = rest.find_first_of(":;?");
    if (host_end == std::string_view::npos) host_end = rest.size();
    if (!valid_host_name(rest.substr(0, host_end))) return false;
  }
  uri.host = std::string(rest.substr(0, host_end));
  rest = rest.substr(host_end);
  if (!rest.empty() && rest[0] == ':') {
    std::size_t end = rest.find_first_of(";?");
    if (end == std::string_view::npos) end = rest.size();
    std::string_view digits = rest.substr(1, end - 1);
    if (digits.empty() || digits.size() > 5) return false;
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || port > 65535) return false;
    uri.port = static_cast<std::uint16_t>(port);
    rest = rest.substr(end);
  }
  return split_tail(rest, uri);
}

bool parse_tel(std::string_view rest, Uri& uri) {
  std::size_t end = rest.find_first_of(";?");
  if (end == std::string_view::npos) end = rest.size();
  if (end == 0) return false;
  uri.user = std::string(rest.substr(0, end));
  return split_tail(rest.substr(end), uri);
}

}  // namespace

std::optional<Uri> Uri::parse(std::string_view text) {
  for (unsigned char c : text)
    if (forbidden(c)) return std::nullopt;
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  Uri uri;
  for (std::size_t i = 0; i < colon; i++) {
    char c = text[i];
    bool ok = is_alpha(c) || (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) return std::nullopt;
    uri.scheme.push_back(lower(c));
  }
  std::string_view rest = text.substr(colon + 1);
  bool ok;
  if (uri.is_sip())
    ok = parse_sip(rest, uri);
  else if (uri.scheme == "tel")
    ok = parse_tel(rest, uri);
  else {
    // Opaque: the whole scheme-specific part is kept in user.
    uri.user = std::string(rest);
    ok = true;
  }
  if (!ok) return std::nullopt;
  return uri;
}

std::string Uri::to_string() const {
  std::string out;
  out.reserve(scheme.size() + user.size() + password.size() + host.size() + params.size() +
              headers.size() + 12);
  out += scheme;
  out += ':';
  if (is_sip()) {
    if (!user.empty()) {
      out += user;
      if (!password.empty()) {
        out += ':';
        out += password;
      }
      out += '@';
    }
    out += host;
    if (port != 0) {
      out += ':';
      out += std::to_string(port);
    }
  } else {
    out += user;
  }
  if (!params.empty()) {
    out += ';';
    out += params;
  }
  if (!headers.empty()) {
    out += '?';
    out += headers;
  }
  return out;
}

std::optional<std::string> Uri::param(std::string_view name) const {
  std::string_view rest = params;
  while (!rest.empty()) {
    std::size_t semi = rest.find(';');
    std::string_view item = rest.substr(0, semi);
    std::size_t eq = item.find('=');
    if (iequals(item.substr(0, eq), name))
      return eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    rest = rest.substr(semi + 1);
  }
  return std::nullopt;
}

void Uri::set_param(std::string_view name, std::string_view value) {
  std::string item(name);
  if (!value.empty()) {
    item += '=';
    item += value;
  }
  remove_param(name);
  if (!params.empty()) params += ';';
  params += item;
}

void Uri::remove_param(std::string_view name) {
  std::string out;
  std::string_view rest = params;
  while (!rest.empty()) {
    std::size_t semi = rest.find(';');
    std::string_view item = rest.substr(0, semi);
    if (!iequals(item.substr(0, item.find('=')), name)) {
      if (!out.empty()) out += ';';
      out += item;
    }
    if (semi == std::string_view::npos) break;
    rest = rest.substr(semi + 1);
  }
  params = std::move(out);
}

std::string Uri::host_bare() const {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace strowger::proxy::sip
