// NgDispatcher: cookie cache, decoding and command dispatch for one ng request.
#include "rtprelay/control/ng_dispatcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <exception>
#include <utility>

#include "common/log.h"

namespace strowger::rtprelay::control {

std::string Peer::to_string() const {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

NgDispatcher::NgDispatcher(const common::Clock& clock, NgDispatcherOptions options)
    : options_(options), cache_(clock, options.cookie_cache) {
  add_command("ping", [](const bencode::Dict&, const Peer&, bencode::Dict& reply) {
    reply.set("result", "pong");
  });
}

void NgDispatcher::add_command(std::string command, Handler handler) {
  handlers_[std::move(command)] = std::move(handler);
}

std::optional<std::string> NgDispatcher::handle_message(std::string_view message,
                                                        const Peer& from) {
  if (auto m = split_message(message)) return handle(m->cookie, m->body, from);
  if (looks_like_cookie(message)) {
    ++stats_.requests;
    ++stats_.errors;
    return build_reply(message, error_reply("no bencoded dictionary after the cookie"));
  }
  ++stats_.dropped;
  LOG_DEBUG("ng: dropped a message without a cookie from %s", from.to_string().c_str());
  return std::nullopt;
}

std::string NgDispatcher::handle(std::string_view cookie, std::string_view body, const Peer& from) {
  ++stats_.requests;
  // Keyed by sender too: two proxies may well pick the same cookie.
  std::string key;
  key.reserve(cookie.size() + 48);
  key.append(cookie);
  key.push_back(' ');
  key.append(from.to_string());
  if (const std::string* cached = cache_.find(key)) {
    ++stats_.retransmissions;
    return *cached;
  }
  bencode::Dict reply = run(body, from);
  if (is_error(reply)) ++stats_.errors;
  std::string wire = build_reply(cookie, reply);
  cache_.insert(key, wire);
  return wire;
}

bencode::Dict NgDispatcher::run(std::string_view body, const Peer& from) {
  auto decoded = bencode::decode(body, options_.decode);
  if (!decoded.ok())
    return error_reply("could not decode the bencoded dictionary: " + decoded.error().message);
  const bencode::Dict* request = decoded.value().as_dict();
  if (!request) return error_reply("the message is not a bencoded dictionary");
  const bencode::Value* command = request->find("command");
  if (!command) return error_reply("no 'command' in the dictionary");
  if (!command->is_string()) return error_reply("'command' is not a string");
  auto it = handlers_.find(*command->as_string());
  if (it == handlers_.end()) return error_reply("unknown command '" + *command->as_string() + "'");

  bencode::Dict reply = ok_reply();
  try {
    it->second(*request, from, reply);
  } catch (const std::exception& e) {
    LOG_ERROR("ng: command '%s' failed: %s", it->first.c_str(), e.what());
    return error_reply(std::string("internal error: ") + e.what());
  }
  if (is_error(reply)) {
    // Only result and error-reason belong in an error reply.
    // A copy: set_error clears the dictionary the view points into.
    std::string reason(reply.get_string("error-reason").value_or("unspecified error"));
    set_error(reply, reason);
  } else if (!reply.get_string("result")) {
    reply.set("result", "ok");
  }
  return reply;
}

}  // namespace strowger::rtprelay::control
