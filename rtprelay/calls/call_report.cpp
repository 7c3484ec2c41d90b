// CallTable's reports: counters fetched from the media workers, and the query, statistics
// replies in rtpengine's shape (totals, tags -> medias -> streams).
#include <poll.h>

#include <ctime>

#include "rtprelay/calls/call_table.h"
#include "rtprelay/control/ng_message.h"

namespace strowger::rtprelay::calls {
namespace {

bencode::Dict endpoint_dict(const media::Endpoint& e) {
  bencode::Dict d;
  d.set("family", e.is_v6() ? "IPv6" : "IPv4");
  d.set("address", e.ip_string());
  d.set("port", static_cast<std::int64_t>(e.port()));
  return d;
}

bencode::Dict stats_dict(std::uint64_t packets, std::uint64_t bytes, std::uint64_t errors) {
  bencode::Dict d;
  d.set("packets", static_cast<std::int64_t>(packets));
  d.set("bytes", static_cast<std::int64_t>(bytes));
  d.set("errors", static_cast<std::int64_t>(errors));
  return d;
}

// Monotonic ms of a packet to UNIX seconds; 0 stays 0 (no packet yet).
std::int64_t to_unix(std::int64_t mono_ms) {
  if (mono_ms == 0) return 0;
  return static_cast<std::int64_t>(std::time(nullptr)) - (media::monotonic_ms() - mono_ms) / 1000;
}

}  // namespace

CallTable::StatsMap CallTable::collect(const Call& call) {
  std::vector<media::PairId> ids;
  for (const Stream& s : call.streams)
    if (s.pair != 0) ids.push_back(s.pair);
  return collect(ids);
}

// Asks each pair's worker for its counters and waits for the answers on the engine's event
// fd. A worker answers between two packet batches, so this is a short wait; engine timeouts
// arriving meanwhile are queued (busy_) rather than run under the caller's feet.
CallTable::StatsMap CallTable::collect(const std::vector<media::PairId>& ids) {
  auto out = std::make_shared<StatsMap>();
  auto pending = std::make_shared<std::size_t>(ids.size());
  for (media::PairId id : ids) {
    engine_.query(id, [out, pending, id](std::optional<media::PairStats> s) {
      if (s) (*out)[id] = std::move(*s);
      --*pending;
    });
  }
  ++busy_;
  const std::int64_t deadline = media::monotonic_ms() + options_.stats_wait_ms;
  while (*pending > 0) {
    engine_.drain();
    if (*pending == 0 || media::monotonic_ms() >= deadline) break;
    pollfd p{engine_.event_fd(), POLLIN, 0};
    ::poll(&p, 1, 5);
  }
  --busy_;
  return *out;
}

void CallTable::build_query(const Call& call, const StatsMap& stats, bencode::Dict& out) const {
  out.set("created", call.created_s);
  out.set("last signal", call.last_signal_s);
  std::uint64_t rtp[3] = {0, 0, 0}, rtcp[3] = {0, 0, 0};
  bencode::Dict tags;
  for (int leg = 0; leg < 2; ++leg) {
    const Leg& l = call.legs[leg];
    bencode::Dict t;
    t.set("tag", l.tag);
    t.set("created", l.created_s);
    if (!l.label.empty()) t.set("label", l.label);
    if (!call.legs[1 - leg].tag.empty()) t.set("in dialogue with", call.legs[1 - leg].tag);
    bencode::List medias;
    for (std::size_t i = 0; i < call.streams.size(); ++i) {
      const Stream& s = call.streams[i];
      const LegMedia& lm = s.leg[leg];
      bencode::Dict m;
      m.set("index", static_cast<std::int64_t>(i + 1));
      m.set("type", lm.type.empty() ? s.leg[1 - leg].type : lm.type);
      m.set("protocol", lm.protocol.empty() ? s.leg[1 - leg].protocol : lm.protocol);
      bencode::List mflags;
      if (s.pair != 0) mflags.emplace_back("initialized");
      if (lm.params.rtcp_mux) mflags.emplace_back("rtcp-mux");
      m.set("flags", std::move(mflags));
      bencode::List streams;
      const media::SideStats* side = nullptr;
      if (auto it = stats.find(s.pair); s.pair != 0 && it != stats.end())
        side = leg == 0 ? &it->second.a : &it->second.b;
      if (s.pair != 0) {
        for (int comp = 0; comp < 2; ++comp) {
          bencode::Dict st;
          st.set("local port", static_cast<std::int64_t>(lm.local_port + comp));
          const media::Endpoint& adv = comp == 0 ? lm.advertised_rtp : lm.advertised_rtcp;
          media::Endpoint adv_or =
              adv.is_set() || comp == 0 || !lm.advertised_rtp.is_set()
                  ? adv
                  : lm.advertised_rtp.with_port(static_cast<std::uint16_t>(
                        lm.advertised_rtp.port() + (lm.params.rtcp_mux ? 0 : 1)));
          if (adv_or.is_set()) st.set("advertised endpoint", endpoint_dict(adv_or));
          bencode::List sflags;
          sflags.emplace_back(comp == 0 ? "RTP" : "RTCP");
          std::uint64_t pk = 0, by = 0, er = 0;
          std::int64_t last = 0;
          if (side != nullptr) {
            const media::Endpoint& peer = comp == 0 ? side->rtp_peer : side->rtcp_peer;
            if (peer.is_set()) {
              st.set("endpoint", endpoint_dict(peer));
              sflags.emplace_back("filled");
            }
            if (side->confirmed) sflags.emplace_back("confirmed");
            const media::SideCounters& c = side->counters;
            pk = comp == 0 ? c.rtp_packets : c.rtcp_packets;
            by = comp == 0 ? c.rtp_bytes : c.rtcp_bytes;
            er = comp == 0 ? c.errors : 0;
            last = c.last_packet_ms;
          }
          std::uint64_t* tot = comp == 0 ? rtp : rtcp;
          tot[0] += pk;
          tot[1] += by;
          tot[2] += er;
          st.set("last packet", to_unix(last));
          st.set("flags", std::move(sflags));
          st.set("stats", stats_dict(pk, by, er));
          streams.emplace_back(std::move(st));
        }
      }
      m.set("streams", std::move(streams));
      medias.emplace_back(std::move(m));
    }
    t.set("medias", std::move(medias));
    tags.set(l.tag, std::move(t));
  }
  out.set("tags", std::move(tags));
  bencode::Dict totals;
  totals.set("RTP", stats_dict(rtp[0], rtp[1], rtp[2]));
  totals.set("RTCP", stats_dict(rtcp[0], rtcp[1], rtcp[2]));
  out.set("totals", std::move(totals));
}

void CallTable::query(const bencode::Dict& req, bencode::Dict& reply) {
  NgOptions o;
  if (auto e = read_options(req, &o)) return control::set_error(reply, *e);
  if (o.call_id.empty()) return control::set_error(reply, "No call-id in message");
  if (!query_call(o.call_id, reply)) control::set_error(reply, "Unknown call-id");
}

bool CallTable::query_call(const std::string& call_id, bencode::Dict& out) {
  Call* call = find(call_id);
  if (call == nullptr) return false;
  ++busy_;
  StatsMap stats = collect(*call);
  build_query(*call, stats, out);
  --busy_;
  process_timeouts();
  return true;
}

void CallTable::statistics(bencode::Dict& reply) {
  std::vector<media::PairId> ids;
  for (const auto& [id, call] : calls_)
    for (const Stream& s : call->streams)
      if (s.pair != 0) ids.push_back(s.pair);
  StatsMap stats = collect(ids);
  std::uint64_t packets = counters_.packets, bytes = counters_.bytes, errors = counters_.errors;
  std::int64_t zero_way = 0, one_way = 0;
  for (const auto& [id, st] : stats) {
    std::uint64_t a = st.a.counters.rtp_packets + st.a.counters.rtcp_packets;
    std::uint64_t b = st.b.counters.rtp_packets + st.b.counters.rtcp_packets;
    packets += a + b;
    bytes += st.a.counters.rtp_bytes + st.a.counters.rtcp_bytes + st.b.counters.rtp_bytes +
             st.b.counters.rtcp_bytes;
    errors += st.a.counters.errors + st.b.counters.errors;
    if (a == 0 && b == 0)
      ++zero_way;
    else if (a == 0 || b == 0)
      ++one_way;
  }
  const std::int64_t now = media::monotonic_ms();
  const double dt = static_cast<double>(now - last_rate_ms_) / 1000.0;
  auto rate = [dt](std::uint64_t cur, std::uint64_t prev) {
    return dt > 0 && cur >= prev ? static_cast<std::int64_t>(static_cast<double>(cur - prev) / dt)
                                 : std::int64_t{0};
  };
  bencode::Dict current;
  current.set("sessionsown", static_cast<std::int64_t>(calls_.size()));
  current.set("sessionsforeign", 0);
  current.set("sessionstotal", static_cast<std::int64_t>(calls_.size()));
  current.set("transcodedmedia", 0);
  current.set("packetrate", rate(packets, last_rate_packets_));
  current.set("byterate", rate(bytes, last_rate_bytes_));
  current.set("errorrate", rate(errors, last_rate_errors_));
  last_rate_packets_ = packets;
  last_rate_bytes_ = bytes;
  last_rate_errors_ = errors;
  last_rate_ms_ = now;
  const std::uint64_t ended = counters_.regular_terminated + counters_.forced_terminated +
                              counters_.timeouts + counters_.silent_timeouts;
  char avg[32];
  snprintf(avg, sizeof(avg), "%.6f",
           ended ? counters_.call_seconds / static_cast<double>(ended) : 0.0);
  bencode::Dict total;
  total.set("uptime", std::to_string((now - started_ms_) / 1000));
  total.set("managedsessions", static_cast<std::int64_t>(counters_.managed));
  total.set("rejectedsessions", static_cast<std::int64_t>(counters_.rejected));
  total.set("timeoutsessions", static_cast<std::int64_t>(counters_.timeouts));
  total.set("silenttimeoutsessions", static_cast<std::int64_t>(counters_.silent_timeouts));
  total.set("finaltimeoutsessions", 0);
  total.set("offertimeoutsessions", 0);
  total.set("regularterminatedsessions", static_cast<std::int64_t>(counters_.regular_terminated));
  total.set("forcedterminatedsessions", static_cast<std::int64_t>(counters_.forced_terminated));
  total.set("relayedpackets", static_cast<std::int64_t>(packets));
  total.set("relayedbytes", static_cast<std::int64_t>(bytes));
  total.set("relayedpacketerrors", static_cast<std::int64_t>(errors));
  total.set("zerowaystreams", zero_way);
  total.set("onewaystreams", one_way);
  total.set("avgcallduration", std::string(avg));
  bencode::Dict s;
  s.set("currentstatistics", std::move(current));
  s.set("totalstatistics", std::move(total));
  if (ng_stats_ != nullptr) {
    bencode::Dict ctl;
    ctl.set("requests", static_cast<std::int64_t>(ng_stats_->requests));
    ctl.set("retransmissions", static_cast<std::int64_t>(ng_stats_->retransmissions));
    ctl.set("totalerrorcount", static_cast<std::int64_t>(ng_stats_->errors));
    s.set("controlstatistics", std::move(ctl));
  }
  reply.set("statistics", std::move(s));
}

}  // namespace strowger::rtprelay::calls
