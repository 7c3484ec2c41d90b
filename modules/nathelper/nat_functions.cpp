// nathelper's script functions: nat_uac_test, is_rfc1918, fix_nated_contact/register,
// add_rcv_param and the contact alias pair (add/set_contact_alias, handle_ruri_alias).
#include "modules/nathelper/nat_functions.h"

#include <cctype>
#include <charconv>
#include <vector>

#include "modules/nathelper/contact_field.h"

namespace strowger::modules::nathelper {
namespace {

using sipproxy::ScriptCall;
using sipproxy::Uri;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// The IPv4/IPv6 address of each SDP c= line: session level first, then per media section.
struct SdpAddresses {
  std::string session;             // "" when the session has no c=
  std::vector<std::string> media;  // one per m= section: its c=, else the session's
};

SdpAddresses sdp_addresses(std::string_view body) {
  SdpAddresses out;
  bool in_media = false;
  while (!body.empty()) {
    std::size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view{} : body.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("m=")) {
      in_media = true;
      out.media.push_back(out.session);
    } else if (line.starts_with("c=")) {
      // c=IN IP4 192.0.2.1[/ttl]
      std::string_view rest = line.substr(2);
      std::size_t sp = rest.rfind(' ');
      if (sp == std::string_view::npos) continue;
      std::string_view addr = rest.substr(sp + 1);
      addr = addr.substr(0, addr.find('/'));
      if (in_media) {
        out.media.back() = std::string(addr);
      } else {
        out.session = std::string(addr);
      }
    }
  }
  return out;
}

bool sdp_private(std::string_view body, const NatConfig& cfg) {
  const SdpAddresses a = sdp_addresses(body);
  for (const std::string& ip : a.media) {
    if (ip == "0.0.0.0") continue;  // a hold marker, not an address
    if (is_private_ipv4(ip, cfg.addr_mode) == 1) return true;
  }
  return a.media.empty() && is_private_ipv4(a.session, cfg.addr_mode) == 1;
}

bool sdp_cline_differs(std::string_view body, const sipproxy::Peer& src) {
  const SdpAddresses a = sdp_addresses(body);
  std::string ip = a.session;
  if (ip.empty() && !a.media.empty()) ip = a.media.front();
  if (ip.empty() || ip == "0.0.0.0") return false;
  return !same_ip(ip, src.ip);
}

bool has_sdp(const sipproxy::Message& m) {
  return !m.body().empty() && iequals(m.content_type().substr(0, 15), "application/sdp");
}

// Hosts equal as IP addresses, or as names (case-insensitive).
bool same_host(std::string_view a, std::string_view b) {
  if (is_ip_literal(a) || is_ip_literal(b)) return same_ip(a, b);
  return iequals(a, b);
}

bool target_differs(ScriptCall& call) {
  sipproxy::Message& m = call.message();
  if (m.is_request()) {
    const std::string& du = call.dst_uri();
    if (du.empty()) return false;
    auto d = Uri::parse(du);
    Uri r = m.request_uri();
    if (!d) return true;
    return !same_host(d->host, r.host) ||
           (d->port ? d->port : kSipPort) != (r.port ? r.port : kSipPort);
  }
  auto v = m.via(1);
  if (!v) return false;
  if (!v->received.empty() && !same_host(v->received, v->host)) return true;
  return !v->rport.empty() && v->rport != std::to_string(v->port ? v->port : kSipPort);
}

std::string alias_value(std::string_view ip, std::uint16_t port, int proto) {
  return uri_host(ip) + "~" + std::to_string(port) + "~" + std::to_string(proto);
}

// The Contact URI with ;<name>=<value> right after host:port, where Kamailio puts it.
std::string with_alias_first(const Uri& contact, const NatConfig& cfg, const std::string& value) {
  Uri u = contact;
  std::string p = cfg.alias_name + "=" + value;
  if (!u.params.empty()) p += ";" + u.params;
  u.params = std::move(p);
  return u.to_string();
}

// Splits "a=1;b;c=2" into parameters.
std::vector<std::string_view> split_params(std::string_view params) {
  std::vector<std::string_view> out;
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    out.push_back(params.substr(0, semi));
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return out;
}

std::string_view param_name(std::string_view p) {
  return p.substr(0, p.find('='));
}

}  // namespace

std::string avp_name(std::string_view param) {
  if (param.starts_with("$avp(")) {
    if (!param.ends_with(")")) return {};
    param = param.substr(5, param.size() - 6);
    if (param.size() > 2 && (param[0] == 's' || param[0] == 'i') && param[1] == ':')
      param.remove_prefix(2);
  }
  for (char c : param)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return {};
  return std::string(param);
}

int nat_uac_test(ScriptCall& call, std::int64_t flags, const NatConfig& cfg) {
  sipproxy::Message& m = call.message();
  const sipproxy::Peer src = call.source();
  const auto via = m.via(0);
  // Kamailio's order of tests (the cheap ones first).
  if ((flags & kTestRport) && via && src.port != (via->port ? via->port : kSipPort)) return 1;
  if ((flags & kTestReceived) && via && !same_ip(via->host, src.ip)) return 1;
  std::optional<FirstContact> contact;
  if (flags & (kTestContact1918 | kTestContactPort)) contact = first_contact(m);
  if ((flags & kTestContact1918) && contact &&
      is_private_ipv4(contact->uri.host, cfg.addr_mode) == 1)
    return 1;
  if ((flags & kTestSdp1918) && has_sdp(m) && sdp_private(m.body(), cfg)) return 1;
  if ((flags & kTestVia1918) && via && is_private_ipv4(via->host, cfg.addr_mode) == 1) return 1;
  if ((flags & kTestSource1918) && is_private_ipv4(src.ip, cfg.addr_mode) == 1) return 1;
  const bool ws = src.proto == "ws" || src.proto == "wss";
  if ((flags & kTestWebSocket) && ws) return 1;
  if ((flags & kTestContactPort) && contact &&
      src.port != (contact->uri.port ? contact->uri.port : kSipPort))
    return 1;
  if ((flags & kTestSdpCline) && has_sdp(m) && sdp_cline_differs(m.body(), src)) return 1;
  if ((flags & kTestTarget) && (ws || target_differs(call))) return 1;
  return -1;
}

int is_rfc1918(std::string_view address, const NatConfig& cfg) {
  if (address.empty()) return -2;  // Kamailio: invalid parameter
  return is_private_ipv4(address, cfg.addr_mode) == 1 ? 1 : -1;
}

int fix_nated_contact(ScriptCall& call) {
  auto c = first_contact(call.message());
  if (!c) return -1;
  const sipproxy::Peer src = call.source();
  Uri u = c->uri;
  u.host = uri_host(src.ip);
  u.port = src.port;
  u.remove_param("maddr");  // it would send the request elsewhere than the source
  return replace_first_contact_uri(call.message(), u.to_string()) ? 1 : -1;
}

int fix_nated_register(ScriptCall& call, const NatConfig& cfg) {
  if (cfg.received_avp.empty()) return 1;  // Kamailio: nothing to do without received_avp
  call.set_avp(cfg.received_avp, source_uri(call.source()));
  return 1;
}

int add_rcv_param(ScriptCall& call, std::int64_t uri_position) {
  const sipproxy::Peer src = call.source();
  if (uri_position && proto_number(src.proto) != 1) return -1;  // Kamailio: URI form is UDP only
  sipproxy::Message& m = call.message();
  auto values = m.header_values("Contact");
  if (values.empty()) return 1;
  if (auto f = ContactField::parse(values.front()); f && f->star) return 1;
  const std::string rcv = source_uri(src);
  bool bad = false;
  bool ok = rewrite_contacts(m, [&](ContactField& f) {
    if (uri_position) {
      auto u = Uri::parse(f.uri);
      if (!u) {
        bad = true;
        return;
      }
      u->set_param("received", rcv);
      f.uri = u->to_string();
    } else {
      f.params += ";received=\"" + rcv + "\"";
    }
  });
  return ok && !bad ? 1 : -1;
}

int add_contact_alias(ScriptCall& call, const NatConfig& cfg) {
  sipproxy::Message& m = call.message();
  if (m.header_values("Contact").empty()) return 2;
  auto c = first_contact(m);
  if (!c) return -1;
  const sipproxy::Peer src = call.source();
  const int src_proto = proto_number(src.proto);
  if (src_proto == 0) return -1;
  auto transport = c->uri.param("transport");
  const int contact_proto = transport ? proto_number(*transport) : 1;
  const bool same_port = c->uri.port ? c->uri.port == src.port : src.port == kSipPort;
  if (same_ip(c->uri.host, src.ip) && same_port && contact_proto == src_proto) return 2;
  const std::string uri = with_alias_first(c->uri, cfg, alias_value(src.ip, src.port, src_proto));
  return replace_first_contact_uri(m, uri) ? 1 : -1;
}

int add_contact_alias(ScriptCall& call, std::string_view ip, std::string_view port,
                      std::string_view proto, const NatConfig& cfg) {
  sipproxy::Message& m = call.message();
  if (m.header_values("Contact").empty()) return 2;
  auto c = first_contact(m);
  if (!c) return -1;
  auto p = parse_port(port);
  const int n = proto_number(proto);
  if (!is_ip_literal(ip) || !p || n == 0) return -1;
  if (ip.size() >= 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  const std::string uri = with_alias_first(c->uri, cfg, alias_value(ip, *p, n));
  return replace_first_contact_uri(m, uri) ? 1 : -1;
}

int set_contact_alias(ScriptCall& call, bool trim, const NatConfig& cfg) {
  sipproxy::Message& m = call.message();
  auto c = first_contact(m);
  if (!c) return -1;
  const sipproxy::Peer src = call.source();
  const int n = proto_number(src.proto);
  if (n == 0) return -1;
  Uri u = c->uri;
  if (trim) u.remove_param(cfg.alias_name);
  // Kamailio's uri_add_rcv_alias appends the parameter at the end of the URI.
  std::string p = u.params;
  if (!p.empty()) p += ";";
  p += cfg.alias_name + "=" + alias_value(src.ip, src.port, n);
  u.params = std::move(p);
  return replace_first_contact_uri(m, u.to_string()) ? 1 : -1;
}

int handle_ruri_alias(ScriptCall& call, std::int64_t mode, const NatConfig& cfg) {
  sipproxy::Message& m = call.message();
  if (!m.is_request()) return -1;
  Uri ruri = m.request_uri();
  if (ruri.scheme.empty() || ruri.host.empty()) return -1;
  const std::vector<std::string_view> params = split_params(ruri.params);
  std::optional<std::size_t> at;
  for (std::size_t i = 0; i < params.size(); i++) {
    if (!iequals(param_name(params[i]), cfg.alias_name)) continue;
    at = i;
    if (mode == 0) break;
  }
  if (!at) return 2;
  const std::string_view p = params[*at];
  const std::size_t eq = p.find('=');
  if (eq == std::string_view::npos) return -1;
  const std::string_view value = p.substr(eq + 1);
  // ip~port~proto; an IPv6 address keeps its brackets (no '~' inside them).
  const std::size_t t1 = value.find('~');
  const std::size_t t2 = t1 == std::string_view::npos ? t1 : value.find('~', t1 + 1);
  if (t2 == std::string_view::npos) return -1;
  const std::string_view ip = value.substr(0, t1);
  auto port = parse_port(value.substr(t1 + 1, t2 - t1 - 1));
  const std::string_view proto_text = value.substr(t2 + 1);
  if (!is_ip_literal(ip) || !port || proto_text.size() != 1) return -1;
  const std::string_view proto = proto_name(proto_text[0] - '0');
  if (proto.empty()) return -1;
  if (ip.find(':') != std::string_view::npos && ip.front() != '[') return -1;  // needs brackets
  std::string du = "sip:" + std::string(ip) + ":" + std::to_string(*port);
  if (proto != "udp") du += ";transport=" + std::string(proto);
  std::string rest;
  for (std::size_t i = 0; i < params.size(); i++) {
    if (i == *at) continue;
    if (!rest.empty()) rest += ';';
    rest += params[i];
  }
  ruri.params = std::move(rest);
  call.set_dst_uri(std::move(du));
  m.set_request_uri(ruri);
  return 1;
}

}  // namespace strowger::modules::nathelper
