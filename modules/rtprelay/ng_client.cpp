// NgClient: UDP sockets (one per address family), retransmission timers, reply matching.
#include "modules/rtprelay/ng_client.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "common/log.h"

namespace strowger::modules::rtprelay {
namespace {

constexpr int kReadBurst = 64;

socklen_t sockaddr_len(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

timeval to_timeval(int ms) {
  return timeval{ms / 1000, (ms % 1000) * 1000};
}

}  // namespace

struct NgClient::Socket {
  NgClient* client = nullptr;
  int fd = -1;
  event* ev = nullptr;
  ~Socket() {
    if (ev) event_free(ev);
    if (fd >= 0) ::close(fd);
  }
};

struct NgClient::Request {
  NgClient* client = nullptr;
  std::uint64_t id = 0;
  std::string cookie;
  std::string wire;  // the exact bytes resent on each try, so the relay's cookie cache matches
  sockaddr_storage dest{};
  int tries_left = 0;
  int timeout_ms = 0;
  int send_errno = 0;  // set when the socket refused: the timer then fails the request at once
  event* timer = nullptr;
  NgCallback done;
  ~Request() {
    if (timer) event_free(timer);
  }
};

NgClient::NgClient(event_base* base, NgClientOptions options) : base_(base), options_(options) {
  // Unique across processes and restarts, so a relay's cookie cache never confuses a new
  // request with an old one.
  std::random_device rd;
  std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%d_%llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(r));
  cookie_prefix_ = buf;
  if (options_.retry.tries < 1) options_.retry.tries = 1;
  if (options_.retry.timeout_ms < 1) options_.retry.timeout_ms = 1;
}

NgClient::~NgClient() = default;

NgClient::Socket* NgClient::socket_for(int family) {
  std::unique_ptr<Socket>& slot = family == AF_INET6 ? v6_ : v4_;
  if (slot) return slot.get();
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  auto s = std::make_unique<Socket>();
  s->client = this;
  s->fd = fd;
  s->ev = event_new(base_, fd, EV_READ | EV_PERSIST, &NgClient::on_readable, s.get());
  if (!s->ev || event_add(s->ev, nullptr) != 0) return nullptr;
  slot = std::move(s);
  return slot.get();
}

std::uint64_t NgClient::send(const sockaddr_storage& relay, const bencode::Dict& request,
                             NgCallback done, std::optional<NgRetry> retry) {
  NgRetry rt = retry.value_or(options_.retry);
  auto r = std::make_unique<Request>();
  r->client = this;
  r->id = next_id_++;
  r->cookie = cookie_prefix_ + "_" + std::to_string(r->id);
  r->wire = r->cookie + " ";
  bencode::encode_to(request, r->wire);
  r->dest = relay;
  r->tries_left = rt.tries < 1 ? 1 : rt.tries;
  r->timeout_ms = rt.timeout_ms < 1 ? 1 : rt.timeout_ms;
  r->done = std::move(done);
  r->timer = event_new(base_, -1, 0, &NgClient::on_timer, r.get());
  Request& req = *r;
  cookie_by_id_.emplace(req.id, req.cookie);
  by_cookie_.emplace(req.cookie, std::move(r));
  transmit(req);
  return req.id;
}

void NgClient::transmit(Request& r) {
  --r.tries_left;
  Socket* s = socket_for(r.dest.ss_family);
  if (!s) {
    r.send_errno = errno ? errno : EAFNOSUPPORT;
  } else if (::sendto(s->fd, r.wire.data(), r.wire.size(), 0,
                      reinterpret_cast<const sockaddr*>(&r.dest), sockaddr_len(r.dest)) < 0 &&
             errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
    // A full socket buffer is a lost packet (the next try resends); anything else is final.
    r.send_errno = errno;
  }
  timeval tv = to_timeval(r.send_errno ? 0 : r.timeout_ms);
  event_add(r.timer, &tv);
}

void NgClient::on_timer(int, short, void* arg) {
  Request& r = *static_cast<Request*>(arg);
  NgClient& c = *r.client;
  if (r.send_errno) {
    return c.finish(r, common::Error{kNgSendFailed, std::string("cannot send to the relay: ") +
                                                        std::strerror(r.send_errno)});
  }
  if (r.tries_left > 0) {
    r.timeout_ms *= 2;
    return c.transmit(r);
  }
  c.finish(r, common::Error{kNgTimeout, "no reply from the relay"});
}

void NgClient::finish(Request& r, common::Result<bencode::Dict> result) {
  auto it = by_cookie_.find(r.cookie);
  if (it == by_cookie_.end()) return;
  std::unique_ptr<Request> owned = std::move(it->second);
  by_cookie_.erase(it);
  cookie_by_id_.erase(owned->id);
  NgCallback done = std::move(owned->done);
  owned.reset();  // the timer goes before the callback, which may send again
  if (done) done(std::move(result));
}

bool NgClient::cancel(std::uint64_t id) {
  auto it = cookie_by_id_.find(id);
  if (it == cookie_by_id_.end()) return false;
  by_cookie_.erase(it->second);
  cookie_by_id_.erase(it);
  return true;
}

void NgClient::on_readable(int fd, short, void* arg) {
  NgClient& c = *static_cast<Socket*>(arg)->client;
  static thread_local char buf[65536];
  for (int i = 0; i < kReadBurst; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) return;  // EAGAIN, or an ICMP error of a past send: the timer handles that
    std::string_view msg(buf, static_cast<std::size_t>(n));
    std::size_t space = msg.find(' ');
    if (space == std::string_view::npos) continue;
    auto it = c.by_cookie_.find(std::string(msg.substr(0, space)));
    if (it == c.by_cookie_.end()) continue;  // late reply to a finished request: ignore
    Request& r = *it->second;
    auto decoded = bencode::decode(msg.substr(space + 1));
    if (!decoded.ok() || !decoded.value().is_dict()) {
      LOG_WARN("ng client: unreadable reply for cookie %s", r.cookie.c_str());
      c.finish(r, common::Error{kNgBadReply, "the relay's reply is not a bencoded dictionary"});
      continue;
    }
    c.finish(r, std::move(*decoded.value().as_dict()));
  }
}

}  // namespace strowger::modules::rtprelay
