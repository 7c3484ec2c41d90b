// JSON-RPC methods for sipctl, each posted to the relay's control loop and waited for.
#include "rtprelay/calls/control_rpc.h"

#include <event2/event.h>

#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>

namespace strowger::rtprelay::calls {
namespace {

using common::ControlError;
using common::Json;

constexpr int kUnknownCall = -32004;  // application error range of JSON-RPC

struct Posted {
  std::function<void()> fn;
  std::promise<void> done;
};

void run_posted(evutil_socket_t, short, void* arg) {
  std::unique_ptr<std::shared_ptr<Posted>> p(static_cast<std::shared_ptr<Posted>*>(arg));
  (*p)->fn();
  (*p)->done.set_value();
}

// `call_id` from {"call_id": ...} or ["..."] (sipctl's key=value or positional form).
std::string call_id_param(const Json& params) {
  if (params.is_object() && params.contains("call_id"))
    return params.at("call_id").get<std::string>();
  if (params.is_array() && !params.empty()) return params.at(0).get<std::string>();
  throw ControlError(common::kRpcInvalidParams, "missing 'call_id'");
}

}  // namespace

bool LoopRunner::run(std::function<void()> fn, int timeout_ms) const {
  auto posted = std::make_shared<Posted>();
  posted->fn = std::move(fn);
  std::future<void> done = posted->done.get_future();
  auto* arg = new std::shared_ptr<Posted>(posted);
  timeval now{0, 0};
  if (event_base_once(base_, -1, EV_TIMEOUT, &run_posted, arg, &now) != 0) {
    delete arg;
    return false;
  }
  return done.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
}

Json to_json(const common::bencode::Dict& d) {
  Json j = Json::object();
  for (std::size_t i = 0; i < d.size(); ++i) j[d.item(i).key] = to_json(d.item(i).value);
  return j;
}

Json to_json(const common::bencode::Value& v) {
  if (auto i = v.as_int()) return *i;
  if (const std::string* s = v.as_string()) return *s;
  if (const common::bencode::List* l = v.as_list()) {
    Json a = Json::array();
    for (const auto& e : *l) a.push_back(to_json(e));
    return a;
  }
  return to_json(*v.as_dict());
}

void register_relay_methods(common::ControlServer& server, const LoopRunner& loop, CallTable& calls,
                            const std::string& version) {
  const auto started = std::chrono::steady_clock::now();
  // Runs fn on the loop; a loop that does not answer is an internal error, not a hang.
  auto on_loop = [&loop](const std::function<Json()>& fn) {
    auto result = std::make_shared<Json>();
    auto error = std::make_shared<std::string>();
    if (!loop.run([fn, result, error] {
          try {
            *result = fn();
          } catch (const std::exception& e) {
            *error = e.what();
          }
        }))
      throw ControlError(common::kRpcInternalError, "the relay's control loop did not answer");
    if (!error->empty()) throw ControlError(common::kRpcInternalError, *error);
    return *result;
  };
  server.add_method("core.version", [version](const Json&) {
    return Json{{"name", "rtprelay"}, {"version", version}};
  });
  server.add_method("core.uptime", [started](const Json&) {
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                               started);
    return Json{{"uptime_s", up.count()}};
  });
  server.add_method("core.stats", [on_loop, &calls](const Json&) {
    return on_loop([&calls] {
      common::bencode::Dict d;
      calls.statistics(d);
      Json j = to_json(d);
      j["calls"] = calls.size();
      return j;
    });
  });
  server.add_method("relay.list", [on_loop, &calls](const Json& params) {
    std::size_t limit = 1000;
    if (params.is_object() && params.contains("limit")) {
      const Json& l = params.at("limit");
      limit = l.is_string() ? std::stoul(l.get<std::string>()) : l.get<std::size_t>();
    }
    return on_loop([&calls, limit] {
      Json ids = Json::array();
      for (const std::string& id : calls.call_ids(limit)) ids.push_back(id);
      return Json{{"count", calls.size()}, {"calls", ids}};
    });
  });
  server.add_method("relay.query", [on_loop, &calls](const Json& params) {
    std::string id = call_id_param(params);
    Json j = on_loop([&calls, id] {
      common::bencode::Dict d;
      return calls.query_call(id, d) ? to_json(d) : Json();
    });
    if (j.is_null()) throw ControlError(kUnknownCall, "unknown call-id " + id);
    j["call_id"] = id;
    return j;
  });
  server.add_method("relay.delete", [on_loop, &calls](const Json& params) {
    std::string id = call_id_param(params);
    Json j = on_loop([&calls, id] {
      common::bencode::Dict d;
      return calls.force_delete(id, &d) ? to_json(d) : Json();
    });
    if (j.is_null()) throw ControlError(kUnknownCall, "unknown call-id " + id);
    j["call_id"] = id;
    j["deleted"] = true;
    return j;
  });
}

}  // namespace strowger::rtprelay::calls
