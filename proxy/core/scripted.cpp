// The routing script driving the proxy: request_route on every new request (before any
// transaction exists, as in Kamailio), t_relay/forward, and the failure, branch, onreply and
// reply routes run by the core with the state the request left on its transaction.
#include "common/log.h"
#include "proxy/core/proxy.h"
#include "proxy/core/script_host.h"
#include "proxy/script/engine/runtime.h"

namespace strowger::proxy::core {
namespace {

using script::engine::ExecutionContext;
using script::engine::RunOutcome;

// A script (or a looping one) cannot keep a transaction in failure_route forever.
constexpr int kMaxFailureRouteRuns = 16;

std::optional<sip::Uri> explicit_hop(std::string_view host, std::uint16_t port,
                                     std::string_view proto) {
  std::string text = "sip:";
  const bool v6 = host.find(':') != std::string_view::npos && host.front() != '[';
  if (v6) text += '[';
  text += host;
  if (v6) text += ']';
  if (port) text += ":" + std::to_string(port);
  if (!proto.empty()) {
    text += ";transport=";
    for (char c : proto) text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return sip::Uri::parse(text);
}

// The transaction's AVPs move into the run and back (take_back): a reply or a branch must not
// copy the whole map each time.
void restore(ExecutionContext& exec, ScriptState& state) {
  exec.flags = state.flags;
  exec.bflags = state.bflags;
  exec.avps.swap(state.avps);
  exec.failure_route = state.failure_route;
  exec.onreply_route = state.onreply_route;
  exec.branch_route = state.branch_route;
  exec.fr_timer_ms = state.fr_timer_ms;
  exec.fr_inv_timer_ms = state.fr_inv_timer_ms;
}

}  // namespace

void Proxy::on_new_request(transaction::TransactionLayer& layer, sip::Message& request,
                           const transport::Peer& from) {
  if (!program_) {
    TransactionUser::on_new_request(layer, request, from);
    return;
  }
  run_request_script(&layer, request, from);
}

void Proxy::run_request_script(transaction::TransactionLayer* layer, sip::Message& request,
                               const transport::Peer& from) {
  ++stats_.requests;
  ++stats_.script_runs;
  std::shared_ptr<const script::engine::Program> program = program_;
  ScriptHost host(*this, ScriptPhase::kRequest, request, from);
  host.layer = layer;
  ExecutionContext exec(*program, host);
  host.exec = &exec;
  if (program->request_route >= 0) script::engine::run_route(exec, program->request_route);
  // A transaction the script made but neither answered nor relayed would leave the caller
  // retransmitting into silence: answer it.
  if (host.st != nullptr && !host.relayed && !host.st->final_sent()) {
    const std::string method(host.st->request().method_name());
    LOG_WARN("routing script ended without a reply for a %s request", method.c_str());
    host.st->reply(500, "Server Internal Error - no reply from the routing script");
  }
}

void Proxy::fill_script_state(ScriptState& state, const ScriptHost& host) {
  const ExecutionContext& exec = *host.exec;
  state.flags = exec.flags;
  state.bflags = exec.bflags;
  state.avps = exec.avps;
  state.failure_route = exec.failure_route;
  state.onreply_route = exec.onreply_route;
  state.branch_route = exec.branch_route;
  const script::engine::Program& program = exec.program;
  state.fr_timer_ms = exec.fr_timer_ms ? exec.fr_timer_ms : program.fr_timer_ms;
  state.fr_inv_timer_ms = exec.fr_inv_timer_ms ? exec.fr_inv_timer_ms : program.fr_inv_timer_ms;
}

int Proxy::script_relay(ScriptHost& host, const script::engine::RelayRequest& r) {
  const ScriptPhase phase = host.phase();
  if (phase != ScriptPhase::kRequest && phase != ScriptPhase::kFailure) return -1;
  sip::Message& msg = host.message();
  std::optional<sip::Uri> next_hop;
  if (!r.host.empty()) {
    next_hop = explicit_hop(r.host, r.port, r.proto);
  } else if (!r.dst_uri.empty()) {
    next_hop = sip::Uri::parse(r.dst_uri);
  }
  if ((!r.host.empty() || !r.dst_uri.empty()) && (!next_hop || !next_hop->is_sip())) {
    host.error_code = 400;
    host.error_reason = "Bad Destination URI";
    return -1;
  }
  if (phase == ScriptPhase::kRequest && msg.method() == sip::Method::kAck) {
    // tm forwards an ACK for a 2xx statelessly.
    if (host.relayed) return -1;
    host.relayed = true;
    ++stats_.forwarded;
    forward_stateless_to(msg.clone(), host.from(), next_hop);
    return 1;
  }
  sip::Uri ruri = msg.request_uri();
  if (!next_hop && !ruri.is_sip()) {
    host.error_code = 416;
    host.error_reason = "Unsupported URI Scheme";
    return -1;
  }
  struct Extra {
    sip::Uri uri;
    std::optional<sip::Uri> next_hop;
    std::vector<sip::Uri> path;
    std::uint64_t connection_id = 0;
    bool flow = false;
  };
  auto parse_path = [](const std::vector<std::string>& in) {
    std::vector<sip::Uri> out;
    for (const std::string& p : in) {
      if (auto uri = sip::Uri::parse(p)) out.push_back(std::move(*uri));
    }
    return out;
  };
  std::vector<Extra> extra;
  for (const sipproxy::Branch& b : r.branches) {
    std::optional<sip::Uri> uri = sip::Uri::parse(b.uri);
    std::optional<sip::Uri> du;
    if (!b.dst_uri.empty()) du = sip::Uri::parse(b.dst_uri);
    if (!uri || (!uri->is_sip() && !du) || (!b.dst_uri.empty() && (!du || !du->is_sip()))) {
      LOG_WARN("t_relay: branch '%s' is not a SIP URI, skipped", b.uri.c_str());
      continue;
    }
    extra.push_back({std::move(*uri), std::move(du), parse_path(b.path), b.connection_id, b.flow});
  }

  ResponseContext* ctx = nullptr;
  if (phase == ScriptPhase::kRequest) {
    if (host.relayed) return -1;
    // 16.3 step 6: we support no extension a proxy must understand.
    std::vector<std::string> required = msg.header_values("Proxy-Require");
    if (!required.empty()) {
      host.error_code = 420;
      host.error_reason = "Bad Extension";
      host.error_headers = "Unsupported: ";
      for (std::size_t i = 0; i < required.size(); ++i)
        host.error_headers += (i ? ", " : "") + required[i];
      host.error_headers += "\r\n";
      return -1;
    }
    std::string tag = loop_tag(msg);
    if (detect_loop(msg, tag)) {  // 16.3 step 4
      host.error_code = 482;
      host.error_reason = "Loop Detected";
      return -1;
    }
    transaction::ServerTransaction* st = host.ensure_transaction();
    if (st == nullptr || st->final_sent() || st->user_data != nullptr) return -1;
    ctx = new_context(*st, st->request(), std::move(tag));
    ctx->script = std::make_unique<ScriptState>();
    ctx->script->program = program_;
    ctx->script->rr_params = host.rr_params + host.rr_added;
    ctx->script->rr_preset = host.rr_preset;
    ctx->record_route = host.record_route_set;
  } else {
    ctx = host.ctx;
    if (ctx == nullptr || ctx->st == nullptr || ctx->request == nullptr || ctx->cancelled ||
        ctx->forwarded_2xx || ctx->st->final_sent()) {
      return -1;
    }
  }
  fill_script_state(*ctx->script, host);
  host.relayed = true;
  const bool outer = !ctx->starting;
  ctx->starting = true;
  start_branch(*ctx, std::move(ruri), std::move(next_hop), parse_path(r.path), r.connection_id,
               r.flow);
  for (Extra& e : extra) {
    start_branch(*ctx, std::move(e.uri), std::move(e.next_hop), std::move(e.path),
                 e.connection_id, e.flow);
  }
  if (outer) {
    ctx->starting = false;
    finish_if_done(*ctx);
  }
  return 1;
}

int Proxy::script_forward(ScriptHost& host, const script::engine::ForwardRequest& r) {
  if (host.phase() != ScriptPhase::kRequest) return -1;
  std::optional<sip::Uri> next_hop;
  if (!r.host.empty()) {
    next_hop = explicit_hop(r.host, r.port, r.proto);
  } else if (!r.dst_uri.empty()) {
    next_hop = sip::Uri::parse(r.dst_uri);
  }
  if ((!r.host.empty() || !r.dst_uri.empty()) && !next_hop) return -1;
  ++stats_.forwarded;
  forward_stateless_to(host.message().clone(), host.from(), next_hop);
  return 1;
}

bool Proxy::run_failure_route(ResponseContext& ctx) {
  ScriptState& state = *ctx.script;
  const int route = state.failure_route;
  state.failure_route = -1;  // as in Kamailio: t_on_failure again to stay armed
  if (++state.failure_runs > kMaxFailureRouteRuns) {
    LOG_WARN("failure_route ran %d times for one transaction; forwarding the best reply",
             kMaxFailureRouteRuns);
    return false;
  }
  ++stats_.script_runs;
  std::shared_ptr<const script::engine::Program> program = state.program;
  ScriptHost host(*this, ScriptPhase::kFailure, *ctx.request, ctx.st->source());
  host.st = ctx.st;
  host.ctx = &ctx;
  host.reply_code = ctx.best_status();
  host.branch_index = ctx.best_branch();
  ExecutionContext exec(*program, host);
  host.exec = &exec;
  restore(exec, state);
  exec.route_kind = script::RouteKind::kFailure;
  exec.failure_route = -1;
  ctx.starting = true;
  script::engine::run_route(exec, route);
  ctx.starting = false;
  if (!host.relayed) {  // t_relay saved the state itself (fill_script_state)
    state.flags = exec.flags;
    state.avps.swap(exec.avps);
  }
  if (host.replied) {
    ctx.forwarded_final = true;
    maybe_release(&ctx);
    return true;
  }
  if (host.relayed) {
    finish_if_done(ctx);  // the new branches may all have ended already
    return true;
  }
  return false;
}

bool Proxy::run_reply_routes(ResponseContext* ctx, Branch* branch, sip::Message& response,
                             const transport::Peer& from) {
  const bool provisional = response.status() < 200;
  auto run = [&](const script::engine::Program& program, int route, ScriptPhase phase) {
    ++stats_.script_runs;
    ScriptHost host(*this, phase, response, from);
    host.ctx = ctx;
    host.reply_code = response.status();
    host.branch_index = branch != nullptr ? branch->index : 0;
    ExecutionContext exec(program, host);
    host.exec = &exec;
    if (ctx != nullptr && ctx->script) restore(exec, *ctx->script);
    exec.route_kind =
        phase == ScriptPhase::kReply ? script::RouteKind::kReply : script::RouteKind::kOnReply;
    RunOutcome out = script::engine::run_route(exec, route);
    if (ctx != nullptr && ctx->script) {
      ctx->script->flags = exec.flags;
      ctx->script->avps.swap(exec.avps);
    }
    if (out.dropped && !provisional) {
      LOG_DEBUG("drop of a final reply (%d) ignored: the transaction needs it", response.status());
      return true;
    }
    return !out.dropped;
  };
  if (program_ && program_->reply_route >= 0 &&
      !run(*program_, program_->reply_route, ScriptPhase::kReply)) {
    return false;
  }
  if (ctx != nullptr && ctx->script && ctx->script->onreply_route >= 0) {
    return run(*ctx->script->program, ctx->script->onreply_route, ScriptPhase::kOnReply);
  }
  return true;
}

bool Proxy::run_branch_route(ResponseContext& ctx, Branch& branch) {
  ScriptState& state = *ctx.script;
  ++stats_.script_runs;
  branch.prepared = ctx.request->clone();
  sip::Message& request = *branch.prepared;
  if (branch.target.to_string() != request.request_uri().to_string())
    request.set_request_uri(branch.target);
  ScriptHost host(*this, ScriptPhase::kBranch, request, ctx.st->source());
  host.st = ctx.st;
  host.ctx = &ctx;
  host.branch_index = branch.index;
  ExecutionContext exec(*state.program, host);
  host.exec = &exec;
  restore(exec, state);
  exec.route_kind = script::RouteKind::kBranch;
  if (branch.next_hop) exec.dst_uri = branch.next_hop->to_string();
  RunOutcome out = script::engine::run_route(exec, state.branch_route);
  state.avps.swap(exec.avps);  // the transaction's AVPs go back
  if (out.dropped) return false;
  branch.target = request.request_uri();
  branch.next_hop.reset();
  if (!exec.dst_uri.empty()) {
    if (auto du = sip::Uri::parse(exec.dst_uri); du && du->is_sip()) branch.next_hop = *du;
  }
  return true;
}

}  // namespace strowger::proxy::core
