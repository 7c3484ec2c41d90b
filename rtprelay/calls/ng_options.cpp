// Reads ng offer/answer/delete keys and flags into NgOptions, refusing what is not supported.
#include "rtprelay/calls/ng_options.h"

#include <cctype>
#include <charconv>

namespace strowger::rtprelay::calls {
namespace {

// rtpengine treats "-", "_" and " " alike in keys and flags; Kamailio sends either form.
// Lowercased too, so "SIP-source-address" and "sip source address" meet.
std::string normalize(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '-' || c == '_') c = ' ';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<std::string> as_text(const bencode::Value& v) {
  if (const std::string* s = v.as_string()) return *s;
  if (auto i = v.as_int()) return std::to_string(*i);
  return std::nullopt;
}

// A list of strings, or one string taken as a one-element list.
std::vector<std::string> as_words(const bencode::Value& v) {
  std::vector<std::string> out;
  if (const bencode::List* l = v.as_list()) {
    for (const bencode::Value& e : *l)
      if (auto t = as_text(e)) out.push_back(*t);
  } else if (auto t = as_text(v)) {
    out.push_back(*t);
  }
  return out;
}

bool off_word(const std::string& v) {
  std::string n = normalize(v);
  return n == "off" || n == "no" || n == "disable" || n == "disabled" || n.empty();
}

class Reader {
 public:
  explicit Reader(NgOptions* out) : o_(out) {}
  std::optional<std::string> error;

  void fail(std::string reason) {
    if (!error) error = std::move(reason);
  }

  void replace_item(const std::string& raw) {
    std::string r = normalize(raw);
    if (r == "origin") {
      o_->replace_origin = true;
    } else if (r == "session connection" || r == "sessionconnection") {
      o_->replace_session_connection = true;
    } else if (r == "zero address") {
      o_->replace_zero_address = true;
    } else if (r == "force increment sdp ver" || r == "sdp version") {
      o_->bump_version = true;
    } else {
      o_->ignored.push_back("replace-" + raw);
    }
  }

  void rtcp_mux_item(const std::string& raw) {
    std::string r = normalize(raw);
    if (r == "offer")
      o_->rtcp_mux.offer = true;
    else if (r == "require")
      o_->rtcp_mux.require = true;
    else if (r == "demux")
      o_->rtcp_mux.demux = true;
    else if (r == "accept")
      o_->rtcp_mux.accept = true;
    else if (r == "reject")
      o_->rtcp_mux.reject = true;
    else
      o_->ignored.push_back("rtcp-mux-" + raw);
  }

  void sdes_item(const std::string& raw) {
    if (!off_word(raw)) fail("SDES (" + raw + ") is not supported yet (SDES-SRTP comes later)");
  }

  // One key (already normalized) with its value; also "key=value" flags.
  void key(const std::string& k, const bencode::Value& v) {
    auto text = as_text(v);
    if (k == "call id") {
      if (text) o_->call_id = *text;
    } else if (k == "from tag") {
      if (text) o_->from_tag = *text;
    } else if (k == "to tag") {
      if (text) o_->to_tag = *text;
    } else if (k == "via branch") {
      if (text) o_->via_branch = *text;
    } else if (k == "sdp") {
      if (text) o_->sdp = *text;
    } else if (k == "label" || k == "from label") {
      if (text) o_->label = *text;
    } else if (k == "media address") {
      if (text) o_->media_address = *text;
    } else if (k == "received from") {
      std::vector<std::string> w = as_words(v);
      if (w.size() == 2)
        o_->received_from = w[1];
      else if (w.size() == 1)
        o_->received_from = w[0];
      else
        fail("received-from must be [family, address]");
    } else if (k == "address family") {
      std::string f = text ? normalize(*text) : "";
      if (f == "ip4" || f == "ipv4")
        o_->family_v6 = false;
      else if (f == "ip6" || f == "ipv6")
        o_->family_v6 = true;
      else
        fail("address-family must be IP4 or IP6");
    } else if (k == "direction") {
      o_->direction = as_words(v);
    } else if (k == "ice") {
      std::string m = text ? normalize(*text) : "";
      if (m == "remove")
        o_->ice_remove = true;
      else if (m.empty() || m == "default") {
      } else
        fail("ICE=" + *text + " is not supported yet (the relay's ICE agent comes later)");
    } else if (k == "dtls") {
      if (text && !off_word(*text))
        fail("DTLS=" + *text + " is not supported yet (DTLS-SRTP comes later)");
    } else if (k == "sdes") {
      for (const std::string& w : as_words(v)) sdes_item(w);
    } else if (k == "osrtp") {
      if (text && !off_word(*text)) fail("OSRTP is not supported yet");
    } else if (k == "record call") {
      std::string r = text ? normalize(*text) : "";
      if (r == "yes" || r == "on") fail("call recording is not supported yet");
    } else if (k == "transport protocol") {
      transport(text.value_or(""));
    } else if (k == "rtcp mux") {
      for (const std::string& w : as_words(v)) rtcp_mux_item(w);
    } else if (k == "replace") {
      for (const std::string& w : as_words(v)) replace_item(w);
    } else if (k == "delete delay") {
      std::int64_t d = -1;
      if (auto i = v.as_int()) {
        d = *i;
      } else if (text) {
        auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), d);
        if (ec != std::errc() || p != text->data() + text->size()) d = -1;
      }
      if (d < 0)
        fail("delete-delay must be a number of seconds");
      else
        o_->delete_delay_s = d;
    } else if (k == "codec" || k == "t.38" || k == "ptime" || k == "ptime reverse" ||
               k == "media echo") {
      fail(k + " is not supported yet (needs transcoding)");
    } else if (k == "flags") {
      for (const std::string& f : as_words(v)) flag(f);
    }
    // Any other key: rtpengine ignores keys it does not know, and so does the relay.
  }

  void transport(const std::string& p) {
    if (p == "RTP/AVP" || p == "RTP/AVPF") {
      o_->transport_protocol = p;
    } else if (normalize(p) == "accept") {
      o_->accept_protocol = true;
    } else if (p.find("SAVP") != std::string::npos || p.find("TLS") != std::string::npos) {
      fail("transport-protocol " + p + " is not supported yet (needs SRTP)");
    } else {
      fail("transport-protocol " + p + " is not a known RTP profile");
    }
  }

  void flag(const std::string& raw) {
    std::size_t eq = raw.find('=');
    if (eq != std::string::npos) {
      key(normalize(raw.substr(0, eq)), bencode::Value(raw.substr(eq + 1)));
      return;
    }
    const std::string f = normalize(raw);
    auto starts = [&](std::string_view p) { return f.rfind(p, 0) == 0; };
    if (f == "trust address" || f == "symmetric" || f == "port latching" ||
        f == "no port latching" || f == "reset" || f == "all" || f == "unidirectional" ||
        f == "debug" || f == "debugging" || f == "discard recording" || f == "early media") {
      // Defaults here, or nothing to do for a relay without those features.
    } else if (f == "sip source address") {
      o_->sip_source = true;
    } else if (f == "asymmetric") {
      o_->stream.asymmetric = true;
    } else if (f == "strict source") {
      o_->stream.strict_source = true;
    } else if (f == "media handover") {
      o_->stream.media_handover = true;
    } else if (f == "full rtcp attribute") {
      o_->rtcp_attribute = sdp::RtcpAttribute::kFull;
    } else if (f == "no rtcp attribute") {
      o_->rtcp_attribute = sdp::RtcpAttribute::kOmit;
    } else if (f == "original sendrecv") {
      o_->original_sendrecv = true;
    } else if (f == "reject ice") {
      o_->ice_remove = true;
    } else if (f == "fatal") {
      o_->fatal = true;
    } else if (f == "record call" || f == "start recording") {
      fail("call recording is not supported yet");
    } else if (raw == "RTP/AVP" || raw == "RTP/AVPF" || raw == "RTP/SAVP" || raw == "RTP/SAVPF" ||
               raw == "UDP/TLS/RTP/SAVPF") {
      transport(raw);
    } else if (starts("replace ")) {
      replace_item(raw.substr(8));
    } else if (starts("rtcp mux ")) {
      rtcp_mux_item(raw.substr(9));
    } else if (starts("sdes ")) {
      sdes_item(raw.substr(5));
    } else if (starts("ice ")) {
      key("ice", bencode::Value(raw.substr(4)));
    } else if (starts("codec ") || starts("transcode ") || starts("t.38 ") ||
               f == "always transcode" || f == "inject dtmf" || f == "single codec") {
      fail("codec manipulation (" + raw + ") is not supported yet (needs transcoding)");
    } else {
      o_->ignored.push_back(raw);
    }
  }

 private:
  NgOptions* o_;
};

}  // namespace

std::optional<std::string> read_options(const bencode::Dict& req, NgOptions* out) {
  Reader r(out);
  const bencode::Value* flags = nullptr;
  for (std::size_t i = 0; i < req.size(); ++i) {
    const bencode::DictItem& item = req.item(i);
    std::string k = normalize(item.key);
    if (k == "flags") {
      flags = &item.value;  // after the keys, so a flag's key=value wins like rtpengine's
      continue;
    }
    r.key(k, item.value);
  }
  if (flags != nullptr) r.key("flags", *flags);
  return r.error;
}

std::string ignored_warning(const NgOptions& o) {
  if (o.ignored.empty()) return "";
  std::string w = "ignored unknown flags: ";
  for (std::size_t i = 0; i < o.ignored.size(); ++i) {
    if (i > 0) w += ", ";
    w += o.ignored[i];
  }
  return w;
}

}  // namespace strowger::rtprelay::calls
