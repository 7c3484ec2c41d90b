// The module API: what a module (modules/<name>/<name>.so) exports and what sipproxy gives it.
// A module includes only headers of this folder. It exports one C entry point,
//   extern "C" const strowger::sipproxy::ModuleDescriptor* strowger_module();
// returning a descriptor that lives as long as the process (a static).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>  // RPC commands take and return JSON
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/control_server.h"  // Json, ControlError: RPC commands
#include "common/log.h"             // LOG_INFO ...: modules log like the core
#include "sipproxy/script.h"

struct event_base;

namespace strowger::sipproxy {

// Bumped on any incompatible change of these headers; a module built against another version
// is refused at load ("file:line: module X was built for module API N, sipproxy has M").
inline constexpr int kModuleApiVersion = 2;

// ---- parameters (modparam) ---------------------------------------------------------------

enum class ParamType { kInt, kString };

struct ParamValue {
  ParamType type = ParamType::kString;
  std::int64_t i = 0;
  std::string s;
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  ParamValue default_value;
  // Optional check at load time: an error text makes the modparam line a load error.
  std::function<std::optional<std::string>(const ParamValue&)> validate;
  std::string help;  // one line, for the module's README and --check messages
};

// An int parameter accepted in [min, max].
inline ParamSpec int_param(std::string name, std::int64_t def, std::int64_t min, std::int64_t max,
                           std::string help) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kInt;
  p.default_value.type = ParamType::kInt;
  p.default_value.i = def;
  p.validate = [min, max](const ParamValue& v) -> std::optional<std::string> {
    if (v.i < min || v.i > max)
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    return std::nullopt;
  };
  p.help = std::move(help);
  return p;
}

// A string parameter, with an optional check.
inline ParamSpec string_param(
    std::string name, std::string def, std::string help,
    std::function<std::optional<std::string>(const ParamValue&)> validate = {}) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kString;
  p.default_value.s = std::move(def);
  p.validate = std::move(validate);
  p.help = std::move(help);
  return p;
}

// The module's parameters as the script set them (defaults for the rest). A parameter may be
// set several times when the spec allows it (e.g. a list); values() gives every setting.
class Params {
 public:
  virtual ~Params() = default;
  virtual std::int64_t get_int(std::string_view name) const = 0;
  virtual const std::string& get_string(std::string_view name) const = 0;
  virtual std::vector<ParamValue> values(std::string_view name) const = 0;
};

// ---- RPC commands (sipctl) --------------------------------------------------------------

struct RpcSpec {
  std::string name;  // "ul.show"
  std::string help;  // one line, shown by rpc.methods
  // Runs on the control thread; throw common::ControlError for a clear error to sipctl.
  std::function<common::Json(const common::Json& params)> handler;
};

// ---- what sipproxy gives a module --------------------------------------------------------

// Process-wide, at init_process (after every module's parameters are set, before workers run).
class ModuleHost {
 public:
  virtual ~ModuleHost() = default;
  virtual int worker_count() const = 0;
  // The deployment config file (sipproxy.yaml) and the directory relative paths refer to.
  virtual const std::string& config_dir() const = 0;
  // Runs fn every interval_ms on the module timer thread (not a worker: lock what you share).
  virtual void add_timer(std::int64_t interval_ms, std::function<void()> fn) = 0;
  // Services modules offer each other (usrloc's table for registrar, ...): by name, typed by
  // the providing module's own header in this folder.
  virtual void provide(std::string name, std::shared_ptr<void> service) = 0;
  virtual std::shared_ptr<void> find(std::string_view name) const = 0;
  // Posts fn to a worker's loop (worker thread); any thread.
  virtual void post_to_worker(int worker, std::function<void()> fn) = 0;
  // The YAML file sipproxy was started with (a module may read its own section, e.g. tls:).
  virtual const std::string& config_file() const = 0;

  // Sends a message the module made (a keepalive OPTIONS, a CRLF ping) from a worker; any
  // thread. to.proto picks the transport; connection_id != 0 sends over that connection only
  // (never a new one). False when it could not even be queued (no such transport).
  virtual bool send(const Peer& to, std::uint64_t connection_id, std::string bytes) = 0;
  // The proxy's own address on a protocol ("udp", "tcp", ...): what a Via of a module's
  // request names. nullopt when nothing listens on it.
  virtual std::optional<Peer> listen_address(std::string_view proto) const = 0;
  // Responses whose top Via branch starts with branch_prefix are handed to fn on the worker that
  // received them instead of the transaction layer (replies to a module's own requests).
  // Register at init_process only.
  virtual void on_reply(std::string branch_prefix,
                        std::function<void(Message& reply, const Peer& from)> fn) = 0;
};

// Per worker, at init_worker, on that worker's thread.
struct WorkerInfo {
  int index = 0;
  event_base* loop = nullptr;  // the worker's libevent loop (hiredis async, libpq async, ...)
};

// ---- the descriptor -----------------------------------------------------------------------

struct ModuleDescriptor {
  int api_version = kModuleApiVersion;
  std::string name;                  // "registrar"
  std::vector<std::string> aliases;  // other names loadmodule accepts ("auth_db")
  std::vector<ParamSpec> params;
  std::vector<FunctionSpec> functions;
  std::vector<PvSpec> pvs;
  std::vector<RpcSpec> rpcs;
  // Process start, after parameters; an error stops sipproxy with "file:line: <error>" of
  // the loadmodule line.
  std::function<std::optional<std::string>(ModuleHost& host, const Params& params)> init_process;
  // Each worker, on its thread, before it handles a message.
  std::function<void(const WorkerInfo& worker)> init_worker;
  // Each worker, on its thread, when it stops.
  std::function<void(const WorkerInfo& worker)> stop_worker;
  // Process exit, after the workers stopped.
  std::function<void()> shutdown;
};

}  // namespace strowger::sipproxy

// Each module defines this (with extern "C" linkage) and nothing else global.
#define STROWGER_MODULE_ENTRY                                                                     \
  extern "C" __attribute__((visibility("default"))) const ::strowger::sipproxy::ModuleDescriptor* \
  strowger_module()
