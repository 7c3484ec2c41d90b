// NgServer's sockets: UDP datagrams and TCP streams read on the caller's event_base, framed,
// answered by the dispatcher, replies written back.
#include "rtprelay/control/ng_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "common/log.h"

namespace strowger::rtprelay::control {
namespace {

// Datagrams read per wake-up before other events get a turn.
constexpr int kUdpBurst = 64;
constexpr int kListenBacklog = 64;

struct OpenedSocket {
  int fd = -1;
  sockaddr_storage local{};
};

// socket + bind (+ listen for TCP); the reason on failure.
std::optional<std::string> open_socket(const std::string& text, int type, OpenedSocket* out) {
  socklen_t len = 0;
  auto addr = parse_host_port(text, &len);
  if (!addr) return "bad listen address '" + text + "' (want host:port or [v6]:port)";
  int fd = ::socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return text + ": socket: " + std::strerror(errno);
  int one = 1;
  if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), len) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, kListenBacklog) != 0)) {
    std::string err = text + ": " + std::strerror(errno);
    ::close(fd);
    return err;
  }
  socklen_t local_len = sizeof out->local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&out->local), &local_len);
  out->fd = fd;
  return std::nullopt;
}

bool is_space(char c) {
  return c == ' ' || c == '\r' || c == '\n' || c == '\t';
}

}  // namespace

std::optional<sockaddr_storage> parse_host_port(const std::string& text, socklen_t* len) {
  // evutil_parse_sockaddr_port() refuses port 0, which tests and "pick a port" need.
  std::string host;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = std::string_view(text).substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = std::string_view(text).substr(colon + 1);
  }
  unsigned p = 0;
  if (port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + static_cast<unsigned>(c - '0');
  }
  if (p > 65535) return std::nullopt;
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(p));
    *len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(p));
    *len = sizeof(sockaddr_in6);
  } else {
    return std::nullopt;
  }
  return ss;
}

std::uint16_t port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

struct NgServer::Sockets {
  struct Udp {
    Sockets* owner = nullptr;
    int fd = -1;
    event* ev = nullptr;
    sockaddr_storage local{};
  };
  struct Listener {
    Sockets* owner = nullptr;
    evconnlistener* listener = nullptr;
    sockaddr_storage local{};
  };
  struct Client {
    Sockets* owner = nullptr;
    bufferevent* bev = nullptr;
    Peer peer;
    bool closing = false;  // freed once its output is flushed
  };

  Sockets(NgServer& s) : server(s) {}
  ~Sockets();

  static void on_udp(evutil_socket_t fd, short, void* arg);
  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg);
  static void on_read(bufferevent*, void* arg);
  static void on_write(bufferevent*, void* arg);
  static void on_event(bufferevent*, short what, void* arg);

  // Answers every complete message in the client's input. False when the client must go now.
  bool drain(Client& c);
  void close_after_flush(Client& c);
  void destroy(Client& c);

  NgServer& server;
  std::vector<std::unique_ptr<Udp>> udp;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients;
  char buf[65536];
};

NgServer::Sockets::~Sockets() {
  for (auto& [raw, c] : clients) bufferevent_free(c->bev);
  for (auto& l : listeners) evconnlistener_free(l->listener);
  for (auto& u : udp) {
    if (u->ev) event_free(u->ev);
    ::close(u->fd);
  }
}

void NgServer::Sockets::on_udp(evutil_socket_t fd, short, void* arg) {
  auto* u = static_cast<Udp*>(arg);
  Sockets& s = *u->owner;
  for (int i = 0; i < kUdpBurst; ++i) {
    Peer peer;
    peer.transport = Transport::kUdp;
    peer.addr_len = sizeof peer.addr;
    ssize_t n = ::recvfrom(fd, s.buf, sizeof s.buf, 0, reinterpret_cast<sockaddr*>(&peer.addr),
                           &peer.addr_len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        LOG_WARN("ng: udp recvfrom: %s", std::strerror(errno));
      return;
    }
    auto reply = s.server.dispatcher_.handle_message(std::string_view(s.buf, n), peer);
    if (!reply) continue;
    if (::sendto(fd, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&peer.addr),
                 peer.addr_len) < 0)
      LOG_WARN("ng: reply to %s: %s", peer.to_string().c_str(), std::strerror(errno));
  }
}

void NgServer::Sockets::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len,
                                  void* arg) {
  Sockets& s = *static_cast<Listener*>(arg)->owner;
  const NgServerOptions& o = s.server.options_;
  if (s.clients.size() >= o.max_tcp_clients) {
    LOG_WARN("ng: too many TCP clients (%zu), connection refused", s.clients.size());
    ::close(fd);
    return;
  }
  bufferevent* bev = bufferevent_socket_new(s.server.base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    return;
  }
  auto c = std::make_unique<Client>();
  c->owner = &s;
  c->bev = bev;
  c->peer.transport = Transport::kTcp;
  c->peer.addr_len = static_cast<socklen_t>(std::min<std::size_t>(len, sizeof c->peer.addr));
  std::memcpy(&c->peer.addr, sa, c->peer.addr_len);
  // Reading pauses once a full message's worth is buffered; drain() then answers or refuses.
  bufferevent_setwatermark(bev, EV_READ, 0, o.max_tcp_message_bytes);
  if (o.tcp_idle_timeout_ms > 0) {
    timeval idle{o.tcp_idle_timeout_ms / 1000, (o.tcp_idle_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, &idle, nullptr);
  }
  Client* raw = c.get();
  bufferevent_setcb(bev, &Sockets::on_read, &Sockets::on_write, &Sockets::on_event, raw);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  s.clients.emplace(raw, std::move(c));
  ++s.server.dispatcher_.stats().tcp_connections;
}

bool NgServer::Sockets::drain(Client& c) {
  const NgServerOptions& o = server.options_;
  evbuffer* in = bufferevent_get_input(c.bev);
  while (!c.closing) {
    std::size_t len = evbuffer_get_length(in);
    if (len == 0) return true;
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, -1));
    std::string_view input(data, len);
    std::size_t ws = 0;
    while (ws < len && is_space(input[ws])) ++ws;  // tolerated between messages
    if (ws > 0) {
      evbuffer_drain(in, ws);
      continue;
    }
    std::size_t space = input.substr(0, kMaxCookieBytes + 1).find(' ');
    if (space == std::string_view::npos) {
      if (len <= kMaxCookieBytes && looks_like_cookie(input)) return true;  // cookie so far
      LOG_NOTICE("ng: TCP %s sent no cookie, closing", c.peer.to_string().c_str());
      ++server.dispatcher_.stats().tcp_garbage_closed;
      return false;
    }
    std::string_view cookie = input.substr(0, space);
    if (!looks_like_cookie(cookie)) {
      ++server.dispatcher_.stats().tcp_garbage_closed;
      return false;
    }
    std::string_view body = input.substr(space + 1);
    bencode::DecodeLimits limits = o.dispatcher.decode;
    limits.max_size = o.max_tcp_message_bytes > space + 2 ? o.max_tcp_message_bytes - space - 1 : 1;
    bencode::ScanResult scan = bencode::scan_prefix(body, limits);
    if (scan.status == bencode::DecodeStatus::kIncomplete) return true;
    if (scan.status == bencode::DecodeStatus::kInvalid) {
      // The stream cannot be resynchronised: say why under the cookie, then hang up.
      std::string reply = build_reply(
          cookie, error_reply("could not decode the bencoded dictionary: " + scan.error));
      bufferevent_write(c.bev, reply.data(), reply.size());
      ++server.dispatcher_.stats().errors;
      ++server.dispatcher_.stats().tcp_garbage_closed;
      close_after_flush(c);
      return true;
    }
    std::string reply = server.dispatcher_.handle(cookie, body.substr(0, scan.consumed), c.peer);
    bufferevent_write(c.bev, reply.data(), reply.size());
    evbuffer_drain(in, space + 1 + scan.consumed);
  }
  return true;
}

void NgServer::Sockets::close_after_flush(Client& c) {
  c.closing = true;
  bufferevent_disable(c.bev, EV_READ);
}

void NgServer::Sockets::destroy(Client& c) {
  bufferevent_free(c.bev);
  clients.erase(&c);
}

void NgServer::Sockets::on_read(bufferevent*, void* arg) {
  auto* c = static_cast<Client*>(arg);
  Sockets& s = *c->owner;
  if (!s.drain(*c)) return s.destroy(*c);
  if (c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) s.destroy(*c);
}

void NgServer::Sockets::on_write(bufferevent*, void* arg) {
  auto* c = static_cast<Client*>(arg);
  if (c->closing) c->owner->destroy(*c);  // called once the output is empty
}

void NgServer::Sockets::on_event(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Client*>(arg);
  Sockets& s = *c->owner;
  // A client that half-closes after its last request still gets the answers.
  if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
      evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
    s.close_after_flush(*c);
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) s.destroy(*c);
}

NgServer::NgServer(event_base* base, NgServerOptions options, const common::Clock& clock)
    : base_(base), options_(std::move(options)), dispatcher_(clock, options_.dispatcher) {}

NgServer::~NgServer() {
  stop();
}

void NgServer::stop() {
  sockets_.reset();
}

std::optional<std::string> NgServer::start() {
  stop();
  auto s = std::make_unique<Sockets>(*this);
  for (const std::string& text : options_.udp) {
    OpenedSocket os;
    if (auto err = open_socket(text, SOCK_DGRAM, &os)) return err;
    auto u = std::make_unique<Sockets::Udp>();
    u->owner = s.get();
    u->fd = os.fd;
    u->local = os.local;
    u->ev = event_new(base_, os.fd, EV_READ | EV_PERSIST, &Sockets::on_udp, u.get());
    Sockets::Udp* raw = u.get();
    s->udp.push_back(std::move(u));
    if (!raw->ev || event_add(raw->ev, nullptr) != 0) return text + ": cannot watch the socket";
  }
  for (const std::string& text : options_.tcp) {
    OpenedSocket os;
    if (auto err = open_socket(text, SOCK_STREAM, &os)) return err;
    auto l = std::make_unique<Sockets::Listener>();
    l->owner = s.get();
    l->local = os.local;
    l->listener = evconnlistener_new(base_, &Sockets::on_accept, l.get(),
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, os.fd);
    if (!l->listener) {
      ::close(os.fd);
      return text + ": cannot listen";
    }
    s->listeners.push_back(std::move(l));
  }
  sockets_ = std::move(s);
  auto log_bound = [](const char* proto, const sockaddr_storage& a) {
    Peer p;
    p.addr = a;
    LOG_INFO("ng: listening on %s %s", proto, p.to_string().c_str());
  };
  for (const auto& u : sockets_->udp) log_bound("udp", u->local);
  for (const auto& l : sockets_->listeners) log_bound("tcp", l->local);
  return std::nullopt;
}

std::vector<sockaddr_storage> NgServer::udp_addresses() const {
  std::vector<sockaddr_storage> out;
  if (sockets_)
    for (const auto& u : sockets_->udp) out.push_back(u->local);
  return out;
}

std::vector<sockaddr_storage> NgServer::tcp_addresses() const {
  std::vector<sockaddr_storage> out;
  if (sockets_)
    for (const auto& l : sockets_->listeners) out.push_back(l->local);
  return out;
}

std::size_t NgServer::tcp_clients() const {
  return sockets_ ? sockets_->clients.size() : 0;
}

}  // namespace strowger::rtprelay::control
