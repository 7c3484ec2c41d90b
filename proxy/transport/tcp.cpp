// TcpTransport: accepts and opens connections, picks the one to send on, enforces connection
// limits.
#include "proxy/transport/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "common/log.h"
#include "proxy/transport/socket_setup.h"
#include "proxy/transport/tcp_connection.h"

namespace strowger::proxy::transport {
namespace {

constexpr std::uint64_t kCounterMask = (std::uint64_t{1} << kConnectionProtocolShift) - 1;
constexpr int kResumeAcceptMs = 1000;
constexpr int kLogsPerSecond = 10;

void set_nodelay(int fd) {
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

Address source_key(const Address& a) {
  Address key = a;
  key.set_port(0);
  return key;
}

// Opens a non-blocking socket connecting to `remote`, from `source` when given (the listener's
// address and port, so the far end sees the address our Via names), else from any port.
// Returns an invalid Fd on a synchronous failure.
Fd start_connect(const Address& remote, const Address* source, int* error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(::socket(remote.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      *error = errno;
      return Fd();
    }
    set_nodelay(fd.get());
    bool bound_port = false;
    if (source != nullptr) {
      const int on = 1;
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
      Address from = *source;
      // Same port both ends could make the socket connect to itself (TCP simultaneous open)
      // when the target is this very listener: only the IP is kept then.
      if (attempt > 0 || from.port() == remote.port()) from.set_port(0);
      // A failed bind just leaves the choice to the kernel.
      bound_port = ::bind(fd.get(), from.sa(), from.len()) == 0 && from.port() != 0;
    }
    if (::connect(fd.get(), remote.sa(), remote.len()) == 0 || errno == EINPROGRESS) return fd;
    *error = errno;
    // The 4-tuple from the listener's port is taken (another worker, or TIME_WAIT): use another.
    if (!(bound_port && (errno == EADDRNOTAVAIL || errno == EADDRINUSE))) return Fd();
  }
  return Fd();
}

}  // namespace

config::TcpLimits tcp_limits_per_worker(const config::TcpLimits& total, int workers) {
  config::TcpLimits out = total;
  if (workers <= 1) return out;
  auto split = [workers](int n) { return n <= 0 ? n : std::max(1, (n + workers - 1) / workers); };
  out.max_connections = split(total.max_connections);
  out.max_connections_per_source = split(total.max_connections_per_source);
  return out;
}

TcpTransport::TcpTransport(event_base* base, Receiver& receiver, int worker_index,
                           const config::TcpLimits& limits, std::size_t max_message_size,
                           Protocol proto, StreamServices services)
    : base_(base),
      receiver_(receiver),
      worker_index_(worker_index),
      proto_(proto),
      services_(services),
      limits_(limits),
      framer_(max_message_size),
      reap_(event_new(base, -1, 0, &TcpTransport::on_reap, this)) {
  // Ids outlive the process in usrloc (Redis): start each run somewhere else so a binding
  // loaded at start cannot name a new, unrelated connection.
  std::random_device random;
  counter_ = ((std::uint64_t{random()} << 32) | random()) & (kCounterMask >> 1);
}

TcpTransport::~TcpTransport() {
  // Listeners first so no accept lands in a half-destroyed table; connections free their
  // bufferevents (and sockets) in their destructors without calling back.
  listeners_.clear();
  connections_.clear();
  closed_.clear();
}

std::optional<std::string> TcpTransport::listen(int listener_index, const Address& local) {
  std::string error;
  Fd fd = open_bound_socket(local, SOCK_STREAM, &error);
  if (!fd.valid()) return error;
  auto l = std::make_unique<Listener>();
  l->owner = this;
  l->index = listener_index;
  l->local = socket_local_address(fd.get());
  // evconnlistener_new calls listen(2) itself; on failure the socket is still ours (fd closes).
  l->listener.reset(evconnlistener_new(base_, &TcpTransport::on_accept, l.get(),
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                       kListenBacklog, fd.get()));
  if (!l->listener) return socket_error_text("listen", local, errno);
  fd.release();
  evconnlistener_set_error_cb(l->listener.get(), &TcpTransport::on_accept_error);
  l->resume.reset(evtimer_new(base_, &TcpTransport::on_resume, l.get()));
  LOG_DEBUG("worker %d: tcp listening on %s", worker_index_, l->local.to_string().c_str());
  listeners_.push_back(std::move(l));
  return std::nullopt;
}

Address TcpTransport::local_address(int listener_index) const {
  for (const auto& l : listeners_) {
    if (l->index == listener_index) return l->local;
  }
  return Address();
}

bool TcpTransport::log_allowed() {
  const std::int64_t now = monotonic_ms();
  if (now - log_window_ms_ >= 1000) {
    log_window_ms_ = now;
    log_count_ = 0;
  }
  return log_count_++ < kLogsPerSecond;
}

std::uint64_t TcpTransport::next_id() {
  counter_ = (counter_ + 1) & kCounterMask;
  if (counter_ == 0) counter_ = 1;
  return (static_cast<std::uint64_t>(worker_index_) << kConnectionWorkerShift) |
         (static_cast<std::uint64_t>(proto_) << kConnectionProtocolShift) | counter_;
}

void TcpTransport::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len,
                             void* arg) {
  auto* l = static_cast<Listener*>(arg);
  l->owner->accept(*l, fd, Address::from_sockaddr(sa, static_cast<socklen_t>(len)));
}

void TcpTransport::on_accept_error(evconnlistener* listener, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  const int err = EVUTIL_SOCKET_ERROR();
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    // Out of descriptors: the pending connection stays readable, so pause instead of spinning.
    LOG_WARN("worker %d: tcp accept on %s: %s; pausing accepts for %d ms", l->owner->worker_index_,
             l->local.to_string().c_str(), std::strerror(err), kResumeAcceptMs);
    evconnlistener_disable(listener);
    timeval tv{kResumeAcceptMs / 1000, (kResumeAcceptMs % 1000) * 1000};
    evtimer_add(l->resume.get(), &tv);
  } else {
    LOG_DEBUG("worker %d: tcp accept on %s: %s", l->owner->worker_index_,
              l->local.to_string().c_str(), std::strerror(err));
  }
}

void TcpTransport::on_resume(evutil_socket_t, short, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  evconnlistener_enable(l->listener.get());
}

void TcpTransport::accept(Listener& l, int fd, const Address& remote) {
  Fd sock(fd);
  const Address source = source_key(remote);
  const char* refused = nullptr;
  if (!remote.valid()) {
    refused = "unsupported address family";
  } else if (at_capacity()) {
    refused = "max_connections reached";
  } else if (limits_.max_connections_per_source > 0) {
    auto it = per_source_.find(source);
    if (it != per_source_.end() && it->second >= limits_.max_connections_per_source) {
      refused = "max_connections_per_source reached";
    }
  }
  if (refused != nullptr) {
    ++counters_.rejected;
    if (log_allowed()) {
      LOG_DEBUG("worker %d: tcp connection from %s refused: %s", worker_index_,
                remote.to_string().c_str(), refused);
    }
    return;  // sock closes
  }
  set_nodelay(sock.get());
  const std::uint64_t id = next_id();
  const Peer peer{proto_, remote, l.index, id};
  BufferEventPtr bev;
  if (services_.tls != nullptr) {
    std::string error;
    bev.reset(services_.tls->accept(base_, sock.get(), info(peer, l.local), &error));
    if (!bev) {
      if (log_allowed()) {
        LOG_NOTICE("worker %d: %s connection from %s: %s", worker_index_,
                   std::string(protocol_name(proto_)).c_str(), remote.to_string().c_str(),
                   error.c_str());
      }
      return;  // sock closes
    }
  } else {
    bev.reset(bufferevent_socket_new(base_, sock.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!bev) return;
  }
  sock.release();
  auto c = std::make_unique<TcpConnection>(*this, std::move(bev), peer,
                                           /*connecting=*/false, /*counts_for_source=*/true);
  if (services_.ws != nullptr)
    c->set_websocket(services_.ws->accept(info(peer, l.local), monotonic_ms()));
  if (add(std::move(c)) == nullptr) return;
  ++per_source_[source];
  ++counters_.accepted;
}

bool TcpTransport::at_capacity() const {
  return limits_.max_connections > 0 &&
         connections_.size() >= static_cast<std::size_t>(limits_.max_connections);
}

TcpConnection* TcpTransport::add(std::unique_ptr<TcpConnection> c) {
  if (!c->start()) return nullptr;  // c (and its socket) is freed; nothing was announced
  TcpConnection* raw = c.get();
  by_remote_[raw->peer().remote].push_back(raw->id());
  if (directory_ != nullptr) directory_->add(proto_, raw->peer().remote, raw->id());
  connections_.emplace(raw->id(), std::move(c));
  return raw;
}

const TcpTransport::Listener* TcpTransport::source_listener(const Peer& to) const {
  const int family = to.remote.family();
  for (const auto& l : listeners_) {
    if (l->index == to.listener && l->local.family() == family) return l.get();
  }
  for (const auto& l : listeners_) {
    if (l->local.family() == family) return l.get();
  }
  return nullptr;
}

sipproxy::ConnectionInfo TcpTransport::info(const Peer& peer, const Address& local) const {
  sipproxy::ConnectionInfo i;
  i.id = peer.connection_id;
  i.proto = std::string(protocol_token(proto_));
  i.remote_ip = peer.remote.ip();
  i.remote_port = peer.remote.port();
  i.local_ip = local.ip();
  i.local_port = local.port();
  return i;
}

TcpConnection* TcpTransport::connect(const Peer& to) {
  // RFC 7118: a WebSocket client is reachable only over the connection it opened.
  if (services_.ws != nullptr) return nullptr;
  if (at_capacity()) {
    if (log_allowed()) {
      LOG_NOTICE("worker %d: no tcp connection to %s: max_connections reached", worker_index_,
                 to.remote.to_string().c_str());
    }
    return nullptr;
  }
  const Listener* src = source_listener(to);
  int err = 0;
  Fd fd = start_connect(to.remote, src != nullptr ? &src->local : nullptr, &err);
  if (!fd.valid()) {
    if (log_allowed()) {
      LOG_DEBUG("worker %d: tcp connect to %s: %s", worker_index_, to.remote.to_string().c_str(),
                std::strerror(err));
    }
    return nullptr;
  }
  const std::uint64_t id = next_id();
  const int listener = src != nullptr ? src->index : to.listener;
  const Peer peer{proto_, to.remote, listener, id};
  BufferEventPtr bev;
  if (services_.tls != nullptr) {
    std::string error;
    bev.reset(services_.tls->connect(base_, info(peer, src != nullptr ? src->local : Address()),
                                     to.tls_name ? *to.tls_name : to.remote.ip(), &error));
    if (!bev) {
      if (log_allowed()) {
        LOG_NOTICE("worker %d: tls to %s: %s", worker_index_, to.remote.to_string().c_str(),
                   error.c_str());
      }
      return nullptr;  // fd closes
    }
    if (bufferevent_setfd(bev.get(), fd.get()) != 0) return nullptr;
  } else {
    bev.reset(bufferevent_socket_new(base_, fd.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!bev) return nullptr;
  }
  fd.release();
  // With no address given libevent takes the socket as connecting and reports the outcome.
  if (bufferevent_socket_connect(bev.get(), nullptr, 0) != 0) return nullptr;
  auto c = std::make_unique<TcpConnection>(*this, std::move(bev), peer,
                                           /*connecting=*/true, /*counts_for_source=*/false);
  TcpConnection* raw = add(std::move(c));
  if (raw != nullptr) ++counters_.connecting;
  return raw;
}

TcpConnection* TcpTransport::find_by_remote(const Address& remote) {
  auto it = by_remote_.find(remote);
  if (it == by_remote_.end()) return nullptr;
  // Newest first: an older one may be on its way out.
  for (auto id = it->second.rbegin(); id != it->second.rend(); ++id) {
    auto c = connections_.find(*id);
    if (c != connections_.end() && c->second->writable()) return c->second.get();
  }
  return nullptr;
}

bool TcpTransport::is_open(std::uint64_t connection_id) const {
  auto it = connections_.find(connection_id);
  return it != connections_.end() && it->second->writable();
}

std::uint64_t TcpTransport::send(const Peer& to, std::string_view bytes) {
  TcpConnection* c = nullptr;
  if (to.connection_id != 0) {
    auto it = connections_.find(to.connection_id);
    if (it != connections_.end() && it->second->writable()) c = it->second.get();
  }
  if (c == nullptr && to.remote.valid()) c = find_by_remote(to.remote);
  if (c == nullptr && to.remote.valid() && !to.no_connect) c = connect(to);
  if (c == nullptr || !c->write(bytes)) return 0;
  return c->id();
}

void TcpTransport::close_after_flush(std::uint64_t connection_id) {
  auto it = connections_.find(connection_id);
  if (it != connections_.end()) it->second->close_after_flush();
}

void TcpTransport::connection_closed(TcpConnection& c) {
  auto it = connections_.find(c.id());
  if (it == connections_.end()) return;
  auto r = by_remote_.find(c.peer().remote);
  if (r != by_remote_.end()) {
    std::erase(r->second, c.id());
    if (r->second.empty()) by_remote_.erase(r);
  }
  if (directory_ != nullptr) directory_->remove(proto_, c.peer().remote, c.id());
  if (c.counts_for_source()) {
    auto s = per_source_.find(source_key(c.peer().remote));
    if (s != per_source_.end() && --s->second <= 0) per_source_.erase(s);
  }
  ++counters_.closed;
  closed_.push_back(std::move(it->second));
  connections_.erase(it);
  event_active(reap_.get(), 0, 0);
}

void TcpTransport::on_reap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<TcpTransport*>(arg);
  std::vector<std::unique_ptr<TcpConnection>> dead;
  dead.swap(self->closed_);
  for (auto& c : dead) self->receiver_.on_connection_closed(c->id());
}

}  // namespace strowger::proxy::transport
