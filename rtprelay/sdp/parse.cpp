// SDP parser: splits the body into lines, keeps each line's span and ending, and reads the
// fields the relay needs (origin, connections, media, rtcp, ICE, direction, DTLS/SDES).
#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "rtprelay/sdp/session_description.h"
#include "rtprelay/sdp/text.h"

namespace strowger::rtprelay::sdp {

namespace {

common::Error error_at(int line, std::string message) {
  return common::Error{line + 1, "line " + std::to_string(line + 1) + ": " + message};
}

// Splits [begin, end) into lines; refuses control bytes other than TAB and a CR that is
// not part of a line ending.
std::optional<common::Error> split_lines(std::string_view text, std::vector<Line>* lines) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (lines->size() >= kMaxLines) return common::Error{0, "too many lines"};
    int index = static_cast<int>(lines->size());
    std::size_t nl = text.find('\n', pos);
    std::size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::size_t content_end = stop;
    // CR counts as part of the ending only before LF; a lone CR is refused below.
    if (nl != std::string_view::npos && content_end > pos && text[content_end - 1] == '\r')
      content_end--;
    if (content_end - pos > kMaxLineBytes) return error_at(index, "line too long");
    for (std::size_t i = pos; i < content_end; i++) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return error_at(index, "control character");
    }
    Line line;
    line.begin = static_cast<uint32_t>(pos);
    line.end = static_cast<uint32_t>(content_end);
    line.next = static_cast<uint32_t>(nl == std::string_view::npos ? text.size() : nl + 1);
    lines->push_back(line);
    pos = line.next;
  }
  return std::nullopt;
}

std::optional<Address> parse_c_address(std::string_view nettype, std::string_view addrtype,
                                       std::string_view addr) {
  if (nettype != "IN") return std::nullopt;
  AddressFamily family;
  if (addrtype == "IP4") {
    family = AddressFamily::kIp4;
    // Multicast carries "/ttl[/count]": the address is what comes before.
    addr = addr.substr(0, addr.find('/'));
  } else if (addrtype == "IP6") {
    family = AddressFamily::kIp6;
  } else {
    return std::nullopt;
  }
  return parse_ip(addr, family);
}

std::optional<common::Error> parse_connection(std::string_view value, int line, Connection* out) {
  Tokens t(value);
  std::string_view nettype = t.next(), addrtype = t.next(), addr = t.next();
  if (addr.empty() || !t.done()) return error_at(line, "c= needs 'IN IP4|IP6 address'");
  std::optional<Address> a = parse_c_address(nettype, addrtype, addr);
  if (!a) return error_at(line, "bad c= address '" + std::string(addr) + "'");
  out->address = *a;
  out->line = line;
  return std::nullopt;
}

std::optional<common::Error> parse_origin(std::string_view value, int line, Origin* o) {
  Tokens t(value);
  o->username = t.next();
  o->session_id = t.next();
  o->session_version = t.next();
  o->nettype = t.next();
  o->addrtype = t.next();
  o->address = t.next();
  if (o->address.empty() || !t.done()) return error_at(line, "o= needs 6 fields");
  if (!is_digits(o->session_id) || !is_digits(o->session_version))
    return error_at(line, "o= session id and version must be numbers");
  if (o->nettype != "IN" || (o->addrtype != "IP4" && o->addrtype != "IP6"))
    return error_at(line, "o= network type must be 'IN IP4' or 'IN IP6'");
  o->line = line;
  return std::nullopt;
}

std::optional<common::Error> parse_media_line(std::string_view value, int line, Media* m) {
  Tokens t(value);
  m->type = t.next();
  std::string_view port = t.next();
  m->proto = t.next();
  if (m->proto.empty()) return error_at(line, "m= needs 'media port proto fmt...'");
  std::size_t slash = port.find('/');
  std::optional<uint32_t> p = parse_u32(port.substr(0, slash));
  if (!p || *p > 65535) return error_at(line, "bad m= port '" + std::string(port) + "'");
  m->port = static_cast<uint16_t>(*p);
  if (slash != std::string_view::npos) {
    std::optional<uint32_t> n = parse_u32(port.substr(slash + 1));
    if (!n || *n == 0 || *n > 65535) return error_at(line, "bad m= port count");
    m->port_count = static_cast<uint16_t>(*n);
  }
  while (!t.done()) {
    if (m->formats.size() >= kMaxFormats) return error_at(line, "too many formats");
    m->formats.push_back(t.next());
  }
  if (m->formats.empty()) return error_at(line, "m= has no formats");
  m->first_line = m->last_line = line;
  return std::nullopt;
}

std::optional<common::Error> parse_rtcp(std::string_view value, int line, Rtcp* r) {
  Tokens t(value);
  std::optional<uint32_t> p = parse_u32(t.next());
  if (!p || *p > 65535) return error_at(line, "bad a=rtcp port");
  r->port = static_cast<uint16_t>(*p);
  if (!t.done()) {
    std::string_view nettype = t.next(), addrtype = t.next(), addr = t.next();
    r->address = parse_c_address(nettype, addrtype, addr);
    if (!r->address || !t.done()) return error_at(line, "bad a=rtcp address");
  }
  r->line = line;
  return std::nullopt;
}

// foundation component transport priority address port "typ" type [extensions]
std::optional<common::Error> parse_candidate(std::string_view value, int line, Candidate* c) {
  Tokens t(value);
  c->foundation = t.next();
  std::optional<uint32_t> component = parse_u32(t.next());
  c->transport = t.next();
  std::optional<uint32_t> priority = parse_u32(t.next());
  c->address = t.next();
  std::optional<uint32_t> port = parse_u32(t.next());
  std::string_view typ = t.next();
  c->type = t.next();
  if (!component || !priority || !port || *port > 65535 || typ != "typ" || c->type.empty())
    return error_at(line, "malformed a=candidate");
  c->component = *component;
  c->priority = *priority;
  c->port = static_cast<uint16_t>(*port);
  c->line = line;
  return std::nullopt;
}

AttrKind classify(std::string_view name) {
  struct Entry {
    std::string_view name;
    AttrKind kind;
  };
  static constexpr Entry kTable[] = {
      {"rtcp", AttrKind::kRtcp},
      {"rtcp-mux", AttrKind::kRtcpMux},
      {"sendrecv", AttrKind::kDirection},
      {"sendonly", AttrKind::kDirection},
      {"recvonly", AttrKind::kDirection},
      {"inactive", AttrKind::kDirection},
      {"mid", AttrKind::kMid},
      {"ice-ufrag", AttrKind::kIceUfrag},
      {"ice-pwd", AttrKind::kIcePwd},
      {"ice-options", AttrKind::kIceOptions},
      {"ice-lite", AttrKind::kIceLite},
      {"candidate", AttrKind::kCandidate},
      {"remote-candidates", AttrKind::kRemoteCandidates},
      {"end-of-candidates", AttrKind::kEndOfCandidates},
      {"fingerprint", AttrKind::kFingerprint},
      {"setup", AttrKind::kSetup},
      {"crypto", AttrKind::kCrypto},
      {"ptime", AttrKind::kPtime},
      {"group", AttrKind::kGroup},
  };
  for (const Entry& e : kTable)
    if (e.name == name) return e.kind;
  if (name.substr(0, 4) == "ice-") return AttrKind::kIceOther;
  return AttrKind::kOther;
}

// Reads one a= line into the session or the current media section.
std::optional<common::Error> parse_attribute(std::string_view value, int line, Line* l,
                                             SessionDescription* sd, Media* m) {
  std::size_t colon = value.find(':');
  std::string_view name = value.substr(0, colon);
  std::string_view arg =
      colon == std::string_view::npos ? std::string_view{} : trim(value.substr(colon + 1));
  l->attr = classify(name);
  switch (l->attr) {
    case AttrKind::kDirection:
      (m ? m->direction : sd->direction) = parse_direction(name);
      break;
    case AttrKind::kIceUfrag:
      (m ? m->ice_ufrag : sd->ice_ufrag) = arg;
      break;
    case AttrKind::kIcePwd:
      (m ? m->ice_pwd : sd->ice_pwd) = arg;
      break;
    case AttrKind::kIceOptions:
      (m ? m->ice_options : sd->ice_options) = arg;
      break;
    case AttrKind::kIceLite:
      sd->ice_lite = true;
      break;
    default:
      break;
  }
  if (!m) return std::nullopt;
  switch (l->attr) {
    case AttrKind::kRtcp: {
      Rtcp r;
      if (auto err = parse_rtcp(arg, line, &r)) return err;
      m->rtcp = r;
      break;
    }
    case AttrKind::kRtcpMux:
      m->rtcp_mux = true;
      break;
    case AttrKind::kMid:
      m->mid = arg;
      break;
    case AttrKind::kCandidate: {
      if (m->candidates.size() >= kMaxLines) return error_at(line, "too many candidates");
      Candidate c;
      if (auto err = parse_candidate(arg, line, &c)) return err;
      m->candidates.push_back(c);
      break;
    }
    case AttrKind::kEndOfCandidates:
      m->end_of_candidates = true;
      break;
    case AttrKind::kFingerprint:
      m->fingerprints.push_back(arg);
      break;
    case AttrKind::kSetup:
      m->setup = arg;
      break;
    case AttrKind::kCrypto:
      m->cryptos.push_back(arg);
      break;
    case AttrKind::kPtime:
      m->ptime = parse_u32(arg);
      if (!m->ptime) return error_at(line, "bad a=ptime");
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

common::Result<SessionDescription> parse(std::string_view text) {
  if (text.size() > kMaxSdpBytes) return common::Error{0, "SDP larger than 64 KiB"};
  if (text.empty()) return common::Error{0, "empty SDP"};
  SessionDescription sd;
  sd.text = text;
  if (auto err = split_lines(text, &sd.lines)) return *err;
  const Line& first = sd.lines.front();
  sd.eol = text.substr(first.end, first.next - first.end);
  if (sd.eol.empty()) sd.eol = "\r\n";

  bool blank_seen = false;
  for (std::size_t i = 0; i < sd.lines.size(); i++) {
    int n = static_cast<int>(i);
    Line& l = sd.lines[i];
    std::string_view content = text.substr(l.begin, l.end - l.begin);
    if (content.empty()) {
      l.kind = LineKind::kBlank;
      blank_seen = true;
      continue;
    }
    if (blank_seen) return error_at(n, "empty line inside the SDP");
    if (n == 0 && content != "v=0") return error_at(n, "SDP must start with v=0");
    if (content.size() < 2 || content[1] != '=' || content[0] < 'a' || content[0] > 'z')
      return error_at(n, "not a 'x=value' line");
    std::string_view value = content.substr(2);
    Media* m = sd.media.empty() ? nullptr : &sd.media.back();
    if (m && content[0] != 'm') {
      l.media = static_cast<int16_t>(sd.media.size() - 1);
      m->last_line = n;
    }
    switch (content[0]) {
      case 'v':
        l.kind = LineKind::kVersion;
        if (n != 0) return error_at(n, "v= must be the first line only");
        break;
      case 'o':
        l.kind = LineKind::kOrigin;
        if (m || sd.origin.line >= 0) return error_at(n, "o= must appear once, before m=");
        if (auto err = parse_origin(value, n, &sd.origin)) return *err;
        break;
      case 's':
        l.kind = LineKind::kSessionName;
        if (!m) sd.session_name = value;
        break;
      case 'c': {
        l.kind = LineKind::kConnection;
        Connection c;
        if (auto err = parse_connection(value, n, &c)) return *err;
        std::optional<Connection>& slot = m ? m->connection : sd.connection;
        if (slot) return error_at(n, "second c= in the same section");
        slot = c;
        break;
      }
      case 'm': {
        l.kind = LineKind::kMedia;
        if (sd.origin.line < 0) return error_at(n, "m= before o=");
        if (sd.media.size() >= kMaxMedia) return error_at(n, "too many m= sections");
        Media media;
        if (auto err = parse_media_line(value, n, &media)) return *err;
        sd.media.push_back(std::move(media));
        l.media = static_cast<int16_t>(sd.media.size() - 1);
        break;
      }
      case 'a':
        l.kind = LineKind::kAttribute;
        if (auto err = parse_attribute(value, n, &l, &sd, m)) return *err;
        break;
      default:
        l.kind = LineKind::kOther;
        break;
    }
  }
  if (sd.origin.line < 0) return common::Error{0, "no o= line"};
  if (sd.media.empty()) return common::Error{0, "no m= line"};
  for (Media& m : sd.media) {
    if (m.connection)
      m.effective_address = m.connection->address;
    else if (sd.connection)
      m.effective_address = sd.connection->address;
    else if (!m.rejected())
      return error_at(m.first_line, "no c= for this m= (neither media nor session level)");
  }
  return sd;
}

std::optional<Address> parse_ip(std::string_view text, AddressFamily family) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char bytes[16];
  int af = family == AddressFamily::kIp4 ? AF_INET : AF_INET6;
  if (inet_pton(af, buf, bytes) != 1) return std::nullopt;
  std::size_t len = family == AddressFamily::kIp4 ? 4 : 16;
  bool zero = true;
  for (std::size_t i = 0; i < len; i++) zero = zero && bytes[i] == 0;
  return Address{family, text, zero};
}

std::optional<Address> parse_ip_any(std::string_view text) {
  return parse_ip(
      text, text.find(':') == std::string_view::npos ? AddressFamily::kIp4 : AddressFamily::kIp6);
}

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
    case Direction::kSendRecv:
      break;
  }
  return "sendrecv";
}

std::optional<Direction> parse_direction(std::string_view name) {
  if (name == "sendrecv") return Direction::kSendRecv;
  if (name == "sendonly") return Direction::kSendOnly;
  if (name == "recvonly") return Direction::kRecvOnly;
  if (name == "inactive") return Direction::kInactive;
  return std::nullopt;
}

Direction SessionDescription::effective_direction(const Media& m) const {
  if (m.direction) return *m.direction;
  if (direction) return *direction;
  return Direction::kSendRecv;
}

bool Media::is_rtp() const {
  return proto.find("RTP/") != std::string_view::npos;
}

}  // namespace strowger::rtprelay::sdp
