// CaresChannel implementation: c-ares channel setup, libevent socket/timer glue, deferred
// delivery of answers, hosts-file lookups.
#include "proxy/dns/cares_channel.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>
#include <netdb.h>

#include <cstring>
#include <mutex>

#include "common/log.h"

namespace strowger::proxy::dns {
namespace {

// ares_library_init is not thread-safe and only needs to run once per process.
void library_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

CaresChannel::Outcome outcome_of(int status) {
  switch (status) {
    case ARES_SUCCESS:
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
      return CaresChannel::Outcome::kResponse;
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
      return CaresChannel::Outcome::kTimeout;
    default:
      return CaresChannel::Outcome::kServerFailure;
  }
}

}  // namespace

struct CaresChannel::QueryContext {
  CaresChannel* channel;
  QueryCallback cb;
};

std::unique_ptr<CaresChannel> CaresChannel::create(event_base* base, const Options& opts,
                                                   std::string* error) {
  library_init_once();
  std::unique_ptr<CaresChannel> ch(new CaresChannel(base));
  ares_options o{};
  o.timeout = opts.timeout_ms > 0 ? opts.timeout_ms : 1;
  o.tries = opts.tries > 0 ? opts.tries : 1;
  o.sock_state_cb = &CaresChannel::on_sock_state;
  o.sock_state_cb_data = ch.get();
  const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (int rc = ares_init_options(&ch->channel_, &o, mask); rc != ARES_SUCCESS) {
    ch->channel_ = nullptr;
    *error = std::string("c-ares init: ") + ares_strerror(rc);
    return nullptr;
  }
  if (!opts.servers.empty()) {
    std::string csv;
    for (const std::string& s : opts.servers) {
      if (s.empty() || s.find(',') != std::string::npos) {
        *error = "bad DNS server \"" + s + "\"";
        return nullptr;
      }
      if (!csv.empty()) csv.push_back(',');
      csv += s;
    }
    if (int rc = ares_set_servers_ports_csv(ch->channel_, csv.c_str()); rc != ARES_SUCCESS) {
      *error = "bad DNS servers \"" + csv + "\": " + ares_strerror(rc);
      return nullptr;
    }
  }
  ch->timer_.reset(evtimer_new(base, &CaresChannel::on_timeout, ch.get()));
  ch->completed_event_.reset(event_new(base, -1, 0, &CaresChannel::on_completed, ch.get()));
  if (!ch->timer_ || !ch->completed_event_) {
    *error = "libevent: cannot allocate events";
    return nullptr;
  }
  return ch;
}

CaresChannel::~CaresChannel() {
  *alive_ = false;
  // ares_destroy answers every pending query with ARES_EDESTRUCTION (dropped in on_answer) and
  // closes its sockets through on_sock_state, which frees their events.
  if (channel_) ares_destroy(channel_);
}

void CaresChannel::query(const std::string& name, std::uint16_t type, QueryCallback cb) {
  ++in_flight_;
  auto* ctx = new QueryContext{this, std::move(cb)};
  ares_query(channel_, name.c_str(), ns_c_in, type, &CaresChannel::on_answer, ctx);
  update_timer();
}

std::vector<transport::Address> CaresChannel::hosts_lookup(const std::string& name, int family) {
  std::vector<transport::Address> out;
  hostent* host = nullptr;
  if (ares_gethostbyname_file(channel_, name.c_str(), family, &host) != ARES_SUCCESS || !host) {
    return out;
  }
  for (char** a = host->h_addr_list; a && *a; ++a) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (host->h_addrtype == AF_INET && host->h_length == 4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      std::memcpy(&sin->sin_addr, *a, 4);
      len = sizeof(sockaddr_in);
    } else if (host->h_addrtype == AF_INET6 && host->h_length == 16) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      std::memcpy(&sin6->sin6_addr, *a, 16);
      len = sizeof(sockaddr_in6);
    }
    if (len != 0 && ss.ss_family == family) {
      out.push_back(transport::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len));
    }
  }
  ares_free_hostent(host);
  return out;
}

void CaresChannel::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf,
                             int alen) {
  std::unique_ptr<QueryContext> ctx(static_cast<QueryContext*>(arg));
  CaresChannel* self = ctx->channel;
  --self->in_flight_;
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
  Completion c{std::move(ctx->cb), outcome_of(status), {}};
  if (c.outcome == Outcome::kResponse) {
    if (abuf && alen > 0) {
      c.response.assign(abuf, abuf + alen);
    } else {
      c.outcome = Outcome::kServerFailure;
    }
  }
  // Deliver from our own event, outside ares_process_fd: c-ares does not allow the channel to
  // be destroyed from its callbacks, and our callers may do exactly that.
  if (self->completed_.empty()) event_active(self->completed_event_.get(), EV_TIMEOUT, 0);
  self->completed_.push_back(std::move(c));
}

void CaresChannel::on_completed(int, short, void* arg) {
  static_cast<CaresChannel*>(arg)->run_completed();
}

void CaresChannel::run_completed() {
  const std::shared_ptr<bool> alive = alive_;
  // Only what is queued now: answers queued by these callbacks (none can be, as c-ares answers
  // come from ares_process_fd) would be picked up by the re-activated event anyway.
  std::size_t n = completed_.size();
  while (n-- > 0 && !completed_.empty()) {
    Completion c = std::move(completed_.front());
    completed_.pop_front();
    c.cb(c.outcome, c.response);
    if (!*alive) return;
  }
  if (!completed_.empty()) event_active(completed_event_.get(), EV_TIMEOUT, 0);
}

void CaresChannel::on_sock_state(void* data, int fd, int readable, int writable) {
  auto* self = static_cast<CaresChannel*>(data);
  auto it = self->socket_events_.find(fd);
  if (!readable && !writable) {
    if (it != self->socket_events_.end()) self->socket_events_.erase(it);
    return;
  }
  const short what =
      static_cast<short>(EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
  if (it != self->socket_events_.end()) {
    if (event_get_events(it->second.get()) == what) return;
    self->socket_events_.erase(it);
  }
  transport::EventPtr ev(event_new(self->base_, fd, what, &CaresChannel::on_socket_event, self));
  if (!ev || event_add(ev.get(), nullptr) != 0) {
    LOG_ERROR("dns: cannot watch c-ares socket %d", fd);
    return;  // the query on it times out through the timer
  }
  self->socket_events_.emplace(fd, std::move(ev));
}

void CaresChannel::on_socket_event(int fd, short what, void* arg) {
  auto* self = static_cast<CaresChannel*>(arg);
  ares_process_fd(self->channel_, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                  (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
  self->update_timer();
}

void CaresChannel::on_timeout(int, short, void* arg) {
  auto* self = static_cast<CaresChannel*>(arg);
  ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  self->update_timer();
}

void CaresChannel::update_timer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv)) {
    evtimer_add(timer_.get(), &tv);
  } else {
    evtimer_del(timer_.get());
  }
}

}  // namespace strowger::proxy::dns
