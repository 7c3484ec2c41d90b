// SDP model: a line-indexed parse of an offer/answer whose fields are views into the original text.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace strowger::rtprelay::sdp {

// Limits that keep a hostile body from costing more than a real one ever does.
inline constexpr std::size_t kMaxSdpBytes = 64 * 1024;
inline constexpr std::size_t kMaxLines = 2048;
inline constexpr std::size_t kMaxLineBytes = 4096;
inline constexpr std::size_t kMaxMedia = 32;
inline constexpr std::size_t kMaxFormats = 128;

enum class LineKind : uint8_t {
  kVersion,      // v=
  kOrigin,       // o=
  kSessionName,  // s=
  kConnection,   // c=
  kMedia,        // m=
  kAttribute,    // a=
  kOther,        // any other type letter (t=, b=, i=, k=, ...), kept as is
  kBlank,        // empty line, only allowed at the end of the body
};

enum class AttrKind : uint8_t {
  kNone,  // not an a= line
  kRtcp,
  kRtcpMux,
  kDirection,
  kMid,
  kIceUfrag,
  kIcePwd,
  kIceOptions,
  kIceLite,
  kIceOther,  // any other ice-* attribute (ice-mismatch, ice-pacing, ...)
  kCandidate,
  kRemoteCandidates,
  kEndOfCandidates,
  kFingerprint,
  kSetup,
  kCrypto,
  kPtime,
  kGroup,
  kOther,
};

enum class Direction : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
enum class AddressFamily : uint8_t { kIp4, kIp6 };

std::string_view direction_name(Direction d);  // "sendrecv", ...
std::optional<Direction> parse_direction(std::string_view name);

// One line of the body. [begin, end) is the content without its line ending; the ending
// (CRLF, LF, or nothing on a last line) is [end, next).
struct Line {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t next = 0;
  LineKind kind = LineKind::kOther;
  AttrKind attr = AttrKind::kNone;
  int16_t media = -1;  // index into SessionDescription::media, -1 for the session part
};

struct Address {
  AddressFamily family = AddressFamily::kIp4;
  std::string_view text;  // as written, without a multicast /ttl suffix
  bool zero = false;      // 0.0.0.0 or :: (the old way to put a stream on hold)
};

// Validates an IP literal of the given family ("IP4"/"IP6" semantics via the enum).
std::optional<Address> parse_ip(std::string_view text, AddressFamily family);
// Guesses the family from the literal (':' means IPv6) and validates it.
std::optional<Address> parse_ip_any(std::string_view text);

struct Connection {
  Address address;
  int line = -1;
};

struct Origin {
  std::string_view username, session_id, session_version, nettype, addrtype, address;
  int line = -1;
};

struct Rtcp {
  uint16_t port = 0;
  std::optional<Address> address;  // the "a=rtcp:PORT IN IP4 ADDR" form
  int line = -1;
};

struct Candidate {
  std::string_view foundation;
  uint32_t component = 0;
  std::string_view transport;  // "udp", "tcp", as written
  uint32_t priority = 0;
  std::string_view address;  // IP literal or an mDNS name
  uint16_t port = 0;
  std::string_view type;  // host, srflx, prflx, relay
  int line = -1;
};

struct Media {
  std::string_view type;  // audio, video, application, image, ...
  uint16_t port = 0;
  uint16_t port_count = 0;  // the N of "PORT/N", 0 when absent
  std::string_view proto;   // RTP/AVP, UDP/TLS/RTP/SAVPF, ...
  std::vector<std::string_view> formats;
  std::optional<Connection> connection;  // media-level c=
  // The c= that applies: the media's own, else the session's (always set when port != 0).
  std::optional<Address> effective_address;
  std::optional<Rtcp> rtcp;
  bool rtcp_mux = false;
  std::optional<Direction> direction;  // media-level attribute
  std::string_view mid, ice_ufrag, ice_pwd, ice_options, setup;
  bool end_of_candidates = false;
  std::vector<Candidate> candidates;
  std::vector<std::string_view> fingerprints, cryptos;  // attribute values
  std::optional<uint32_t> ptime;
  int first_line = -1;  // the m= line
  int last_line = -1;   // last line of the section (inclusive)

  bool rejected() const { return port == 0; }
  bool is_rtp() const;  // proto carries RTP (so a=rtcp / rtcp-mux make sense)
  bool has_ice() const { return !ice_ufrag.empty() || !candidates.empty(); }
};

struct SessionDescription {
  std::string_view text;  // the body parse() was given; every view below points into it
  std::vector<Line> lines;
  Origin origin;
  std::string_view session_name;
  std::optional<Connection> connection;  // session-level c=
  std::optional<Direction> direction;    // session-level direction attribute
  bool ice_lite = false;
  std::string_view ice_ufrag, ice_pwd, ice_options;
  std::vector<Media> media;
  std::string_view eol = "\r\n";  // the first line's ending, used for inserted lines

  std::string_view line_text(int i) const {
    return text.substr(lines[i].begin, lines[i].end - lines[i].begin);
  }
  // Direction of a media section as its sender meant it: media-level, else session-level,
  // else sendrecv.
  Direction effective_direction(const Media& m) const;
  // The old-style hold: the stream's address is 0.0.0.0 / ::.
  bool zero_address(const Media& m) const {
    return m.effective_address && m.effective_address->zero;
  }
};

// Parses an SDP body. The result holds views into `text`: keep it alive and unchanged while
// the SessionDescription is used. On error, Error::code is the 1-based line number (0 when
// the error is not about one line) and Error::message says what is wrong.
common::Result<SessionDescription> parse(std::string_view text);

}  // namespace strowger::rtprelay::sdp
