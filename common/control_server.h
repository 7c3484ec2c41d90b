// ControlServer: JSON-RPC 2.0 over a Unix stream socket, one JSON object per line, served by
// its own thread and event_base so the daemons' workers are never disturbed by operators.
//
// Handlers run on the control thread, one at a time. They must be thread-safe with respect to
// the rest of the daemon: touch worker-owned state only by posting to that worker (and waiting
// for its answer), never directly. A slow handler delays other control clients, never SIP.
// Only the JSON forward declarations are included here: files that write handlers include
// <nlohmann/json.hpp> themselves.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace strowger::common {

using Json = nlohmann::json;

// JSON-RPC 2.0 error codes (section 5.1 of the specification).
inline constexpr int kRpcParseError = -32700;
inline constexpr int kRpcInvalidRequest = -32600;
inline constexpr int kRpcMethodNotFound = -32601;
inline constexpr int kRpcInvalidParams = -32602;
inline constexpr int kRpcInternalError = -32603;

// Thrown by a handler to answer with a specific error, e.g.
//   throw ControlError(kRpcInvalidParams, "missing 'aor'");
// Codes from -32000 to -32099 are free for application errors. A nlohmann::json exception
// escaping a handler (params.at("x") on a missing key, a wrong type) becomes invalid params;
// any other exception becomes an internal error.
class ControlError : public std::runtime_error {
 public:
  ControlError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

struct ControlServerOptions {
  std::string socket_path;
  // A request line longer than this gets an invalid-request answer and the client is closed.
  std::size_t max_request_bytes = 1u << 20;
  // A client that sends nothing (or reads nothing) for this long is closed.
  int idle_timeout_ms = 60'000;
  // Connections beyond this are closed as soon as they are accepted.
  std::size_t max_clients = 32;
  mode_t socket_mode = 0660;
  mode_t directory_mode = 0750;  // for parent directories this server creates
};

class ControlServer {
 public:
  using Handler = std::function<Json(const Json& params)>;

  explicit ControlServer(ControlServerOptions options);
  // Stops the server if it is running.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Registers `method`; must be called before start(). `params` is the request's params
  // (an object or an array), or null when the request had none. A later registration of the
  // same name replaces the earlier one. Names starting with "rpc." are reserved.
  void add_method(std::string method, Handler handler);

  // Creates missing parent directories, replaces a stale socket file left by a dead process,
  // binds, listens and starts the control thread. Refuses (returns the reason) when another
  // live process answers on the path or the path is not a socket.
  std::optional<std::string> start();
  // Closes every client, joins the control thread (after the running handler, if any,
  // returns) and removes the socket file if it is still the one this server created. Safe to
  // call twice, or without start(). Stop it before the workers its handlers post to.
  void stop();
  bool running() const;
  const std::string& socket_path() const { return options_.socket_path; }

  // Answers one request (an object or a batch array, as text) without any socket: what the
  // control thread does for each line. Returns "" when nothing is to be sent (notifications).
  // Runs the handler on the calling thread.
  std::string dispatch(std::string_view request) const;

 private:
  struct Loop;  // the control thread's libevent state (control_server.cpp)

  Json dispatch_one(const Json& request) const;

  ControlServerOptions options_;
  std::map<std::string, Handler, std::less<>> methods_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace strowger::common
