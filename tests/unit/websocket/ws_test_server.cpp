// A loopback test server for the websocket engine without the core: WS sessions on libevent
// bufferevents, as the core drives them, answering each SIP request with a 200 (Via, From, To,
// Call-ID, CSeq copied) and echoing anything else. Lets tests/websocket/ (npm ws client, raw
// malformed input) run against the engine. Usage: ws_test_server [port] [key=value...]
// with keys max_message_size, handshake_timeout, keepalive_interval, keepalive_timeout,
// keepalive_mechanism, origin, path. Prints "listening PORT" once ready.
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "modules/websocket/ws_session.h"

namespace ws = strowger::modules::websocket;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Connection;
std::map<bufferevent*, std::unique_ptr<Connection>> g_connections;

// The 200 for a request: the headers a UAC matches a response with.
std::string answer(std::string_view request) {
  const std::string_view first = request.substr(0, request.find("\r\n"));
  if (first.size() < 8 || first.substr(first.size() - 8) != " SIP/2.0") return {};
  std::string out = "SIP/2.0 200 OK\r\n";
  std::size_t pos = request.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < request.size()) {
    const std::size_t eol = request.find("\r\n", pos + 2);
    const std::string_view line = request.substr(pos + 2, eol - pos - 2);
    if (line.empty()) break;
    for (const char* h : {"Via:", "From:", "To:", "Call-ID:", "CSeq:"}) {
      if (line.substr(0, std::strlen(h)) == h) out.append(line).append("\r\n");
    }
    pos = eol;
  }
  return out + "Content-Length: 0\r\n\r\n";
}

struct Connection final : strowger::sipproxy::WsSink {
  bufferevent* bev = nullptr;
  std::unique_ptr<strowger::sipproxy::WsSession> session;
  bool on_message(std::string_view m) override {
    const std::string reply = answer(m);
    session->send(reply.empty() ? m : std::string_view(reply), bufferevent_get_output(bev));
    return true;
  }
};

// Closes once the output is flushed (what the core does when a session returns false).
void close_after_flush(bufferevent* bev) {
  bufferevent_disable(bev, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
    g_connections.erase(bev);
    bufferevent_free(bev);
    return;
  }
  bufferevent_setcb(
      bev, nullptr,
      [](bufferevent* b, void*) {
        g_connections.erase(b);
        bufferevent_free(b);
      },
      [](bufferevent* b, short, void*) {
        g_connections.erase(b);
        bufferevent_free(b);
      },
      nullptr);
}

void on_read(bufferevent* bev, void*) {
  Connection& c = *g_connections.at(bev);
  if (!c.session->on_input(bufferevent_get_input(bev), bufferevent_get_output(bev), c))
    close_after_flush(bev);
}

void on_event(bufferevent* bev, short what, void*) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    g_connections.erase(bev);
    bufferevent_free(bev);
  }
}

void on_accept(evconnlistener* l, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* service = static_cast<ws::Service*>(arg);
  bufferevent* bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
  auto c = std::make_unique<Connection>();
  c->bev = bev;
  strowger::sipproxy::ConnectionInfo info;
  info.id = static_cast<std::uint64_t>(fd);
  info.proto = "ws";
  c->session = service->accept(info, now_ms());
  g_connections[bev] = std::move(c);
  bufferevent_setcb(bev, on_read, nullptr, on_event, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void on_tick(evutil_socket_t, short, void*) {
  const std::int64_t now = now_ms();
  for (auto it = g_connections.begin(); it != g_connections.end();) {
    bufferevent* bev = it->first;
    Connection& c = *it->second;
    ++it;  // close_after_flush may erase this one
    if (bufferevent_get_enabled(bev) & EV_READ) {
      if (!c.session->on_tick(now, bufferevent_get_output(bev))) close_after_flush(bev);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 0;
  ws::WsConfig config;
  for (int i = 2; i < argc; ++i) {
    std::string kv = argv[i];
    const std::size_t eq = kv.find('=');
    const std::string k = kv.substr(0, eq);
    const std::string v = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (k == "max_message_size")
      config.max_message_size = std::stoul(v);
    else if (k == "handshake_timeout")
      config.handshake_timeout_ms = std::stol(v) * 1000;
    else if (k == "keepalive_interval")
      config.keepalive_interval_ms = std::stol(v) * 1000;
    else if (k == "keepalive_timeout")
      config.keepalive_timeout_ms = std::stol(v) * 1000;
    else if (k == "keepalive_mechanism")
      config.keepalive = static_cast<ws::Keepalive>(std::stoi(v));
    else if (k == "origin")
      config.policy.origins.push_back(v);
    else if (k == "path")
      config.policy.paths.push_back(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  ws::Service service(config, 1);
  event_base* base = event_base_new();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, &service, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                              -1, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (listener == nullptr) {
    std::perror("bind");
    return 1;
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  getsockname(evconnlistener_get_fd(listener), reinterpret_cast<sockaddr*>(&bound), &len);
  std::printf("listening %d\n", ntohs(bound.sin_port));
  std::fflush(stdout);
  event* tick = event_new(base, -1, EV_PERSIST, on_tick, nullptr);
  const timeval tv{static_cast<time_t>(service.tick_ms() / 1000),
                   static_cast<suseconds_t>(service.tick_ms() % 1000 * 1000)};
  event_add(tick, &tv);
  event_base_dispatch(base);
  return 0;
}
