// Worker: event loop wiring between transports, the transaction layer and the proxy.
#include "proxy/core/worker.h"

#include "common/log.h"
#include "proxy/sip/raw_response.h"

namespace strowger::proxy::core {

Worker::Worker(int index, const config::ProxyConfig& config, const LocalAddresses& local,
               WorkerGroup& group)
    : index_(index),
      config_(config),
      local_(local),
      group_(group),
      base_(event_base_new()),
      timers_(clock_) {
  udp_ = std::make_unique<transport::UdpTransport>(base_, *this, index, config.max_message_size);
  make_stream(transport::Protocol::kTcp);  // outbound TCP always; TLS/WS/WSS in open_listeners
  dns::Resolver::Options dns_options;
  dns_options.max_cache_ttl_s = config.dns_cache_ttl_s;
  resolver_ = std::make_unique<dns::Resolver>(base_, clock_, dns_options);
  proxy_ = std::make_unique<Proxy>(config, local, *resolver_, *this, index);
  transaction::TimerSettings settings;
  settings.t1_ms = config.timers.t1_ms;
  settings.t2_ms = config.timers.t2_ms;
  settings.t4_ms = config.timers.t4_ms;
  settings.timer_c_ms = config.timers.timer_c_ms;
  layer_ =
      std::make_unique<transaction::TransactionLayer>(timers_, *this, *proxy_, settings, index);
  proxy_->attach(*layer_);
  timer_ev_ = evtimer_new(base_, &Worker::on_timer, this);
  wakeup_ev_ = event_new(base_, -1, EV_PERSIST, &Worker::on_wakeup, this);
  stop_ev_ = event_new(base_, -1, 0, &Worker::on_stop, this);
  // A persistent event with no fd keeps the loop alive until stop().
  timeval forever{3600 * 24 * 365, 0};
  event_add(wakeup_ev_, &forever);
}

Worker::~Worker() {
  layer_.reset();
  proxy_.reset();
  resolver_.reset();
  for (auto& t : streams_) t.reset();
  udp_.reset();
  if (timer_ev_) event_free(timer_ev_);
  if (wakeup_ev_) event_free(wakeup_ev_);
  if (stop_ev_) event_free(stop_ev_);
  if (base_) event_base_free(base_);
}

transport::TcpTransport& Worker::make_stream(transport::Protocol p) {
  auto& slot = streams_[static_cast<std::size_t>(p)];
  if (!slot) {
    const int workers = config_.workers > 0 ? config_.workers : static_cast<int>(group_.size_hint);
    const transport::StreamServices services{transport::is_secure(p) ? group_.tls : nullptr,
                                             transport::is_websocket(p) ? group_.ws : nullptr};
    slot = std::make_unique<transport::TcpTransport>(
        base_, *this, index_, transport::tcp_limits_per_worker(config_.tcp, workers),
        config_.max_message_size, p, services);
    slot->set_directory(&group_.connections);
  }
  return *slot;
}

std::optional<std::string> Worker::open_listeners() {
  using transport::Protocol;
  // Outbound TLS works whenever the tls module is loaded, listening or not.
  if (group_.tls != nullptr) make_stream(Protocol::kTls);
  for (const Listener& l : local_.listeners()) {
    std::optional<std::string> err;
    if (l.proto == Protocol::kUdp) {
      err = udp_->listen(l.index, l.local);
    } else if (transport::is_secure(l.proto) && group_.tls == nullptr) {
      err = "needs the tls module: loadmodule \"tls.so\" in the routing script";
    } else if (transport::is_websocket(l.proto) && group_.ws == nullptr) {
      err = "needs the websocket module: loadmodule \"websocket.so\" in the routing script";
    } else {
      err = make_stream(l.proto).listen(l.index, l.local);
    }
    if (err) {
      const config::Listen& cfg = config_.listen[static_cast<std::size_t>(l.index)];
      return config_.file + ":" + std::to_string(cfg.line) + ": listen " +
             std::string(transport::protocol_name(l.proto)) + " " + l.local.to_string() + ": " +
             *err;
    }
  }
  return std::nullopt;
}

transport::Address Worker::bound_address(int listener) const {
  const Listener& l = local_.listener(listener);
  if (l.proto == transport::Protocol::kUdp) return udp_->local_address(listener);
  const transport::TcpTransport* t = stream(l.proto);
  return t != nullptr ? t->local_address(listener) : transport::Address();
}

void Worker::run() {
  if (group_.on_start) group_.on_start(index_, base_);
  event_base_dispatch(base_);
  if (group_.on_stop) group_.on_stop(index_, base_);
}

void Worker::stop() {
  event_active(stop_ev_, EV_READ, 0);
}

void Worker::on_stop(evutil_socket_t, short, void* arg) {
  event_base_loopbreak(static_cast<Worker*>(arg)->base_);
}

void Worker::post_response(sip::Message&& response, const transport::Peer& from) {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox_.push_back(Inbound{false, {}, from, {}, std::move(response)});
  }
  event_active(wakeup_ev_, EV_READ, 0);
}

void Worker::post_send(std::string bytes, const transport::Peer& to, int from_worker) {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox_.push_back(Inbound{true, std::move(bytes), to, {}, std::nullopt, from_worker});
  }
  event_active(wakeup_ev_, EV_READ, 0);
}

void Worker::post_task(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    Inbound in;
    in.task = std::move(task);
    inbox_.push_back(std::move(in));
  }
  event_active(wakeup_ev_, EV_READ, 0);
}

WorkerSnapshot Worker::snapshot() const {
  WorkerSnapshot s;
  s.worker = stats_;
  s.proxy = proxy_->stats();
  s.transactions = layer_->stats();
  s.server_transactions = layer_->server_count();
  s.client_transactions = layer_->client_count();
  s.response_contexts = proxy_->context_count();
  s.udp = udp_->counters();
  s.tcp = stream(transport::Protocol::kTcp)->counters();
  for (const auto& t : streams_) {
    if (t) s.tcp_connections += t->connection_count();
  }
  s.dns_queries = resolver_->queries();
  s.dns_cache_hits = resolver_->cache_hits();
  return s;
}

void Worker::on_wakeup(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  {
    std::lock_guard<std::mutex> lock(self->inbox_mutex_);
    self->draining_.swap(self->inbox_);
  }
  for (Inbound& in : self->draining_) {
    if (in.task) {
      in.task();
      continue;
    }
    if (in.is_send) {
      if (self->send(in.peer, in.bytes) == 0 && in.from_worker >= 0 && in.peer.connection_id != 0) {
        if (Worker* from = self->group_.at(in.from_worker)) {
          from->post_task([from, id = in.peer.connection_id] { from->send_failed_elsewhere(id); });
        }
      }
      continue;
    }
    if (in.response) self->layer_->receive_response(std::move(*in.response), in.peer);
  }
  self->draining_.clear();
  self->after_event();
}

void Worker::on_timer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  self->armed_deadline_ = -1;
  self->timers_.run_due();
  self->after_event();
}

void Worker::after_event() {
  layer_->collect();
  const std::int64_t next = timers_.next_deadline();
  if (next < 0) {
    if (armed_deadline_ >= 0) evtimer_del(timer_ev_);
    armed_deadline_ = -1;
    return;
  }
  if (next == armed_deadline_) return;
  std::int64_t delay = next - clock_.now_ms();
  if (delay < 0) delay = 0;
  timeval tv{static_cast<time_t>(delay / 1000), static_cast<suseconds_t>((delay % 1000) * 1000)};
  evtimer_add(timer_ev_, &tv);
  armed_deadline_ = next;
}

void Worker::on_message(std::string_view bytes, const transport::Peer& from) {
  ++stats_.received;
  auto parsed = sip::Message::parse(bytes);
  if (!parsed) {
    ++stats_.parse_errors;
    LOG_DEBUG("unparsable message from %s: %s", from.remote.to_string().c_str(),
              parsed.error().message.c_str());
    // A request whose start line is broken is still answered when it can be identified.
    if (parsed.error().code >= 400) {
      std::string reply = sip::make_raw_response(bytes, parsed.error().code, "Bad Request");
      if (!reply.empty()) send(from, reply);  // to the source: its Via cannot be trusted
    }
    after_event();
    return;
  }
  sip::Message& message = parsed.value();
  if (std::optional<sip::ParseFailure> bad = message.validate()) {
    ++stats_.invalid;
    LOG_DEBUG("invalid message from %s: %d %s", from.remote.to_string().c_str(), bad->status,
              bad->reason.c_str());
    if (message.is_request() && bad->status != 0 && message.method() != sip::Method::kAck)
      proxy_->reply_stateless(message, from, bad->status, bad->reason);
    after_event();
    return;
  }
  if (message.is_response()) {
    if (!group_.reply_hooks.empty() && run_reply_hook(message, from)) {
      after_event();
      return;
    }
    std::optional<sip::Via> via = message.via(0);
    const int owner = via ? transaction::TransactionLayer::branch_worker(via->branch) : -1;
    if (owner >= 0 && owner != index_ && group_.at(owner) != nullptr) {
      ++stats_.handed_over;
      group_.at(owner)->post_response(std::move(message), from);
      return;
    }
  }
  handle(std::move(message), from);
  after_event();
}

void Worker::handle(sip::Message&& message, const transport::Peer& from) {
  if (message.is_request()) {
    // RFC 3261 18.2.1 and RFC 3581: record where the request really came from.
    message.set_via_received(from.remote.ip(), from.remote.port());
    if (!proxy_->program() && proxy_->handle_stateless(message, from)) return;
    layer_->receive_request(std::move(message), from);
    return;
  }
  layer_->receive_response(std::move(message), from);
}

void Worker::on_framing_error(std::string_view head, const transport::Peer& from, int status) {
  ++stats_.invalid;
  if (head.empty()) return;
  auto parsed = sip::Message::parse(head);
  if (!parsed || !parsed.value().is_request()) return;
  proxy_->reply_stateless(parsed.value(), from, status,
                          status == 513 ? "Message Too Large" : "Bad Request - Content-Length");
  after_event();
}

void Worker::on_connection_closed(std::uint64_t connection_id) {
  layer_->connection_closed(connection_id);
  after_event();
}

bool Worker::run_reply_hook(sip::Message& response, const transport::Peer& from) {
  std::optional<sip::Via> via = response.via(0);
  if (!via) return false;
  for (const WorkerGroup::ReplyHook& hook : group_.reply_hooks) {
    if (!via->branch.starts_with(hook.prefix)) continue;
    hook.fn(response, sipproxy::Peer{std::string(transport::protocol_token(from.proto)),
                                     from.remote.ip(), from.remote.port()});
    return true;
  }
  return false;
}

void Worker::send_failed_elsewhere(std::uint64_t connection_id) {
  layer_->connection_closed(connection_id);
}

std::uint64_t Worker::send(const transport::Peer& to, std::string_view bytes) {
  if (to.proto == transport::Protocol::kUdp) return udp_->send(to, bytes);
  transport::TcpTransport* t = stream(to.proto);
  if (t == nullptr) return 0;
  transport::Peer target = to;
  // No connection here: another worker may hold the one the client opened (behind NAT, or a
  // WebSocket that cannot be reopened from our side).
  if (target.connection_id == 0 && target.remote.valid() && !t->has_connection_to(target.remote)) {
    target.connection_id = group_.connections.find(target.proto, target.remote);
  }
  const int owner = transport::connection_worker(target.connection_id);
  if (target.connection_id != 0 && owner != index_ && group_.at(owner) != nullptr) {
    group_.at(owner)->post_send(std::string(bytes), target, index_);
    return target.connection_id;
  }
  return t->send(target, bytes);
}

}  // namespace strowger::proxy::core
