// DryRunHost: records replies, relays and log lines instead of touching the network.
#include "proxy/script/engine/dry_run_host.h"

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {
namespace {

const char* level_name(int level) {
  switch (level) {
    case kLogAlert:
      return "ALERT";
    case kLogBug:
      return "BUG";
    case kLogCrit:
      return "CRIT";
    case kLogErr:
      return "ERROR";
    case kLogWarn:
      return "WARNING";
    case kLogNotice:
      return "NOTICE";
    case kLogInfo:
      return "INFO";
    default:
      return "DEBUG";
  }
}

std::string route_label(const Program* p, int idx) {
  if (!p || idx < 0 || static_cast<std::size_t>(idx) >= p->routes.size()) return {};
  const auto& r = p->routes[static_cast<std::size_t>(idx)];
  return std::string(route_kind_keyword(r.kind)) + "[" + r.name + "]";
}

}  // namespace

bool DryRunHost::is_myself(std::string_view host, std::uint16_t port) const {
  std::string h(host);
  if (!h.empty() && h.front() == '[') h = h.substr(1, h.size() - 2);
  if (iequals(h, local_.ip) && (port == 0 || port == local_.port)) return true;
  for (const auto& a : aliases_) {
    std::string ah = a;
    std::uint16_t ap = 0;
    auto colon = a.rfind(':');
    if (colon != std::string::npos && a.find(':') == colon) {
      ah = a.substr(0, colon);
      ap = static_cast<std::uint16_t>(parse_int(a.substr(colon + 1)).value_or(0));
    }
    if (iequals(h, ah) && (port == 0 || ap == 0 || port == ap)) return true;
  }
  return false;
}

void DryRunHost::action(std::string text) {
  if (trace_) trace_->line("=> " + text);
  actions_.push_back(std::move(text));
}

int DryRunHost::reply(int code, std::string_view reason, ReplyMode mode) {
  return reply_with_headers(code, reason, {}, mode);
}

int DryRunHost::reply_with_headers(int code, std::string_view reason, std::string_view headers,
                                   ReplyMode mode) {
  if (!msg_.is_request()) return -1;
  if (msg_.method() == sip::Method::kAck) {
    log(kLogErr, "cannot reply to an ACK");
    return -1;
  }
  bool stateful = mode == ReplyMode::kStateful || (mode == ReplyMode::kAuto && transaction_);
  if (mode == ReplyMode::kStateful) transaction_ = true;
  std::string text = "reply " + std::to_string(code) + " " + std::string(reason) +
                     (stateful ? " (stateful)" : " (stateless)");
  // Extra headers shown one per line, so a golden trace pins them down.
  for (std::string_view rest = headers; !rest.empty();) {
    std::size_t end = rest.find("\r\n");
    std::string_view line = rest.substr(0, end);
    if (!line.empty()) text += "\n  + " + std::string(line);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 2);
  }
  action(text);
  return 1;
}

std::string DryRunHost::next_hop(const std::string& du) const {
  if (!du.empty()) return du;
  auto routes = msg_.routes();
  if (!routes.empty()) return routes[0].to_string() + " (Route)";
  return msg_.request_uri().to_string();
}

int DryRunHost::relay(const RelayRequest& r) {
  if (!msg_.is_request()) return -1;
  transaction_ = true;
  forwarded_ = true;
  std::string text = "relay (stateful) to ";
  text += r.host.empty() ? next_hop(r.dst_uri) : r.host + ":" + std::to_string(r.port);
  for (const auto& b : r.branches) {
    text += " + branch " + b.uri;
    if (!b.dst_uri.empty()) text += " via " + b.dst_uri;
  }
  if (r.failure_route >= 0) text += ", failure route " + route_label(program, r.failure_route);
  if (r.onreply_route >= 0) text += ", reply route " + route_label(program, r.onreply_route);
  if (r.branch_route >= 0) text += ", branch route " + route_label(program, r.branch_route);
  if (r.fr_inv_timer_ms || r.fr_timer_ms) {
    text += ", fr_inv " + std::to_string(r.fr_inv_timer_ms) + " ms, fr " +
            std::to_string(r.fr_timer_ms) + " ms";
  }
  action(text);
  return 1;
}

int DryRunHost::forward_stateless(const ForwardRequest& r) {
  forwarded_ = true;
  std::string to = r.host.empty() ? next_hop(r.dst_uri) : r.host;
  if (!r.host.empty() && r.port) to += ":" + std::to_string(r.port);
  action("forward (stateless) to " + to);
  return 1;
}

int DryRunHost::record_route(std::string_view params) {
  sip::Uri u;
  u.scheme = "sip";
  u.host = local_.ip.find(':') != std::string::npos ? "[" + local_.ip + "]" : local_.ip;
  u.port = local_.port;
  u.params = "lr";
  if (!params.empty()) u.params += (params.front() == ';' ? "" : ";") + std::string(params);
  return msg_.push_record_route(u) ? 1 : -1;
}

int DryRunHost::add_rr_param(std::string_view param) {
  // The dry run puts its Record-Route in at record_route(): a later parameter goes onto it.
  std::vector<sip::Uri> rr = msg_.record_routes();
  if (rr.empty() || param.empty()) return rr.empty() ? 1 : -1;
  std::string p(param.front() == ';' ? param.substr(1) : param);
  rr.front().params += ";" + p;
  msg_.remove_headers("Record-Route");
  for (auto it = rr.rbegin(); it != rr.rend(); ++it) {
    if (!msg_.push_record_route(*it)) return -1;
  }
  return 1;
}

int DryRunHost::record_route_preset(std::string_view uri, std::string_view uri2) {
  for (std::string_view text : {uri2, uri}) {  // uri ends on top
    if (text.empty()) continue;
    std::string t(text);
    if (t.rfind("sip:", 0) != 0 && t.rfind("sips:", 0) != 0) t = "sip:" + t;
    auto u = sip::Uri::parse(t);
    if (!u) return -1;
    if (!u->has_param("lr")) u->set_param("lr", "");
    if (!msg_.push_record_route(*u)) return -1;
  }
  return 1;
}

int DryRunHost::t_newtran() {
  if (!msg_.is_request() || msg_.method() == sip::Method::kAck) return -1;
  transaction_ = true;
  return 1;
}

int DryRunHost::t_check_trans() {
  // A dry run has no transactions: nothing matches (not a retransmission, no INVITE
  // transaction for a CANCEL or an ACK).
  return -1;
}

void DryRunHost::log(int level, std::string_view text) {
  if (trace_) trace_->line(std::string("log ") + level_name(level) + ": " + std::string(text));
}

}  // namespace strowger::proxy::script::engine
