// Kamailio's core functions that rewrite the Request-URI: rewriteuri/seturi, rewritehost,
// rewritehostport, rewriteport, rewriteuser, prefix, strip, strip_tail.
#include "proxy/script/engine/functions.h"

namespace strowger::proxy::script::engine {
namespace {

// Applies edit to the Request-URI; false from edit (a bad value) leaves the message alone.
template <typename Edit>
int edit_ruri(ExecutionContext& c, Edit edit) {
  sip::Message& m = c.msg();
  if (!m.is_request()) return -1;
  sip::Uri uri = m.request_uri();
  if (!edit(uri)) return -1;
  // Re-parse what we built, so a value that breaks the URI is refused, not sent.
  std::optional<sip::Uri> checked = sip::Uri::parse(uri.to_string());
  if (!checked) return -1;
  m.set_request_uri(*checked);
  return 1;
}

std::optional<std::uint16_t> port_of(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    port = port * 10 + (ch - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

// "host" or "host:port" ("[v6]:port").
bool set_host_port(sip::Uri& uri, const std::string& text) {
  if (text.empty()) return false;
  std::string host = text;
  std::uint16_t port = 0;
  const std::size_t close = text.find(']');
  const std::size_t colon = text.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close) &&
      (text.front() == '[' || text.find(':') == colon)) {
    auto p = port_of(text.substr(colon + 1));
    if (!p) return false;
    host = text.substr(0, colon);
    port = *p;
  }
  uri.host = host;
  uri.port = port;
  return true;
}

using StringEdit = bool (*)(sip::Uri&, const std::string&);

FunctionSpec string_edit(StringEdit edit) {
  return {1, 1, [edit](CompileEnv& env, const Expr& call) -> std::optional<ActionFn> {
            auto value = arg_value(env, *call.args[0]);
            if (!value) return std::nullopt;
            ExprFn v = *value;
            return ActionFn([v, edit](ExecutionContext& c) {
              const std::string text = v(c).to_str();
              return edit_ruri(c, [&](sip::Uri& uri) { return edit(uri, text); });
            });
          }};
}

using CountEdit = bool (*)(sip::Uri&, std::size_t);

FunctionSpec count_edit(CountEdit edit) {
  return {1, 1, [edit](CompileEnv& env, const Expr& call) -> std::optional<ActionFn> {
            auto n = arg_const_int(env, *call.args[0], "number of characters");
            if (!n) return std::nullopt;
            if (*n < 0) {
              env.error(call.args[0]->loc, "the number of characters must not be negative");
              return std::nullopt;
            }
            const auto count = static_cast<std::size_t>(*n);
            return ActionFn([count, edit](ExecutionContext& c) {
              return edit_ruri(c, [&](sip::Uri& uri) { return edit(uri, count); });
            });
          }};
}

}  // namespace

void add_uri_functions(FunctionTable& t) {
  const FunctionSpec seturi = string_edit([](sip::Uri& uri, const std::string& text) {
    std::optional<sip::Uri> parsed = sip::Uri::parse(text);
    if (!parsed) return false;
    uri = *parsed;
    return true;
  });
  t["rewriteuri"] = seturi;
  t["seturi"] = seturi;
  const FunctionSpec host = string_edit([](sip::Uri& uri, const std::string& text) {
    if (text.empty()) return false;
    uri.host = text;
    return true;
  });
  t["rewritehost"] = host;
  t["sethost"] = host;
  const FunctionSpec hostport = string_edit(set_host_port);
  t["rewritehostport"] = hostport;
  t["sethostport"] = hostport;
  const FunctionSpec port = string_edit([](sip::Uri& uri, const std::string& text) {
    if (text.empty()) {
      uri.port = 0;
      return true;
    }
    auto p = port_of(text);
    if (!p) return false;
    uri.port = *p;
    return true;
  });
  t["rewriteport"] = port;
  t["setport"] = port;
  const FunctionSpec user = string_edit([](sip::Uri& uri, const std::string& text) {
    uri.user = text;
    return true;
  });
  t["rewriteuser"] = user;
  t["setuser"] = user;
  t["prefix"] = string_edit([](sip::Uri& uri, const std::string& text) {
    uri.user = text + uri.user;
    return true;
  });
  t["strip"] = count_edit([](sip::Uri& uri, std::size_t n) {
    uri.user.erase(0, std::min(n, uri.user.size()));
    return true;
  });
  t["strip_tail"] = count_edit([](sip::Uri& uri, std::size_t n) {
    uri.user.resize(uri.user.size() - std::min(n, uri.user.size()));
    return true;
  });
}

}  // namespace strowger::proxy::script::engine
