// JSON-RPC 2.0 request validation and dispatch to the ControlServer's registered handlers.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "common/control_server.h"
#include "common/log.h"

namespace strowger::common {
namespace {

constexpr std::size_t kMaxNameInMessage = 100;

Json error_response(const Json& id, int code, std::string message) {
  return Json{
      {"jsonrpc", "2.0"}, {"error", {{"code", code}, {"message", std::move(message)}}}, {"id", id}};
}

// Handlers may return strings straight from the network (user agents, contacts): invalid
// UTF-8 must be replaced, not thrown on, or the client would get no answer at all.
std::string serialize(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// nlohmann's what() starts with "[json.exception.type_error.302] "; operators need the rest.
std::string json_exception_text(const nlohmann::json::exception& e) {
  std::string_view s = e.what();
  if (!s.empty() && s.front() == '[') {
    auto end = s.find("] ");
    if (end != std::string_view::npos) s.remove_prefix(end + 2);
  }
  return std::string(s);
}

std::string shortened(const std::string& name) {
  if (name.size() <= kMaxNameInMessage) return name;
  return name.substr(0, kMaxNameInMessage) + "...";
}

}  // namespace

void ControlServer::add_method(std::string method, Handler handler) {
  // Startup-time programming errors, not runtime conditions: the daemon must not start.
  if (loop_) throw std::logic_error("ControlServer::add_method after start(): " + method);
  if (method.rfind("rpc.", 0) == 0) throw std::logic_error("reserved method name: " + method);
  if (!handler) throw std::logic_error("empty handler for method " + method);
  methods_[std::move(method)] = std::move(handler);
}

std::string ControlServer::dispatch(std::string_view request) const {
  Json parsed;
  try {
    parsed = Json::parse(request);
  } catch (const nlohmann::json::parse_error& e) {
    return serialize(error_response(nullptr, kRpcParseError, json_exception_text(e)));
  }
  if (parsed.is_array()) {
    if (parsed.empty()) {
      return serialize(error_response(nullptr, kRpcInvalidRequest, "invalid request: empty batch"));
    }
    Json answers = Json::array();
    for (const Json& one : parsed) {
      Json answer = dispatch_one(one);
      if (!answer.is_null()) answers.push_back(std::move(answer));
    }
    return answers.empty() ? std::string() : serialize(answers);
  }
  Json answer = dispatch_one(parsed);
  return answer.is_null() ? std::string() : serialize(answer);
}

// Returns the response object, or null for a notification (which is never answered, except
// when it is not even a valid request: then nobody can tell it was meant as a notification).
Json ControlServer::dispatch_one(const Json& request) const {
  if (!request.is_object()) {
    return error_response(nullptr, kRpcInvalidRequest, "invalid request: not an object");
  }
  auto id_it = request.find("id");
  const bool notification = id_it == request.end();
  Json id = notification ? Json() : *id_it;
  if (!id.is_null() && !id.is_string() && !id.is_number()) {
    return error_response(nullptr, kRpcInvalidRequest,
                          "invalid request: \"id\" must be a string, a number or null");
  }
  auto version = request.find("jsonrpc");
  if (version == request.end() || *version != "2.0") {
    return error_response(id, kRpcInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"");
  }
  auto method = request.find("method");
  if (method == request.end() || !method->is_string()) {
    return error_response(id, kRpcInvalidRequest, "invalid request: \"method\" must be a string");
  }
  auto params_it = request.find("params");
  if (params_it != request.end() && !params_it->is_object() && !params_it->is_array()) {
    return error_response(id, kRpcInvalidRequest,
                          "invalid request: \"params\" must be an object or an array");
  }
  static const Json kNoParams;
  const Json& params = params_it == request.end() ? kNoParams : *params_it;
  const auto& name = method->get_ref<const std::string&>();

  Json result;
  try {
    if (name == "rpc.methods") {
      result = Json::array();
      for (const auto& [registered, handler] : methods_) result.push_back(registered);
      result.push_back("rpc.methods");
    } else {
      auto it = methods_.find(name);
      if (it == methods_.end()) {
        if (notification) return Json();
        return error_response(id, kRpcMethodNotFound, "unknown method '" + shortened(name) + "'");
      }
      result = it->second(params);
    }
  } catch (const ControlError& e) {
    LOG_DEBUG("control: %s failed: %d %s", shortened(name).c_str(), e.code(), e.what());
    if (notification) return Json();
    return error_response(id, e.code(), e.what());
  } catch (const nlohmann::json::exception& e) {
    if (notification) return Json();
    return error_response(id, kRpcInvalidParams, "invalid params: " + json_exception_text(e));
  } catch (const std::exception& e) {
    LOG_WARN("control: %s threw: %s", shortened(name).c_str(), e.what());
    if (notification) return Json();
    return error_response(id, kRpcInternalError, std::string("internal error: ") + e.what());
  } catch (...) {
    LOG_WARN("control: %s threw a non-standard exception", shortened(name).c_str());
    if (notification) return Json();
    return error_response(id, kRpcInternalError, "internal error");
  }
  if (notification) return Json();
  return Json{{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", std::move(id)}};
}

}  // namespace strowger::common
