// ControlServer's control thread: its event loop, listener and clients (line framing, size and
// idle limits, back-pressure), start and stop.
#include "common/control_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/control_socket.h"
#include "common/log.h"

namespace strowger::common {
namespace {

// A client that keeps sending without reading its answers is paused past this much output.
constexpr std::size_t kMaxPendingOutput = 4u << 20;
// After accept() fails (EMFILE...), the listener rests this long instead of spinning.
constexpr int kAcceptRetryMs = 1000;
constexpr int kListenBacklog = 64;

std::string errno_text(int err) {
  return std::strerror(err);
}

timeval to_timeval(int ms) {
  return timeval{ms / 1000, (ms % 1000) * 1000};
}

}  // namespace

struct ControlServer::Loop {
  struct Client {
    Loop* loop = nullptr;
    bufferevent* bev = nullptr;
    std::size_t scanned = 0;  // input bytes already searched for a newline
    bool paused = false;      // reading stopped until the output drains
    bool eof = false;         // the client half-closed: answer what is left, then close
    bool closing = false;     // closes once the output is flushed
  };

  explicit Loop(const ControlServer& s) : server(s) {}
  ~Loop();

  std::optional<std::string> open(const ControlServerOptions& options);
  void run();

  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg);
  static void on_accept_error(evconnlistener*, void* arg);
  static void on_accept_retry(evutil_socket_t, short, void* arg);
  static void on_wake(evutil_socket_t fd, short, void* arg);
  static void on_read(bufferevent*, void* arg);
  static void on_write(bufferevent*, void* arg);
  static void on_event(bufferevent*, short what, void* arg);

  void drain(Client& c);
  void answer(Client& c, std::string_view request);
  void refuse_too_large(Client& c);
  void close_after_flush(Client& c);
  void destroy(Client& c);

  const ControlServer& server;
  ControlServerOptions options;
  event_base* base = nullptr;
  evconnlistener* listener = nullptr;
  event* wake = nullptr;
  event* accept_retry = nullptr;
  int wake_fd = -1;
  UnixListenSocket socket;  // its fd belongs to the listener once that exists
  bool bound = false;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients;
  std::thread thread;
};

ControlServer::Loop::~Loop() {
  for (auto& [raw, client] : clients) bufferevent_free(client->bev);
  clients.clear();
  if (listener) evconnlistener_free(listener);
  if (wake) event_free(wake);
  if (accept_retry) event_free(accept_retry);
  if (base) event_base_free(base);
  if (wake_fd >= 0) ::close(wake_fd);
  if (bound) remove_unix_socket(options.socket_path, socket);
}

std::optional<std::string> ControlServer::Loop::open(const ControlServerOptions& opts) {
  options = opts;
  auto listening = listen_unix_socket(options.socket_path, options.socket_mode,
                                      options.directory_mode, kListenBacklog);
  if (!listening) return listening.error().message;
  socket = *listening;
  bound = true;  // from here on, ~Loop removes the socket file
  const int fd = socket.fd;

  base = event_base_new();
  wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!base || wake_fd < 0) {
    ::close(fd);
    return "cannot create the control event loop";
  }
  // Backlog 0: the socket already listens.
  listener = evconnlistener_new(base, &Loop::on_accept, this,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
  if (!listener) {
    ::close(fd);
    return "cannot create the control listener";
  }
  evconnlistener_set_error_cb(listener, &Loop::on_accept_error);
  wake = event_new(base, wake_fd, EV_READ | EV_PERSIST, &Loop::on_wake, this);
  accept_retry = evtimer_new(base, &Loop::on_accept_retry, this);
  if (!wake || !accept_retry || event_add(wake, nullptr) != 0) {
    return "cannot create the control events";
  }
  return std::nullopt;
}

void ControlServer::Loop::run() {
  // The daemons ignore SIGPIPE, but this library must not depend on it: a client that goes
  // away while we write would otherwise kill the process. Blocked here, the signal stays
  // pending on this thread only and write() reports EPIPE.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  pthread_setname_np(pthread_self(), "control");
  event_base_dispatch(base);
}

void ControlServer::Loop::on_wake(evutil_socket_t fd, short, void* arg) {
  std::uint64_t value;
  [[maybe_unused]] ssize_t n = ::read(fd, &value, sizeof value);
  event_base_loopbreak(static_cast<Loop*>(arg)->base);
}

void ControlServer::Loop::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int,
                                    void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  if (loop->clients.size() >= loop->options.max_clients) {
    LOG_WARN("control: %zu clients already connected, refusing another", loop->clients.size());
    ::close(fd);
    return;
  }
  bufferevent* bev = bufferevent_socket_new(loop->base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    return;
  }
  auto client = std::make_unique<Client>();
  client->loop = loop;
  client->bev = bev;
  Client* raw = client.get();
  loop->clients.emplace(raw, std::move(client));
  // Bounds what one client can make us buffer: a request may not exceed the maximum anyway.
  bufferevent_setwatermark(bev, EV_READ, 0, loop->options.max_request_bytes + 1);
  if (loop->options.idle_timeout_ms > 0) {
    timeval idle = to_timeval(loop->options.idle_timeout_ms);
    bufferevent_set_timeouts(bev, &idle, &idle);
  }
  bufferevent_setcb(bev, &Loop::on_read, &Loop::on_write, &Loop::on_event, raw);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void ControlServer::Loop::on_accept_error(evconnlistener* listener, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  LOG_WARN("control: accept failed: %s", errno_text(EVUTIL_SOCKET_ERROR()).c_str());
  evconnlistener_disable(listener);
  timeval retry = to_timeval(kAcceptRetryMs);
  evtimer_add(loop->accept_retry, &retry);
}

void ControlServer::Loop::on_accept_retry(evutil_socket_t, short, void* arg) {
  evconnlistener_enable(static_cast<Loop*>(arg)->listener);
}

void ControlServer::Loop::on_read(bufferevent*, void* arg) {
  auto* c = static_cast<Client*>(arg);
  c->loop->drain(*c);
}

void ControlServer::Loop::on_write(bufferevent*, void* arg) {
  // Called when the output has drained completely.
  auto* c = static_cast<Client*>(arg);
  if (c->closing) {
    c->loop->destroy(*c);
    return;
  }
  if (c->paused) {
    c->paused = false;
    bufferevent_enable(c->bev, EV_READ);
    c->loop->drain(*c);
  }
}

void ControlServer::Loop::on_event(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Client*>(arg);
  if (what & BEV_EVENT_EOF) {
    c->eof = true;
    c->loop->drain(*c);
    return;
  }
  if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
    // Idle, or a handler ran longer than the timeout: an answer may still be queued.
    LOG_DEBUG("control: closing idle client");
    c->loop->close_after_flush(*c);
    return;
  }
  c->loop->destroy(*c);
}

// Answers every complete line buffered; after a half-close, also the unterminated rest.
void ControlServer::Loop::drain(Client& c) {
  evbuffer* in = bufferevent_get_input(c.bev);
  evbuffer* out = bufferevent_get_output(c.bev);
  const std::size_t max = options.max_request_bytes;
  while (!c.closing) {
    if (evbuffer_get_length(out) > kMaxPendingOutput) {
      c.paused = true;
      bufferevent_disable(c.bev, EV_READ);
      return;
    }
    evbuffer_ptr from;
    evbuffer_ptr_set(in, &from, c.scanned, EVBUFFER_PTR_SET);
    evbuffer_ptr eol = evbuffer_search_eol(in, &from, nullptr, EVBUFFER_EOL_LF);
    if (eol.pos < 0) {
      c.scanned = evbuffer_get_length(in);
      break;
    }
    const auto length = static_cast<std::size_t>(eol.pos);
    if (length > max) return refuse_too_large(c);
    std::string line(length, '\0');
    evbuffer_remove(in, line.data(), length);
    evbuffer_drain(in, 1);
    c.scanned = 0;
    answer(c, line);
  }
  if (c.closing) return;
  const std::size_t rest = evbuffer_get_length(in);
  if (rest > max) return refuse_too_large(c);
  if (!c.eof) return;
  if (rest > 0) {
    std::string line(rest, '\0');
    evbuffer_remove(in, line.data(), rest);
    answer(c, line);
  }
  close_after_flush(c);
}

void ControlServer::Loop::answer(Client& c, std::string_view request) {
  if (request.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank line
  std::string response = server.dispatch(request);
  if (response.empty()) return;  // a notification
  response += '\n';
  bufferevent_write(c.bev, response.data(), response.size());
}

void ControlServer::Loop::refuse_too_large(Client& c) {
  // The rest of the stream cannot be framed any more: answer once and hang up.
  std::string response =
      "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"request larger than " +
      std::to_string(options.max_request_bytes) + " bytes\"},\"id\":null}\n";
  evbuffer* in = bufferevent_get_input(c.bev);
  evbuffer_drain(in, evbuffer_get_length(in));
  bufferevent_write(c.bev, response.data(), response.size());
  close_after_flush(c);
}

void ControlServer::Loop::close_after_flush(Client& c) {
  c.closing = true;
  bufferevent_disable(c.bev, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(c.bev)) == 0) destroy(c);
  // Otherwise on_write destroys it once flushed (the write timeout bounds the wait).
}

void ControlServer::Loop::destroy(Client& c) {
  bufferevent_free(c.bev);
  clients.erase(&c);
}

ControlServer::ControlServer(ControlServerOptions options) : options_(std::move(options)) {}

ControlServer::~ControlServer() {
  stop();
}

bool ControlServer::running() const {
  return loop_ != nullptr;
}

std::optional<std::string> ControlServer::start() {
  if (loop_) return "control server already running on " + options_.socket_path;
  auto loop = std::make_unique<Loop>(*this);
  if (auto err = loop->open(options_)) return err;  // ~Loop undoes what open() did
  Loop* raw = loop.get();
  try {
    loop->thread = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& e) {
    return std::string("cannot start the control thread: ") + e.what();
  }
  loop_ = std::move(loop);
  LOG_INFO("control: listening on %s", options_.socket_path.c_str());
  return std::nullopt;
}

void ControlServer::stop() {
  if (!loop_) return;
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(loop_->wake_fd, &one, sizeof one);
  if (loop_->thread.joinable()) loop_->thread.join();
  loop_.reset();  // frees clients, listener and base; removes the socket file
}

}  // namespace strowger::common
