// Stateless forwarding (RFC 3261 16.11): ACKs for 2xx and 2xx responses that outlived their
// transaction pass through without state.
#include "common/log.h"
#include "proxy/core/proxy.h"

namespace strowger::proxy::core {

std::string Proxy::stateless_branch(const sip::Message& request) const {
  // 16.11: the same incoming request must give the same branch, so it is a hash of it.
  std::uint64_t h = kHashSeed;
  auto mix = [&h](std::string_view s) { h = hash_field(h, s); };
  if (auto via = request.via(0)) {
    mix(via->branch);
    mix(via->host);
  }
  mix(request.call_id());
  mix(request.from_tag());
  mix(request.to_tag());
  mix(std::to_string(request.cseq()));
  mix(request.method_name());
  char buf[48];
  snprintf(buf, sizeof buf, "z9hG4bK-sl%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void Proxy::on_stray_ack(sip::Message& ack, const transport::Peer& from) {
  if (program_) {
    run_request_script(layer_, ack, from);  // the script decides (t_relay: stateless)
    return;
  }
  forward_stateless_request(ack, from);
}

void Proxy::forward_stateless_request(sip::Message& request, const transport::Peer& from) {
  auto mf = request.max_forwards();
  if (mf && *mf == 0) {
    ++stats_.dropped;
    return;  // an ACK gets no answer
  }
  preprocess_routes(request);
  std::vector<sip::Uri> routes = request.routes();
  sip::Uri ruri = request.request_uri();
  if (routes.empty() && local_.is_myself(ruri)) {
    ++stats_.dropped;  // an ACK for a 2xx the proxy itself sent: nothing to do
    return;
  }
  request.set_max_forwards(mf ? *mf - 1 : 70);
  forward_stateless_to(std::move(request), from, std::nullopt);
}

void Proxy::forward_stateless_to(sip::Message&& request, const transport::Peer& from,
                                 std::optional<sip::Uri> next_hop) {
  std::vector<sip::Uri> routes = request.routes();
  sip::Uri next = next_hop ? *next_hop : routes.empty() ? request.request_uri() : routes.front();
  if (!next.is_sip()) {
    ++stats_.dropped;
    return;
  }
  const std::string branch = stateless_branch(request);
  auto shared = std::make_shared<sip::Message>(std::move(request));
  const int inbound = from.listener;
  std::weak_ptr<bool> alive = alive_;
  resolver_.resolve(next, [this, alive, shared, branch, inbound](std::vector<dns::Target> hops) {
    if (alive.expired() || !*alive.lock()) return;
    for (const dns::Target& hop : hops) {
      std::optional<int> out = local_.pick(hop.proto, hop.addr.family(), inbound);
      if (!out) continue;
      std::string via = "SIP/2.0/";
      via += transport::protocol_name(hop.proto);
      via += ' ';
      via += local_.sent_by(*out);
      via += ";branch=";
      via += branch;
      shared->push_via(via);
      ++stats_.stateless_forwards;
      sender_.send(transport::Peer{hop.proto, hop.addr, *out, 0}, shared->wire());
      return;
    }
    ++stats_.dropped;
  });
}

void Proxy::on_stray_response(sip::Message& response, const transport::Peer& from) {
  if (program_ && !run_reply_routes(nullptr, nullptr, response, from)) return;
  // Only a 2xx to an INVITE is forwarded without a transaction (RFC 3261 16.7 / 17.1.1.2).
  if (response.cseq_method() != sip::Method::kInvite || response.status() < 200 ||
      response.status() >= 300) {
    ++stats_.dropped;
    return;
  }
  std::optional<sip::Via> top = response.via(0);
  if (!top || !local_.is_myself(top->host, top->port)) {
    ++stats_.dropped;
    return;
  }
  response.pop_via();
  forward_stateless_response(response);
}

void Proxy::forward_stateless_response(sip::Message& response) {
  std::optional<sip::Via> via = response.via(0);
  if (!via) {
    ++stats_.dropped;
    return;
  }
  auto proto = transport::protocol_from_name(via->transport);
  if (!proto) {
    ++stats_.dropped;
    return;
  }
  // 18.2.2: received (+ rport) when present, else sent-by.
  std::string host = via->received.empty() ? via->host : via->received;
  std::uint16_t port = via->port ? via->port : 5060;
  if (via->has_rport && !via->rport.empty()) port = static_cast<std::uint16_t>(std::atoi(via->rport.c_str()));
  auto addr = transport::Address::from_ip_port(host, port);
  if (!addr) {
    ++stats_.dropped;  // a host name in sent-by: not resolved for a stateless response
    return;
  }
  std::optional<int> out = local_.pick(*proto, addr->family(), -1);
  if (!out) {
    ++stats_.dropped;
    return;
  }
  ++stats_.stateless_forwards;
  sender_.send(transport::Peer{*proto, *addr, *out, 0}, response.wire());
}

}  // namespace strowger::proxy::core
