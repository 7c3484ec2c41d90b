// Proxy: request checks (RFC 3261 16.3), route pre-processing (16.4), loop detection and the
// built-in target selection (by Request-URI) used when no routing script is configured.
#include "proxy/core/proxy.h"

#include "common/log.h"

namespace strowger::proxy::core {
namespace {

constexpr std::string_view kAllow =
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, PRACK, UPDATE, MESSAGE, SUBSCRIBE, "
    "NOTIFY, REFER\r\n";

}  // namespace

std::uint64_t Proxy::hash_field(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h ^ 0xff;  // field separator
}

Proxy::Proxy(const config::ProxyConfig& config, const LocalAddresses& local,
             dns::Resolver& resolver, transaction::Sender& sender, int worker_index)
    : config_(config), local_(local), resolver_(resolver), sender_(sender), worker_index_(worker_index) {}

Proxy::~Proxy() {
  *alive_ = false;
  for (ResponseContext* ctx : contexts_) delete ctx;
  contexts_.clear();
}

bool Proxy::handle_stateless(sip::Message& request, const transport::Peer& from) {
  // Kamailio's default script answers keep-alive OPTIONS to the proxy itself with sl_send_reply.
  if (request.method() != sip::Method::kOptions) return false;
  sip::Uri ruri = request.request_uri();
  if (!ruri.is_sip() || !ruri.user.empty() || !local_.is_myself(ruri)) return false;
  if (!request.routes().empty() || !request.to_tag().empty()) return false;
  auto mf = request.max_forwards();
  if (mf && *mf == 0) return false;  // 483 statefully, as for any request
  ++stats_.requests;
  reply_stateless(request, from, 200, "OK", kAllow);
  return true;
}

void Proxy::reply_stateless(const sip::Message& request, const transport::Peer& from, int status,
                            std::string_view reason, std::string_view extra_headers) {
  // A stable To tag, so a retransmitted request gets the same answer (RFC 3261 16.11 spirit).
  char tag[24];
  std::uint64_t h = hash_field(kHashSeed, request.call_id());
  h = hash_field(h, request.from_tag());
  if (auto via = request.via(0)) h = hash_field(h, via->branch);
  snprintf(tag, sizeof tag, "sl%016llx", static_cast<unsigned long long>(h));
  std::string bytes = request.make_response(status, reason, status == 100 ? "" : tag, extra_headers);
  transport::Peer to = transaction::response_destination(request, from);
  ++stats_.stateless_replies;
  sender_.send(to, bytes);
}

std::string Proxy::loop_tag(const sip::Message& request) const {
  // RFC 3261 16.6 step 8: a hash over the fields a loop would leave unchanged.
  std::uint64_t h = kHashSeed;
  h = hash_field(h, request.request_uri().to_string());
  h = hash_field(h, request.from_tag());
  h = hash_field(h, request.to_tag());
  h = hash_field(h, request.call_id());
  h = hash_field(h, std::to_string(request.cseq()));
  for (const std::string& v : request.header_values("Route")) h = hash_field(h, v);
  for (const std::string& v : request.header_values("Proxy-Require")) h = hash_field(h, v);
  char buf[24];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool Proxy::detect_loop(const sip::Message& request, std::string_view tag) const {
  const std::size_t n = request.via_count();
  for (std::size_t i = 0; i < n; ++i) {
    std::optional<sip::Via> via = request.via(i);
    if (!via) break;
    if (transaction::TransactionLayer::branch_tag(via->branch) != tag) continue;
    if (local_.is_myself(via->host, via->port)) return true;
  }
  return false;
}

bool Proxy::preprocess_routes(sip::Message& request) {
  bool changed = false;
  sip::Uri ruri = request.request_uri();
  std::vector<sip::Uri> routes = request.routes();
  // 16.4: a strict router upstream put our Record-Route URI in the Request-URI.
  if (!routes.empty() && local_.is_myself(ruri) && ruri.has_param("lr")) {
    request.set_request_uri(routes.back());
    routes.pop_back();
    request.set_routes(routes);
    changed = true;
  }
  // Loose routing: remove our own Route values (two of them after a double Record-Route).
  for (int popped = 0; popped < 2 && !routes.empty() && local_.is_myself(routes.front()); ++popped) {
    request.pop_route();
    routes.erase(routes.begin());
    changed = true;
  }
  return changed;
}

void Proxy::on_request(transaction::ServerTransaction& st, sip::Message& request) {
  ++stats_.requests;
  // 16.3 step 3.
  auto mf = request.max_forwards();
  if (mf && *mf == 0) {
    st.reply(483, "Too Many Hops");
    return;
  }
  // 16.3 step 2.
  sip::Uri ruri = request.request_uri();
  if (!ruri.is_sip()) {
    st.reply(416, "Unsupported URI Scheme");
    return;
  }
  // 16.3 step 6: we support no extension a proxy must understand.
  std::vector<std::string> required = request.header_values("Proxy-Require");
  if (!required.empty()) {
    std::string unsupported = "Unsupported: ";
    for (std::size_t i = 0; i < required.size(); ++i) {
      if (i) unsupported += ", ";
      unsupported += required[i];
    }
    unsupported += "\r\n";
    st.reply(420, "Bad Extension", unsupported);
    return;
  }
  preprocess_routes(request);
  ruri = request.request_uri();
  if (!ruri.is_sip()) {
    st.reply(416, "Unsupported URI Scheme");
    return;
  }
  const std::string tag = loop_tag(request);
  if (detect_loop(request, tag)) {  // 16.3 step 4
    st.reply(482, "Loop Detected");
    return;
  }
  std::vector<sip::Uri> targets;
  if (request.routes().empty() && local_.is_myself(ruri)) {
    if (request.method() == sip::Method::kOptions && ruri.user.empty()) {
      st.reply(200, "OK", kAllow);
      return;
    } else {
      st.reply(404, "Not Found");
      return;
    }
  } else {
    targets.push_back(ruri);
  }
  forward(st, request, std::move(targets), true, tag);
}

}  // namespace strowger::proxy::core
