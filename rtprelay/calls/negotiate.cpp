// CallTable::negotiate: one offer or answer SDP turned into streams (ports, media pairs, side
// parameters) and into the rewritten SDP for the other leg, in rtpengine's shape.
#include "rtprelay/calls/call_table.h"
#include "rtprelay/sdp/session_description.h"

namespace strowger::rtprelay::calls {
namespace {

bool encrypted(std::string_view proto) {
  return proto.find("SAVP") != std::string_view::npos ||
         proto.find("TLS") != std::string_view::npos;
}

media::SideIndex side(int leg) {
  return leg == 0 ? media::SideIndex::kA : media::SideIndex::kB;
}

}  // namespace

std::int64_t CallTable::timeout_for(const Stream& s) const {
  return s.leg[0].hold || s.leg[1].hold ? options_.silent_timeout_ms : options_.media_timeout_ms;
}

std::optional<std::string> CallTable::ensure_interfaces(Call& call, int sender, const NgOptions& o,
                                                        std::optional<bool> sender_v6) {
  // direction = [the offerer's interface, the receiver's]; chosen once per leg, as rtpengine
  // remembers the selection for the answer and later offers.
  auto pick = [&](int leg, std::size_t index,
                  std::optional<bool> v6) -> std::optional<std::string> {
    if (call.legs[leg].iface != nullptr) return std::nullopt;
    std::string name = o.direction.size() > index ? o.direction[index] : "";
    if (!name.empty() && !interfaces_.has_name(name)) {
      // rtpengine's legacy meaning when no such interface exists: a family selector.
      if (name == "internal" || name == "external") {
        if (!v6) v6 = name == "external";
        name.clear();
      } else {
        return "Unknown interface '" + name + "' in direction";
      }
    }
    call.legs[leg].iface = interfaces_.select(name, v6);
    if (call.legs[leg].iface == nullptr) return "No usable interface for '" + name + "'";
    return std::nullopt;
  };
  if (auto e = pick(sender, 0, sender_v6)) return e;
  return pick(1 - sender, 1, o.family_v6 ? o.family_v6 : sender_v6);
}

std::optional<std::string> CallTable::negotiate(Call& call, int sender, const NgOptions& o,
                                                bool is_offer, std::string* sdp_out,
                                                std::vector<std::string>* warnings) {
  if (!o.sdp || o.sdp->empty()) return std::string("No SDP body in message");
  auto parsed = sdp::parse(*o.sdp);
  if (!parsed.ok()) {
    std::string at =
        parsed.error().code > 0 ? "line " + std::to_string(parsed.error().code) + ": " : "";
    return "Failed to parse SDP: " + at + parsed.error().message;
  }
  const sdp::SessionDescription& sd = parsed.value();
  std::optional<bool> sender_v6;
  for (const sdp::Media& m : sd.media) {
    if (m.rejected()) continue;
    if (encrypted(m.proto))
      return "SRTP media (" + std::string(m.proto) + ") is not supported yet (needs SRTP)";
    if (m.proto.find("TCP") != std::string_view::npos)
      return "TCP media (" + std::string(m.proto) + ") cannot be relayed";
    if (!sender_v6 && m.effective_address)
      sender_v6 = m.effective_address->family == sdp::AddressFamily::kIp6;
  }
  // Where the endpoint really is: SDP unless told otherwise (rtpengine's trust-address
  // default); `media address` beats the SIP source.
  std::optional<media::Endpoint> forced;
  if (o.media_address) {
    forced = media::Endpoint::parse(*o.media_address, 0);
    if (!forced) return "media-address '" + *o.media_address + "' is not an IP address";
  } else if (o.sip_source && o.received_from) {
    forced = media::Endpoint::parse(*o.received_from, 0);
    if (!forced) return "received-from '" + *o.received_from + "' is not an IP address";
  }
  if (forced) sender_v6 = forced->is_v6();
  if (auto e = ensure_interfaces(call, sender, o, sender_v6)) return e;

  const int recv = 1 - sender;
  const LocalInterface* out_if = call.legs[recv].iface;
  sdp::RewritePlan plan;
  plan.media.resize(sd.media.size());
  if (call.streams.size() < sd.media.size()) call.streams.resize(sd.media.size());
  bool ice_warned = false;
  for (std::size_t i = 0; i < sd.media.size(); ++i) {
    const sdp::Media& m = sd.media[i];
    Stream& s = call.streams[i];
    sdp::MediaPlan& mp = plan.media[i];
    if (m.rejected()) {  // port 0: passed through, and no ports held for it
      close_stream(s);
      s = Stream{};
      continue;
    }
    if (!is_offer && s.pair == 0) {  // answering a stream the offer did not open
      mp.reject = true;
      continue;
    }
    LegMedia& lm = s.leg[sender];
    const bool zero = sd.zero_address(m);
    std::string ip = forced ? forced->ip_string()
                            : std::string(m.effective_address ? m.effective_address->text : "");
    lm.known = true;
    lm.type = std::string(m.type);
    lm.protocol = std::string(m.proto);
    lm.advertised_rtp = media::Endpoint();
    lm.advertised_rtcp = media::Endpoint();
    if (!zero) {
      if (auto e = media::Endpoint::parse(ip, m.port)) lm.advertised_rtp = *e;
      if (m.rtcp && m.rtcp->port != 0) {
        std::string rip = (m.rtcp->address && !forced) ? std::string(m.rtcp->address->text) : ip;
        if (auto e = media::Endpoint::parse(rip, m.rtcp->port)) lm.advertised_rtcp = *e;
      }
    }
    const sdp::Direction dir = sd.effective_direction(m);
    lm.hold = zero || dir == sdp::Direction::kSendOnly || dir == sdp::Direction::kInactive;

    sdp::RtcpMode mode;
    if (is_offer) {
      mode = sdp::rtcp_mode_for_offer(o.rtcp_mux, m.rtcp_mux);
      s.offerer = sender;
      s.offer_mux_flags = o.rtcp_mux;
      s.offerer_offered_mux = m.rtcp_mux;
      s.offer_protocol = std::string(m.proto);
    } else {
      mode = sdp::rtcp_mode_for_answer(s.offer_mux_flags, o.rtcp_mux, s.offerer_offered_mux,
                                       m.rtcp_mux);
    }
    media::SideParams p;
    p.expected_rtp = lm.advertised_rtp;
    p.expected_rtcp = lm.advertised_rtcp;
    p.flags = o.stream;
    // An offerer only muxes once the answer accepted it; a re-offer keeps what was agreed.
    p.rtcp_mux = is_offer ? (lm.params.rtcp_mux && m.rtcp_mux) : m.rtcp_mux;
    lm.params = p;

    if (s.pair == 0) {
      auto a = call.legs[0].iface->pool->allocate();
      if (!a.ok()) return "Ran out of ports on " + call.legs[0].iface->local.ip_string();
      auto b = call.legs[1].iface->pool->allocate();
      if (!b.ok()) return "Ran out of ports on " + call.legs[1].iface->local.ip_string();
      s.leg[0].local_port = a.value().rtp_port();
      s.leg[1].local_port = b.value().rtp_port();
      media::PairOptions po;
      po.timeout_ms = timeout_for(s);
      s.pair = engine_.create_pair(std::move(a.value()), std::move(b.value()), s.leg[0].params,
                                   s.leg[1].params, po);
      pair_owner_[s.pair] = call.call_id;
    } else {
      engine_.update_side(s.pair, side(sender), lm.params);
      engine_.set_timeout(s.pair, timeout_for(s));
    }
    if (!is_offer) {
      LegMedia& offerer = s.leg[recv];
      offerer.params.rtcp_mux = mode == sdp::RtcpMode::kMux;
      engine_.update_side(s.pair, side(recv), offerer.params);
    }
    s.timed_out = false;

    mp.address = out_if->advertise;
    mp.rtp_port = s.leg[recv].local_port;
    mp.rtcp_port = static_cast<std::uint16_t>(s.leg[recv].local_port + 1);
    mp.rtcp = mode;
    mp.rtcp_attribute = o.rtcp_attribute;
    // Candidates of the endpoint would let media bypass the relay: without ICE=force support
    // they go (rtpengine's default would replace them with its own).
    if (o.ice_remove || m.has_ice()) {
      mp.ice = sdp::IceMode::kRemove;
      if (!o.ice_remove && !ice_warned) {
        warnings->push_back("ICE attributes removed (ICE=force is not supported yet)");
        ice_warned = true;
      }
    }
    if (m.is_rtp()) {
      if (is_offer && o.transport_protocol && *o.transport_protocol != m.proto)
        mp.proto = *o.transport_protocol;
      if (!is_offer && !o.accept_protocol && !s.offer_protocol.empty() &&
          s.offer_protocol != m.proto)
        mp.proto = s.offer_protocol;
    }
    if (o.original_sendrecv) mp.direction = dir;
    mp.replace_zero_address = o.replace_zero_address;
  }
  plan.session.replace_origin = o.replace_origin;
  plan.session.replace_session_connection = o.replace_session_connection;
  plan.session.replace_zero_address = o.replace_zero_address;
  plan.session.bump_version = o.bump_version;
  plan.session.address = out_if->advertise;
  auto text = sdp::rewrite(sd, plan);
  if (!text.ok()) return "Failed to rewrite SDP: " + text.error().message;
  *sdp_out = std::move(text.value());
  return std::nullopt;
}

}  // namespace strowger::rtprelay::calls
