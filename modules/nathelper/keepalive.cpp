// NAT keepalives: pings to the bindings' source addresses, replies matched by From tag, silent
// bindings removed after keepalive_timeout.
#include "modules/nathelper/keepalive.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <unordered_set>
#include <vector>

#include "modules/nathelper/nat_address.h"

namespace strowger::modules::nathelper {
namespace {

using sipproxy::usrloc::Binding;

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// Kamailio's UDP keepalive: four zero bytes, which a SIP stack ignores.
constexpr std::string_view kUdpPing{"\0\0\0\0", 4};
// RFC 5626 3.5.1 keepalive on a connection.
constexpr std::string_view kCrlfPing = "\r\n\r\n";

}  // namespace

Pinger::Pinger(PingConfig config, sipproxy::usrloc::Location& location, SendFn send,
               ListenFn listen)
    : config_(std::move(config)),
      location_(location),
      send_(std::move(send)),
      listen_(std::move(listen)) {
  // Call-IDs of different runs must differ even though the counter restarts.
  counter_.store(std::random_device{}() & 0xffffffu);
}

PingStats Pinger::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Pinger::wanted(const Binding& b) const {
  if (config_.nated_only && !(b.flags & sipproxy::usrloc::kFlagNat)) return false;
  if (b.source_ip.empty() || b.source_port == 0) return false;
  const int proto = proto_number(b.proto);
  if (proto == 1) return true;
  if (!config_.natping_tcp || b.connection_id == 0) return false;
  // A CRLF keepalive means nothing inside WebSocket frames; a SIP ping does.
  return config_.sipping_from.empty() ? (proto == 2 || proto == 3) : proto != 0;
}

std::optional<std::string> Pinger::build_sip_ping(const Binding& b, std::uint64_t counter) const {
  auto local = listen_ ? listen_(b.proto) : std::nullopt;
  if (!local || has_line_break(b.contact) || b.contact.empty()) return std::nullopt;
  const std::string& method = config_.sipping_method;
  const std::string n = hex(counter);
  std::string req;
  req.reserve(512);
  req += method + " " + b.contact + " SIP/2.0\r\n";
  req += "Via: SIP/2.0/" + upper(b.proto) + " " + uri_host(local->ip) + ":" +
         std::to_string(local->port) + ";branch=" + std::string(kBranchPrefix) + n + "\r\n";
  for (const std::string& p : b.path) {
    if (has_line_break(p)) return std::nullopt;
    req += "Route: " + p + "\r\n";
  }
  req += "Max-Forwards: 70\r\n";
  req += "From: <" + config_.sipping_from + ">;tag=" + b.ruid + "-" + n + "\r\n";
  req += "To: <" + b.contact + ">\r\n";
  req += "Call-ID: nhping-" + n + "@" + uri_host(local->ip) + "\r\n";
  req += "CSeq: 1 " + method + "\r\n";
  req += "Content-Length: 0\r\n\r\n";
  return req;
}

void Pinger::ping(const Binding& b) {
  const sipproxy::Peer to{b.proto, b.source_ip, b.source_port};
  const std::uint64_t conn = proto_number(b.proto) == 1 ? 0 : b.connection_id;
  bool sent = false;
  enum { kUdp, kCrlf, kSip } kind;
  if (!config_.sipping_from.empty()) {
    auto req = build_sip_ping(b, counter_.fetch_add(1) + 1);
    if (!req) {
      std::lock_guard lock(mu_);
      stats_.send_failures++;
      return;
    }
    kind = kSip;
    sent = send_(to, conn, std::move(*req));
  } else if (conn == 0) {
    kind = kUdp;
    sent = send_(to, 0, std::string(kUdpPing));
  } else {
    kind = kCrlf;
    sent = send_(to, conn, std::string(kCrlfPing));
  }
  std::lock_guard lock(mu_);
  if (!sent) {
    stats_.send_failures++;
  } else if (kind == kSip) {
    stats_.sip_pings++;
  } else if (kind == kUdp) {
    stats_.udp_pings++;
  } else {
    stats_.crlf_pings++;
  }
}

bool Pinger::silent_too_long(const Binding& b, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = last_answer_.try_emplace(b.ruid, now);
  if (fresh) return false;  // first ping: its clock starts now
  return now - std::max(it->second, b.last_modified) > config_.keepalive_timeout_s;
}

void Pinger::run_round() {
  if (!enabled_.load() || config_.interval_s <= 0) return;
  const bool expire = config_.keepalive_timeout_s > 0 && !config_.sipping_from.empty();
  const std::int64_t now = location_.now();
  std::unordered_set<std::string> seen;
  for (const std::string& aor : location_.aors()) {
    for (const Binding& b : location_.get(aor)) {
      if (!wanted(b)) continue;
      seen.insert(b.ruid);
      if (expire && silent_too_long(b, now)) {
        bool removed = false;
        location_.update(aor, [&](std::vector<Binding>& bindings) {
          auto it = std::find_if(bindings.begin(), bindings.end(),
                                 [&](const Binding& x) { return x.ruid == b.ruid; });
          // Checked again under the AOR's lock: a REGISTER may have refreshed it meanwhile.
          if (it == bindings.end() || !silent_too_long(*it, now)) return false;
          bindings.erase(it);
          removed = true;
          return true;
        });
        if (removed) {
          std::lock_guard lock(mu_);
          stats_.removed++;
          last_answer_.erase(b.ruid);
          seen.erase(b.ruid);
          continue;
        }
      }
      ping(b);
    }
  }
  std::lock_guard lock(mu_);
  stats_.rounds++;
  // Bindings that expired or were removed are forgotten.
  for (auto it = last_answer_.begin(); it != last_answer_.end();)
    it = seen.count(it->first) ? std::next(it) : last_answer_.erase(it);
}

bool Pinger::on_reply(const sipproxy::Message& reply) {
  if (!reply.is_response() || reply.via_count() != 1) return false;
  auto via = reply.via(0);
  if (!via || !via->branch.starts_with(kBranchPrefix)) return false;
  if (reply.cseq_method_name() != config_.sipping_method) return false;
  auto from = reply.from_uri();
  auto ours = sipproxy::Uri::parse(config_.sipping_from);
  if (!from || !ours || from->to_string() != ours->to_string()) return false;
  const std::string_view tag = reply.from_tag();
  const std::size_t dash = tag.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  const std::string ruid(tag.substr(0, dash));
  const std::int64_t now = location_.now();
  std::lock_guard lock(mu_);
  auto it = last_answer_.find(ruid);
  if (it == last_answer_.end()) return false;  // not a binding we are pinging
  it->second = std::max(it->second, now);
  stats_.replies++;
  return true;
}

}  // namespace strowger::modules::nathelper
