// The flags string -> ng dictionary mapping of Kamailio's rtpengine module (parse_flags and
// rtpp_function_call): sub-lists for replace-/rtcp-mux-/SDES-, transport bits, direction,
// via-branch, to-tag, call-id/from-tag overrides, integer keys; anything else is a bare flag
// (into `flags`) or key=value (a string key of its own).
#include "modules/rtprelay/ng_flags.h"

#include <charconv>
#include <optional>

namespace strowger::modules::rtprelay {
namespace {

namespace bencode = common::bencode;

// Kamailio's transport bits: 0x100 "set", 0x001 secure, 0x002 feedback, 0x004 DTLS.
constexpr const char* kTransports[8] = {
    "RTP/AVP",          "RTP/SAVP", "RTP/AVPF",          "RTP/SAVPF",
    "UDP/TLS/RTP/SAVP", nullptr,    "UDP/TLS/RTP/SAVPF", nullptr};

struct Parsed {
  bencode::Dict dict;  // key=value items and integers, in order of appearance
  bencode::List flags, direction, replace, rtcp_mux, sdes;
  unsigned transport = 0;
  bool to = true;  // add the To tag (Kamailio: not for delete unless the to-tag flag)
  std::string to_tag_override;
  bool has_to_override = false;
  std::string call_id, from_tag;
  int via = 0;  // 1, 2, 3 = auto
};

std::optional<std::int64_t> leading_int(std::string_view v) {
  // atoi semantics: leading digits (optional sign); Kamailio takes "20ms" as 20.
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p == v.data()) return std::nullopt;
  return n;
}

std::optional<std::string> parse(NgOp& op, std::string_view flags, Parsed& out) {
  std::size_t pos = 0;
  while (pos < flags.size()) {
    while (pos < flags.size() && flags[pos] == ' ') ++pos;
    if (pos >= flags.size()) break;
    std::size_t end = flags.find(' ', pos);
    if (end == std::string_view::npos) end = flags.size();
    std::string_view item = flags.substr(pos, end - pos);
    pos = end;
    std::string_view key = item, val;
    bool has_val = false;
    if (std::size_t eq = item.find('='); eq != std::string_view::npos) {
      key = item.substr(0, eq);
      val = item.substr(eq + 1);
      has_val = true;
    }
    auto err = [&](std::string_view why) {
      return "flag '" + std::string(item) + "': " + std::string(why);
    };
    if (key.empty()) return err("empty name");

    if (key.starts_with("replace-") && key.size() > 8) {
      out.replace.emplace_back(key.substr(8));
      continue;
    }
    if (key.starts_with("rtcp-mux-") && key.size() > 9) {
      out.rtcp_mux.emplace_back(key.substr(9));
      continue;
    }
    if (key.starts_with("SDES-") && key.size() > 5) {
      out.sdes.emplace_back(key.substr(5));
      continue;
    }
    if (!has_val) {
      if (key == "RTP") {
        out.transport = (out.transport | 0x100) & ~0x001u;
        continue;
      }
      if (key == "AVP") {
        out.transport = (out.transport | 0x100) & ~0x002u;
        continue;
      }
      if (key == "SRTP") {
        out.transport |= 0x101;
        continue;
      }
      if (key == "AVPF") {
        out.transport |= 0x102;
        continue;
      }
      if (key == "DTLS") {
        out.transport |= 0x104;
        continue;
      }
      bool known = false;
      for (unsigned i = 0; i < 8; ++i) {
        if (kTransports[i] && key == kTransports[i]) {
          out.transport = 0x100 | i;
          known = true;
        }
      }
      if (known) continue;
      if (key == "internal" || key == "external") {
        out.direction.emplace_back(key);
        continue;
      }
      if (key == "force-answer") {
        if (op != NgOp::kOffer) return err("cannot force answer in non-offer command");
        op = NgOp::kAnswer;
        continue;
      }
    }
    if (key == "to-tag") {
      if (has_val) {
        out.to_tag_override = std::string(val);
        out.has_to_override = true;
      }
      out.to = true;
      continue;
    }
    if (key == "call-id" || key == "from-tag") {
      if (!has_val || val.empty()) return err("missing value");
      (key == "call-id" ? out.call_id : out.from_tag) = std::string(val);
      continue;
    }
    if (key == "direction") {
      if (!has_val) return err("missing value");
      out.direction.emplace_back(val);
      continue;
    }
    if (key == "via-branch") {
      if (!has_val || val.empty()) return err("missing value");
      if (val[0] == '1' || val[0] == '2') {
        out.via = val[0] - '0';
      } else if (val == "auto") {
        out.via = 3;
      } else {
        // extra/next need Kamailio's extra_id_pv and branch counters we do not have.
        return err("invalid value (want 1, 2 or auto)");
      }
      continue;
    }
    if (has_val && (key == "TOS" || key == "repacketize" || key == "delete-delay")) {
      auto n = leading_int(val);
      if (!n || (key == "repacketize" && *n <= 0)) return err("invalid value");
      out.dict.set(key == "delete-delay" ? "delete delay" : key, *n);
      continue;
    }
    if (has_val) {
      out.dict.set(key, val);
    } else {
      out.flags.emplace_back(key);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view ng_op_name(NgOp op) {
  switch (op) {
    case NgOp::kOffer:
      return "offer";
    case NgOp::kAnswer:
      return "answer";
    case NgOp::kDelete:
      return "delete";
    case NgOp::kQuery:
      return "query";
  }
  return "";
}

std::optional<std::string> check_flags(NgOp op, std::string_view flags) {
  Parsed p;
  return parse(op, flags, p);
}

common::Result<bencode::Dict> build_ng_request(NgOp& op, std::string_view flags,
                                               const MessageFacts& msg) {
  Parsed p;
  p.to = op != NgOp::kDelete;
  p.call_id = msg.call_id;
  p.from_tag = msg.from_tag;
  if (auto e = parse(op, flags, p)) return common::Error{0, *e};
  if (p.call_id.empty()) return common::Error{0, "no Call-ID"};
  if (p.from_tag.empty()) return common::Error{0, "no From tag"};
  std::string to_tag = p.has_to_override ? p.to_tag_override : msg.to_tag;

  bencode::Dict d = std::move(p.dict);
  if (op == NgOp::kOffer || op == NgOp::kAnswer) d.set("sdp", msg.sdp);
  if (!p.direction.empty()) d.set("direction", std::move(p.direction));
  if (!p.flags.empty()) d.set("flags", std::move(p.flags));
  if (!p.replace.empty()) d.set("replace", std::move(p.replace));
  if (!p.sdes.empty()) d.set("SDES", std::move(p.sdes));
  if (p.transport & 0x100) {
    const char* t = kTransports[p.transport & 0x007];
    if (!t) return common::Error{0, "flags ask for an impossible transport-protocol"};
    d.set("transport-protocol", t);
  }
  if (!p.rtcp_mux.empty()) d.set("rtcp-mux", std::move(p.rtcp_mux));
  d.set("call-id", p.call_id);
  if (p.via) {
    // auto: the sender's own Via is the first on a request, the second on a reply (the top
    // one there is ours).
    std::size_t index = p.via == 3 ? (msg.is_request ? 0 : 1) : static_cast<std::size_t>(p.via - 1);
    if (index >= msg.via_branches.size() || msg.via_branches[index].empty())
      return common::Error{0, "no Via branch " + std::to_string(index + 1)};
    d.set("via-branch", msg.via_branches[index]);
  }
  if (op == NgOp::kOffer || op == NgOp::kAnswer) {
    bencode::List from;
    from.emplace_back(msg.source_ip.find(':') != std::string::npos ? "IP6" : "IP4");
    from.emplace_back(msg.source_ip);
    d.set("received-from", std::move(from));
  }
  // The offerer's tag is from-tag: the From tag on requests other than an answer (and on
  // replies carrying an answer or a delete); an answer in a request (ACK, PRACK) or an offer
  // in a reply (late offer) comes from the callee, so the tags swap.
  if ((msg.is_request && op != NgOp::kAnswer) ||
      (!msg.is_request && (op == NgOp::kAnswer || op == NgOp::kDelete))) {
    d.set("from-tag", p.from_tag);
    if (p.to && !to_tag.empty()) d.set("to-tag", to_tag);
  } else {
    if (to_tag.empty()) return common::Error{0, "no To tag"};
    d.set("from-tag", to_tag);
    d.set("to-tag", p.from_tag);
  }
  d.set("command", ng_op_name(op));
  return d;
}

}  // namespace strowger::modules::rtprelay
