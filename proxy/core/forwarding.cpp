// Proxy forwarding (RFC 3261 16.5-16.10): branches, next-hop resolution, Via/Record-Route,
// response selection, CANCEL and timer C.
#include "common/log.h"
#include "proxy/core/proxy.h"
#include "proxy/transport/transport.h"

namespace strowger::proxy::core {
namespace {

using transaction::ClientTransaction;
using transaction::ServerTransaction;

sip::Uri record_route_uri(const Listener& l, bool r2, std::string_view extra_params) {
  sip::Uri uri;
  uri.scheme = "sip";
  uri.host = l.host;
  uri.port = l.port;
  if (l.proto != transport::Protocol::kUdp) {
    uri.params = "transport=" + std::string(transport::protocol_token(l.proto)) + ";";
  }
  uri.params += "lr";
  if (r2) uri.params += ";r2=on";
  uri.params += extra_params;  // the script's record_route(";nat=yes")
  return uri;
}

bool creates_dialog(sip::Method m) {
  return m == sip::Method::kInvite || m == sip::Method::kSubscribe || m == sip::Method::kRefer;
}

bool connection_bound(const Branch& b) {
  if (b.flow || b.connection_id != 0) return true;
  if (b.hop >= b.hops.size()) return false;
  return transport::is_websocket(b.hops[b.hop].proto);
}

const char* local_reason(int status) {
  switch (status) {
    case 430:
      return "Flow Failed";
    case 480:
      return "Temporarily Unavailable";
    case 408:
      return "Request Timeout";
    case 487:
      return "Request Terminated";
    case 500:
      return "Server Internal Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

ResponseContext* Proxy::new_context(ServerTransaction& st, sip::Message& request,
                                    std::string loop_tag) {
  auto* ctx = new ResponseContext(&st);
  contexts_.insert(ctx);
  st.user_data = ctx;
  ctx->request = &request;
  ctx->inbound_listener = st.source().listener;
  ctx->loop_tag = std::move(loop_tag);
  return ctx;
}

void Proxy::forward(ServerTransaction& st, sip::Message& request, std::vector<sip::Uri> targets,
                    bool parallel, std::string loop_tag) {
  ResponseContext* ctx = new_context(st, request, std::move(loop_tag));
  ctx->record_route =
      config_.record_route && creates_dialog(request.method()) && request.to_tag().empty();
  ctx->starting = true;
  if (parallel) {
    for (sip::Uri& t : targets) start_branch(*ctx, std::move(t));
  } else {
    for (std::size_t i = 1; i < targets.size(); ++i) ctx->serial_pending.push_back(targets[i]);
    start_branch(*ctx, std::move(targets.front()));
  }
  ctx->starting = false;
  finish_if_done(*ctx);
}

void Proxy::start_branch(ResponseContext& ctx, sip::Uri target, std::optional<sip::Uri> next_hop,
                         std::vector<sip::Uri> path, std::uint64_t connection_id, bool flow) {
  auto owned = std::make_unique<Branch>();
  Branch* branch = owned.get();
  branch->context = &ctx;
  branch->index = static_cast<int>(ctx.branches.size());
  branch->target = std::move(target);
  branch->next_hop = std::move(next_hop);
  branch->path = std::move(path);
  branch->connection_id = connection_id;
  branch->flow = flow;
  ctx.branches.push_back(std::move(owned));
  if (ctx.script && ctx.script->branch_route >= 0 && !run_branch_route(ctx, *branch)) {
    branch_final(ctx, *branch, 500, std::nullopt);  // dropped by the branch_route
    return;
  }
  sip::Uri next = branch->target;
  std::vector<sip::Uri> routes =
      branch->prepared ? branch->prepared->routes() : ctx.request->routes();
  routes.insert(routes.begin(), branch->path.begin(), branch->path.end());
  if (branch->next_hop) {
    next = *branch->next_hop;
  } else if (!routes.empty()) {
    next = routes.front();
  }
  // RFC 6761/7118: a .invalid host names a client reachable only over its own connection;
  // without one (no $du from lookup or an alias) it cannot be reached, and DNS is not asked.
  if (next.host.ends_with(".invalid") && branch->connection_id == 0) {
    branch_final(ctx, *branch, branch->flow ? 430 : 480, std::nullopt);
    return;
  }
  if (!transport::Address::from_ip_port(next.host_bare(), 0)) {
    branch->host = std::make_shared<const std::string>(next.host_bare());
  }
  std::weak_ptr<bool> alive = alive_;
  ResponseContext* c = &ctx;
  resolver_.resolve(next, [this, alive, c, branch](std::vector<dns::Target> hops) {
    if (alive.expired() || !*alive.lock()) return;
    resolved(c, branch, std::move(hops));
  });
}

void Proxy::resolved(ResponseContext* ctx, Branch* branch, std::vector<dns::Target> hops) {
  if (branch->state != Branch::State::kResolving) return;
  if (ctx->cancelled || ctx->forwarded_2xx || ctx->request == nullptr) {
    branch_final(*ctx, *branch, 487, std::nullopt);
    return;
  }
  if (hops.empty()) {
    LOG_DEBUG("no next hop for %s", branch->target.host.c_str());
    branch_final(*ctx, *branch, 503, std::nullopt);
    return;
  }
  branch->hops = std::move(hops);
  branch->hop = 0;
  send_branch(*ctx, *branch);
}

void Proxy::send_branch(ResponseContext& ctx, Branch& branch) {
  for (; branch.hop < branch.hops.size(); ++branch.hop) {
    const dns::Target& hop = branch.hops[branch.hop];
    std::optional<int> out = local_.pick(hop.proto, hop.addr.family(), ctx.inbound_listener);
    if (!out) continue;  // no socket for that transport/family: try the next hop
    sip::Message request = branch.prepared ? branch.prepared->clone() : ctx.request->clone();
    if (branch.target.to_string() != request.request_uri().to_string())
      request.set_request_uri(branch.target);
    if (!branch.path.empty()) {
      std::vector<sip::Uri> routes = branch.path;
      for (sip::Uri& r : request.routes()) routes.push_back(std::move(r));
      request.set_routes(routes);
    }
    // A script decrements Max-Forwards itself (mf_process_maxfwd_header), as in Kamailio.
    if (!ctx.script) {
      auto mf = request.max_forwards();
      request.set_max_forwards(mf ? *mf - 1 : 70);
    }
    const std::string_view rr_params = ctx.script ? ctx.script->rr_params : std::string_view();
    if (ctx.script && !ctx.script->rr_preset.empty()) {
      for (auto it = ctx.script->rr_preset.rbegin(); it != ctx.script->rr_preset.rend(); ++it) {
        if (auto uri = sip::Uri::parse(*it)) request.push_record_route(*uri);
      }
    } else if (ctx.record_route) {
      const Listener& outbound = local_.listener(*out);
      if (ctx.inbound_listener >= 0 && ctx.inbound_listener != *out) {
        // 16.6 step 4: the transport or interface changes, so each side gets its own address.
        request.push_record_route(
            record_route_uri(local_.listener(ctx.inbound_listener), true, rr_params));
        request.push_record_route(record_route_uri(outbound, true, rr_params));
      } else {
        request.push_record_route(record_route_uri(outbound, false, rr_params));
      }
    }
    // 16.6 step 6: a strict router next: it gets the Request-URI it expects.
    std::vector<sip::Uri> routes = request.routes();
    if (!routes.empty() && !routes.front().has_param("lr")) {
      routes.push_back(request.request_uri());
      request.set_request_uri(routes.front());
      routes.erase(routes.begin());
      request.set_routes(routes);
    }
    std::string via = "SIP/2.0/";
    via += transport::protocol_name(hop.proto);
    via += ' ';
    via += local_.sent_by(*out);
    via += ";branch=";
    via += layer_->new_branch(ctx.loop_tag);
    request.push_via(via);
    transport::Peer to{hop.proto, hop.addr, *out, 0};
    if (branch.connection_id != 0 &&
        transport::connection_protocol(branch.connection_id) == hop.proto) {
      to.connection_id = branch.connection_id;
    }
    // A flow, or a WebSocket client: only the connection the contact opened reaches it.
    to.no_connect = branch.flow || transport::is_websocket(hop.proto);
    if (hop.proto == transport::Protocol::kTls) to.tls_name = branch.host;
    branch.state = Branch::State::kCalling;
    ++stats_.forwarded;
    int final_ms = 0;
    int timer_c_ms = 0;
    if (ctx.script) {
      final_ms = static_cast<int>(ctx.script->fr_timer_ms);
      timer_c_ms = static_cast<int>(ctx.script->fr_inv_timer_ms);
    }
    ClientTransaction& ct =
        layer_->start_client(std::move(request), to, &branch, final_ms, timer_c_ms);
    // start_client may already have failed (and moved the branch on); keep only a live one.
    if (ct.state() != ClientTransaction::State::kTerminated && ct.user_data == &branch)
      branch.ct = &ct;
    return;
  }
  branch_final(ctx, branch, 503, std::nullopt);
}

void Proxy::on_response(ClientTransaction& ct, sip::Message& response) {
  auto* branch = static_cast<Branch*>(ct.user_data);
  if (branch == nullptr) return;
  ResponseContext& ctx = *branch->context;
  ++stats_.responses;
  response.pop_via();
  if (response.via_count() == 0) return;
  if (program_ || ctx.script) {
    if (!run_reply_routes(&ctx, branch, response, ct.destination())) return;
  }
  const int status = response.status();
  if (status < 200) {
    if (ctx.st != nullptr && !ctx.st->final_sent()) ctx.st->send_response(response.wire(), status);
    return;
  }
  if (status < 300) {
    branch->state = Branch::State::kDone;
    branch->final_status = status;
    if (ctx.st != nullptr) {
      ctx.st->send_response(response.wire(), status);
    } else {
      forward_stateless_response(response);
    }
    ctx.forwarded_2xx = true;
    cancel_pending(ctx);  // 16.7 step 10
    finish_if_done(ctx);
    return;
  }
  branch_final(ctx, *branch, status, std::move(response));
}

void Proxy::on_client_failure(ClientTransaction& ct, int status) {
  auto* branch = static_cast<Branch*>(ct.user_data);
  if (branch == nullptr) return;
  ResponseContext& ctx = *branch->context;
  if (branch->ct == &ct) branch->ct = nullptr;
  // RFC 3263 4.3: after a transport failure try the next address of the same target.
  if (status == 503 && branch->hop + 1 < branch->hops.size() && !ctx.cancelled &&
      !ctx.forwarded_2xx && ctx.request != nullptr) {
    ++branch->hop;
    send_branch(ctx, *branch);
    return;
  }
  // A contact bound to its connection that is gone: RFC 5626 5.3 (430) or unreachable (480).
  if (status == 503 && connection_bound(*branch)) status = branch->flow ? 430 : 480;
  branch_final(ctx, *branch, status, std::nullopt);
}

void Proxy::on_timer_c(ClientTransaction& ct) {
  // 16.8: CANCEL a branch that rang too long; one that never answered counts as a 408.
  if (ct.provisional_received()) {
    ct.cancel();
  } else {
    ct.abandon(408);
  }
}

void Proxy::branch_final(ResponseContext& ctx, Branch& branch, int status,
                         std::optional<sip::Message> response) {
  if (branch.state == Branch::State::kDone) return;
  branch.state = Branch::State::kDone;
  branch.final_status = status;
  if (status >= 600) {  // 16.7 step 5
    ctx.serial_pending.clear();
    cancel_pending(ctx);
  }
  ctx.offer_final(status, std::move(response), branch.index);
  if (!ctx.has_pending_branches() && !ctx.serial_pending.empty() && !ctx.cancelled &&
      !ctx.forwarded_2xx && ctx.request != nullptr) {
    sip::Uri next = std::move(ctx.serial_pending.front());
    ctx.serial_pending.pop_front();
    start_branch(ctx, std::move(next));
    return;
  }
  finish_if_done(ctx);
}

void Proxy::finish_if_done(ResponseContext& ctx) {
  if (ctx.starting || !ctx.all_done()) return;
  if (!ctx.forwarded_2xx && !ctx.forwarded_final && ctx.st != nullptr && ctx.script &&
      ctx.script->failure_route >= 0 && run_failure_route(ctx)) {
    return;  // new branches run, or the script replied (then the context is released below)
  }
  if (ctx.st != nullptr && ctx.st->final_sent()) ctx.forwarded_final = true;
  if (!ctx.forwarded_2xx && !ctx.forwarded_final && ctx.st != nullptr) {
    ctx.forwarded_final = true;
    const int status = ctx.best_status();
    std::optional<sip::Message>& best = ctx.best_response();
    if (ctx.cancelled && (!best || status == 408 || status == 503)) {
      ctx.st->reply(487, "Request Terminated");
    } else if (best && status == 503) {
      ctx.st->reply(500, "Server Internal Error - next hop unavailable");  // 16.7 step 6
    } else if (best) {
      ctx.st->send_response(best->wire(), status);
    } else {
      const int s = status ? status : 500;
      ctx.st->reply(s, local_reason(s));
      ++stats_.local_replies;
    }
  }
  maybe_release(&ctx);
}

void Proxy::cancel_pending(ResponseContext& ctx) {
  for (auto& b : ctx.branches) {
    if (b->state == Branch::State::kCalling && b->ct != nullptr) b->ct->cancel();
  }
}

void Proxy::on_cancel(ServerTransaction& invite_st) {
  auto* ctx = static_cast<ResponseContext*>(invite_st.user_data);
  if (ctx == nullptr) return;
  ctx->cancelled = true;
  ctx->serial_pending.clear();
  cancel_pending(*ctx);
  finish_if_done(*ctx);
}

void Proxy::on_server_gone(ServerTransaction& st) {
  auto* ctx = static_cast<ResponseContext*>(st.user_data);
  if (ctx == nullptr) return;
  st.user_data = nullptr;
  ctx->st = nullptr;
  ctx->request = nullptr;
  maybe_release(ctx);
}

void Proxy::on_client_gone(ClientTransaction& ct) {
  auto* branch = static_cast<Branch*>(ct.user_data);
  if (branch == nullptr) return;
  ct.user_data = nullptr;
  if (branch->ct == &ct) branch->ct = nullptr;
  maybe_release(branch->context);
}

void Proxy::maybe_release(ResponseContext* ctx) {
  if (ctx->st != nullptr || ctx->starting) return;
  for (const auto& b : ctx->branches) {
    if (b->ct != nullptr || b->state == Branch::State::kResolving) return;
  }
  contexts_.erase(ctx);
  delete ctx;
}

}  // namespace strowger::proxy::core
