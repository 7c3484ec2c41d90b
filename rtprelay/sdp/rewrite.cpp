// Applies a RewritePlan to a parsed SDP: edits, deletes and inserts whole lines and copies
// every other line (with its own line ending) byte for byte.
#include "rtprelay/sdp/rewrite.h"

#include <string>

#include "rtprelay/sdp/text.h"

namespace strowger::rtprelay::sdp {

namespace {

struct Edit {
  enum class Op : uint8_t { kCopy, kReplace, kDelete } op = Op::kCopy;
  std::string text;
};

common::Error plan_error(std::size_t media, std::string message) {
  return common::Error{0, "media " + std::to_string(media) + ": " + message};
}

// Plan strings end up as whole SDP lines: a CR or LF inside one would forge extra lines.
bool safe_value(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool safe_token(std::string_view s) {
  return !s.empty() && safe_value(s) && s.find(' ') == std::string_view::npos &&
         s.find('\t') == std::string_view::npos;
}

std::string connection_line(const Address& a) {
  std::string s = a.family == AddressFamily::kIp4 ? "c=IN IP4 " : "c=IN IP6 ";
  s.append(a.text);
  return s;
}

std::string_view attribute_name(std::string_view line) {
  std::string_view value = line.substr(2);
  return value.substr(0, value.find(':'));
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  for (const std::string& n : names)
    if (n == name) return true;
  return false;
}

bool is_ice_attr(AttrKind k) {
  return k == AttrKind::kIceUfrag || k == AttrKind::kIcePwd || k == AttrKind::kIceOptions ||
         k == AttrKind::kIceLite || k == AttrKind::kIceOther || k == AttrKind::kCandidate ||
         k == AttrKind::kRemoteCandidates || k == AttrKind::kEndOfCandidates;
}

// The line edits for one SDP, filled in by the session and media passes, then written out.
class Rewriter {
 public:
  Rewriter(const SessionDescription& sdp, const RewritePlan& plan)
      : sdp_(sdp), plan_(plan), edits_(sdp.lines.size()), inserts_(sdp.lines.size()) {}

  common::Result<std::string> run() {
    if (plan_.media.size() != sdp_.media.size())
      return common::Error{0, "plan has " + std::to_string(plan_.media.size()) +
                                  " media entries, SDP has " + std::to_string(sdp_.media.size())};
    addresses_.resize(sdp_.media.size());
    for (std::size_t i = 0; i < sdp_.media.size(); i++)
      if (auto err = check_media_plan(i)) return *err;
    if (auto err = rewrite_session()) return *err;
    for (std::size_t i = 0; i < sdp_.media.size(); i++)
      if (auto err = rewrite_media(i)) return *err;
    return write();
  }

 private:
  bool active(std::size_t i) const { return !sdp_.media[i].rejected() && !plan_.media[i].reject; }

  std::optional<common::Error> check_media_plan(std::size_t i) {
    const MediaPlan& p = plan_.media[i];
    if (!active(i)) return std::nullopt;
    std::optional<Address> a = parse_ip_any(p.address);
    if (!a || a->zero) return plan_error(i, "bad relay address '" + p.address + "'");
    addresses_[i] = *a;
    if (p.rtp_port == 0) return plan_error(i, "RTP port 0 for an active stream");
    if (p.rtcp != RtcpMode::kMux && p.rtcp_attribute != RtcpAttribute::kOmit && p.rtcp_port == 0)
      return plan_error(i, "RTCP port 0 without rtcp-mux");
    if (p.proto && !safe_token(*p.proto)) return plan_error(i, "bad protocol");
    for (const std::string& s : p.add_attributes)
      if (!safe_value(s) || s.empty()) return plan_error(i, "bad attribute to add");
    if (p.ice == IceMode::kReplace) {
      if (!safe_token(p.ice_ufrag) || !safe_token(p.ice_pwd))
        return plan_error(i, "ICE replace needs ufrag and pwd");
      for (const IceCandidate& c : p.candidates)
        if (!safe_token(c.foundation) || !parse_ip_any(c.address) || c.port == 0)
          return plan_error(i, "bad ICE candidate");
    }
    return std::nullopt;
  }

  // Address the media ends up advertising: the relay's, or a zero address kept for hold.
  Address written_address(std::size_t i) const {
    const Media& m = sdp_.media[i];
    if (m.effective_address && m.effective_address->zero && !plan_.media[i].replace_zero_address)
      return *m.effective_address;
    return addresses_[i];
  }

  std::optional<common::Error> rewrite_session() {
    const SessionPlan& sp = plan_.session;
    std::optional<Address> address;
    if (!sp.address.empty()) {
      address = parse_ip_any(sp.address);
      if (!address || address->zero)
        return common::Error{0, "bad session address '" + sp.address + "'"};
    } else {
      for (std::size_t i = 0; i < sdp_.media.size() && !address; i++)
        if (active(i)) address = addresses_[i];
    }
    for (const std::string& s : sp.add_attributes)
      if (!safe_value(s) || s.empty()) return common::Error{0, "bad session attribute to add"};

    const Origin& o = sdp_.origin;
    bool new_origin_address = sp.replace_origin && address;
    if (new_origin_address || sp.bump_version) {
      std::string version(o.session_version);
      if (sp.bump_version) {
        std::string bumped = increment_decimal(version);
        if (bumped.size() <= 32) version = bumped;
      }
      std::string line = "o=";
      line.append(o.username).append(" ").append(o.session_id).append(" ").append(version);
      if (new_origin_address) {
        line.append(address->family == AddressFamily::kIp4 ? " IN IP4 " : " IN IP6 ");
        line.append(address->text);
      } else {
        line.append(" ").append(o.nettype).append(" ").append(o.addrtype).append(" ");
        line.append(o.address);
      }
      replace(o.line, std::move(line));
    }

    // rtpengine rewrites the session c= when asked to, and also whenever a stream relies on
    // it, since that stream's media must then be sent to the relay.
    bool needed = sp.replace_session_connection;
    for (std::size_t i = 0; i < sdp_.media.size(); i++)
      if (active(i) && !sdp_.media[i].connection) needed = true;
    if (sdp_.connection) {
      session_address_ = sdp_.connection->address;
      bool keep_zero = sdp_.connection->address.zero && !sp.replace_zero_address;
      if (needed && address && !keep_zero) {
        session_address_ = *address;
        replace(sdp_.connection->line, connection_line(*address));
      }
    }

    bool any_active = false, ice_kept = false;
    for (std::size_t i = 0; i < sdp_.media.size(); i++) {
      if (!active(i)) continue;
      any_active = true;
      ice_kept = ice_kept || plan_.media[i].ice == IceMode::kKeep;
    }
    bool drop_ice = any_active && !ice_kept;
    bool has_lite = false;
    int last = sdp_.media.front().first_line - 1;
    for (int n = 0; n <= last; n++) {
      const Line& l = sdp_.lines[n];
      if (l.kind != LineKind::kAttribute) continue;
      if ((drop_ice && is_ice_attr(l.attr)) ||
          listed(sp.strip_attributes, attribute_name(sdp_.line_text(n)))) {
        remove(n);
      } else if (l.attr == AttrKind::kIceLite) {
        has_lite = true;
      }
    }
    if (sp.ice_lite && !has_lite) insert(last, "a=ice-lite");
    for (const std::string& s : sp.add_attributes) insert(last, "a=" + s);
    return std::nullopt;
  }

  std::optional<common::Error> rewrite_media(std::size_t i) {
    const Media& m = sdp_.media[i];
    const MediaPlan& p = plan_.media[i];
    if (m.rejected()) return std::nullopt;
    std::string_view proto = p.proto ? std::string_view(*p.proto) : m.proto;
    replace(m.first_line, media_line(m, p.reject ? 0 : p.rtp_port, proto));
    if (p.reject) return std::nullopt;

    Address written = written_address(i);
    if (m.connection) {
      if (!(m.connection->address.zero && !p.replace_zero_address))
        replace(m.connection->line, connection_line(written));
    } else if (!sdp_.connection || session_address_.text != written.text) {
      int after = m.first_line;
      if (after + 1 <= m.last_line && sdp_.line_text(after + 1).substr(0, 2) == "i=") after++;
      insert(after, connection_line(written));
    }

    int last = m.last_line;
    bool rtp = proto.find("RTP/") != std::string_view::npos;
    bool direction_done = false, rtcp_done = false, mux_done = false;
    std::string direction_line = "a=";
    direction_line.append(direction_name(output_direction(i)));
    bool want_mux = p.rtcp != RtcpMode::kSeparate;
    std::string rtcp_line = rtcp_attribute(i, written);

    for (int n = m.first_line + 1; n <= last; n++) {
      const Line& l = sdp_.lines[n];
      if (l.kind != LineKind::kAttribute) continue;
      if (listed(p.strip_attributes, attribute_name(sdp_.line_text(n)))) {
        remove(n);
        continue;
      }
      switch (l.attr) {
        case AttrKind::kDirection:
          if (direction_done) {
            remove(n);
          } else {
            replace(n, direction_line);
            direction_done = true;
          }
          break;
        case AttrKind::kRtcp:
          if (!rtp) break;
          if (rtcp_done || p.rtcp_attribute == RtcpAttribute::kOmit) {
            remove(n);
          } else {
            replace(n, rtcp_line);
            rtcp_done = true;
          }
          break;
        case AttrKind::kRtcpMux:
          if (!rtp) break;
          if (mux_done || !want_mux) remove(n);
          mux_done = true;
          break;
        default:
          if (p.ice != IceMode::kKeep && is_ice_attr(l.attr)) remove(n);
          break;
      }
    }
    if (!direction_done) insert(last, direction_line);
    if (rtp && !rtcp_done && p.rtcp_attribute != RtcpAttribute::kOmit) insert(last, rtcp_line);
    if (rtp && want_mux && !mux_done) insert(last, "a=rtcp-mux");
    if (p.ice == IceMode::kReplace) {
      insert(last, "a=ice-ufrag:" + p.ice_ufrag);
      insert(last, "a=ice-pwd:" + p.ice_pwd);
      for (const IceCandidate& c : p.candidates) {
        insert(last, "a=candidate:" + c.foundation + " " + std::to_string(c.component) + " UDP " +
                         std::to_string(c.priority) + " " + c.address + " " +
                         std::to_string(c.port) + " typ host");
      }
      if (p.end_of_candidates) insert(last, "a=end-of-candidates");
    }
    for (const std::string& s : p.add_attributes) insert(last, "a=" + s);
    return std::nullopt;
  }

  // "m=TYPE PORT PROTO" followed by the formats exactly as they were written.
  std::string media_line(const Media& m, uint16_t port, std::string_view proto) const {
    Tokens t(sdp_.line_text(m.first_line).substr(2));
    t.next();
    t.next();
    t.next();
    std::string line = "m=";
    line.append(m.type).append(" ").append(std::to_string(port)).append(" ").append(proto);
    line.append(t.rest());
    return line;
  }

  Direction output_direction(std::size_t i) const {
    if (plan_.media[i].direction) return *plan_.media[i].direction;
    const Media& m = sdp_.media[i];
    Direction d = sdp_.effective_direction(m);
    // A zero address says "do not send to me": the stream can at most send.
    if (sdp_.zero_address(m)) {
      if (d == Direction::kSendRecv) return Direction::kSendOnly;
      if (d == Direction::kRecvOnly) return Direction::kInactive;
    }
    return d;
  }

  std::string rtcp_attribute(std::size_t i, const Address& written) const {
    const MediaPlan& p = plan_.media[i];
    uint16_t port = p.rtcp == RtcpMode::kMux ? p.rtp_port : p.rtcp_port;
    std::string line = "a=rtcp:" + std::to_string(port);
    // The short form means "at the c= address". When c= keeps a hold address, the peer
    // must still send its RTCP reports to the relay, so the address is spelled out.
    if (p.rtcp_attribute == RtcpAttribute::kFull || written.zero) {
      const Address& a = addresses_[i];
      line.append(a.family == AddressFamily::kIp4 ? " IN IP4 " : " IN IP6 ").append(a.text);
    }
    return line;
  }

  void replace(int line, std::string text) {
    if (sdp_.line_text(line) == text) return;  // unchanged lines stay byte for byte
    edits_[line] = Edit{Edit::Op::kReplace, std::move(text)};
  }
  void remove(int line) { edits_[line] = Edit{Edit::Op::kDelete, {}}; }
  void insert(int after, std::string text) { inserts_[after].push_back(std::move(text)); }

  std::string write() const {
    struct Out {
      std::string_view content, eol;
    };
    std::vector<Out> out;
    out.reserve(sdp_.lines.size() + 16);
    for (std::size_t n = 0; n < sdp_.lines.size(); n++) {
      const Line& l = sdp_.lines[n];
      std::string_view eol = sdp_.text.substr(l.end, l.next - l.end);
      if (edits_[n].op == Edit::Op::kCopy)
        out.push_back({sdp_.line_text(static_cast<int>(n)), eol});
      else if (edits_[n].op == Edit::Op::kReplace)
        out.push_back({edits_[n].text, eol});
      for (const std::string& s : inserts_[n]) out.push_back({s, sdp_.eol});
    }
    const Line& last = sdp_.lines.back();
    bool unterminated = last.next == last.end;
    std::string text;
    text.reserve(sdp_.text.size() + 512);
    for (std::size_t k = 0; k < out.size(); k++) {
      text.append(out[k].content);
      std::string_view eol = out[k].eol.empty() ? sdp_.eol : out[k].eol;
      if (k + 1 == out.size() && unterminated) eol = {};
      text.append(eol);
    }
    return text;
  }

  const SessionDescription& sdp_;
  const RewritePlan& plan_;
  std::vector<Edit> edits_;
  std::vector<std::vector<std::string>> inserts_;
  std::vector<Address> addresses_;  // parsed MediaPlan::address per active media
  Address session_address_;         // what the session c= says after the rewrite
};

}  // namespace

common::Result<std::string> rewrite(const SessionDescription& sdp, const RewritePlan& plan) {
  if (sdp.lines.empty() || sdp.media.empty()) return common::Error{0, "SDP was not parsed"};
  return Rewriter(sdp, plan).run();
}

RtcpMode rtcp_mode_for_offer(const RtcpMuxFlags& flags, bool sdp_offers_mux) {
  if (flags.require) return RtcpMode::kMux;
  if (sdp_offers_mux)
    return flags.demux || flags.reject ? RtcpMode::kSeparate : RtcpMode::kMuxOffered;
  return flags.offer ? RtcpMode::kMuxOffered : RtcpMode::kSeparate;
}

RtcpMode rtcp_mode_for_answer(const RtcpMuxFlags& offer_flags, const RtcpMuxFlags& answer_flags,
                              bool offerer_offered_mux, bool answer_has_mux) {
  if (!offerer_offered_mux || offer_flags.reject || answer_flags.reject) return RtcpMode::kSeparate;
  bool accept_anyway = offer_flags.demux || offer_flags.accept || offer_flags.require ||
                       answer_flags.demux || answer_flags.accept || answer_flags.require;
  return accept_anyway || answer_has_mux ? RtcpMode::kMux : RtcpMode::kSeparate;
}

}  // namespace strowger::rtprelay::sdp
