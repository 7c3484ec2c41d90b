// ScriptHost: what each script function asks of the core, answered for the phase it runs in.
#include "proxy/core/script_host.h"

#include "common/log.h"
#include "proxy/core/proxy.h"

namespace strowger::proxy::core {
namespace {

using script::engine::ReplyMode;

script::engine::Peer to_script_peer(transport::Protocol proto, const transport::Address& addr) {
  script::engine::Peer p;
  p.proto = std::string(transport::protocol_token(proto));
  if (addr.valid()) {
    p.ip = addr.ip();
    p.port = addr.port();
  }
  return p;
}

// Kamailio's record_route_preset("1.2.3.4:5090;transport=tcp"): sip: added, ;lr ensured.
std::optional<std::string> preset_uri(std::string_view text) {
  std::string s(text);
  if (s.rfind("sip:", 0) != 0 && s.rfind("sips:", 0) != 0) s = "sip:" + s;
  std::optional<sip::Uri> uri = sip::Uri::parse(s);
  if (!uri || uri->host.empty()) return std::nullopt;
  if (!uri->has_param("lr")) uri->params += uri->params.empty() ? "lr" : ";lr";
  return uri->to_string();
}

}  // namespace

script::engine::Peer ScriptHost::source() const {
  return to_script_peer(from_.proto, from_.remote);
}

script::engine::Peer ScriptHost::local() const {
  if (from_.listener < 0) return to_script_peer(from_.proto, transport::Address());
  const Listener& l = proxy_.local_.listener(from_.listener);
  return to_script_peer(l.proto, l.local);
}

bool ScriptHost::is_myself(std::string_view host, std::uint16_t port) const {
  return proxy_.local_.is_myself(host, port);
}

transaction::ServerTransaction* ScriptHost::ensure_transaction() {
  if (st != nullptr) return st;
  if (phase_ != ScriptPhase::kRequest || layer == nullptr) return nullptr;
  if (message_->method() == sip::Method::kAck) return nullptr;  // an ACK never has one
  st = &layer->create_server(std::move(*message_), from_);
  message_ = &st->request();
  return st;
}

int ScriptHost::worker() const {
  return proxy_.worker_index_;
}

int ScriptHost::reply(int code, std::string_view reason, ReplyMode mode) {
  return reply_with_headers(code, reason, {}, mode);
}

int ScriptHost::reply_with_headers(int code, std::string_view reason, std::string_view headers,
                                   ReplyMode mode) {
  if (code < 100 || code > 699) return -1;
  if (phase_ == ScriptPhase::kFailure) {
    transaction::ServerTransaction* t = ctx != nullptr ? ctx->st : nullptr;
    if (t == nullptr || t->final_sent()) return -1;
    t->reply(code, std::string(reason), headers);
    if (code >= 200) replied = true;
    return 1;
  }
  if (phase_ != ScriptPhase::kRequest || message_->method() == sip::Method::kAck) return -1;
  if (mode == ReplyMode::kStateful) ensure_transaction();
  if (st != nullptr) {
    if (st->final_sent()) return -1;
    st->reply(code, std::string(reason), headers);
  } else {
    proxy_.reply_stateless(*message_, from_, code, reason, headers);
  }
  if (code >= 200) replied = true;
  return 1;
}

int ScriptHost::reply_error() {
  if (phase_ != ScriptPhase::kRequest || message_->method() == sip::Method::kAck) return -1;
  if (replied) return -1;  // a function (save(), a module's reply) already answered
  if (st != nullptr) {
    if (st->final_sent()) return -1;
    st->reply(error_code, error_reason, error_headers);
  } else {
    proxy_.reply_stateless(*message_, from_, error_code, error_reason, error_headers);
  }
  replied = true;
  return 1;
}

int ScriptHost::relay(const script::engine::RelayRequest& request) {
  return proxy_.script_relay(*this, request);
}

int ScriptHost::forward_stateless(const script::engine::ForwardRequest& request) {
  return proxy_.script_forward(*this, request);
}

int ScriptHost::record_route(std::string_view params) {
  if (phase_ != ScriptPhase::kRequest) return -1;
  record_route_set = true;
  // Built with append: GCC 12 warns (-Wrestrict, falsely) on insert/operator+ here.
  rr_params.clear();
  if (!params.empty() && params.front() != ';') rr_params.push_back(';');
  rr_params.append(params.data(), params.size());
  return 1;
}

int ScriptHost::add_rr_param(std::string_view param) {
  if (param.empty()) return -1;
  // From a branch_route (Kamailio's NATMANAGE): the branches sent from now on carry it.
  if (phase_ == ScriptPhase::kBranch && ctx != nullptr && ctx->script) {
    if (param.front() != ';') ctx->script->rr_params.push_back(';');
    ctx->script->rr_params.append(param.data(), param.size());
    return 1;
  }
  if (phase_ != ScriptPhase::kRequest) return -1;
  if (param.front() != ';') rr_added.push_back(';');
  rr_added.append(param.data(), param.size());
  return 1;
}

int ScriptHost::record_route_preset(std::string_view uri, std::string_view uri2) {
  if (phase_ != ScriptPhase::kRequest) return -1;
  std::optional<std::string> first = preset_uri(uri);
  if (!first) return -1;
  std::vector<std::string> values{*first};
  if (!uri2.empty()) {
    std::optional<std::string> second = preset_uri(uri2);
    if (!second) return -1;
    values.push_back(*second);
  }
  rr_preset = std::move(values);
  return 1;
}

int ScriptHost::t_newtran() {
  if (phase_ == ScriptPhase::kRequest) return ensure_transaction() != nullptr ? 1 : -1;
  return ctx != nullptr ? 1 : -1;
}

int ScriptHost::t_check_trans() {
  if (phase_ != ScriptPhase::kRequest) return ctx != nullptr ? 1 : -1;
  // Retransmissions and CANCELs never reach the script: the transaction layer matched them.
  // What is left: an ACK for a 2xx of a transaction still around, or our own transaction.
  if (message_->method() == sip::Method::kAck) {
    return layer != nullptr && layer->find_server(*message_, true) != nullptr ? 1 : -1;
  }
  return st != nullptr ? 1 : -1;
}

int ScriptHost::t_is_canceled() {
  return ctx != nullptr && ctx->cancelled ? 1 : -1;
}

void ScriptHost::log(int level, std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const int n = static_cast<int>(text.size());
  if (level <= script::engine::kLogErr) {
    LOG_ERROR("script: %.*s", n, text.data());
  } else if (level == script::engine::kLogWarn) {
    LOG_WARN("script: %.*s", n, text.data());
  } else if (level == script::engine::kLogNotice) {
    LOG_NOTICE("script: %.*s", n, text.data());
  } else if (level == script::engine::kLogInfo) {
    LOG_INFO("script: %.*s", n, text.data());
  } else {
    LOG_DEBUG("script: %.*s", n, text.data());
  }
}

}  // namespace strowger::proxy::core
