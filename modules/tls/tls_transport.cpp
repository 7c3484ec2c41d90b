// TlsTransport: SSL objects for accepted and outbound connections, the handshake timeout,
// failure texts, reload, and the JSON of tls.list / tls.info.
#include "modules/tls/tls_transport.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace strowger::modules::tls {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The handshake did not finish in time: report it like any handshake failure, through the
// core's event callback (deferred, so the core may free the bufferevent and this timer).
void on_handshake_timeout(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<SessionState*>(arg);
  if (s->handshake_done || !s->bev) return;
  s->timed_out = true;
  ++s->table->handshakes_timed_out;
  bufferevent_trigger_event(s->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
}

const char* verify_client_name(VerifyClient v) {
  switch (v) {
    case VerifyClient::kOptional:
      return "optional";
    case VerifyClient::kRequired:
      return "required";
    case VerifyClient::kNone:
      break;
  }
  return "none";
}

}  // namespace

common::Result<std::shared_ptr<TlsTransport>> TlsTransport::create(const TlsConfig& config) {
  auto set = ContextSet::build(config);
  if (!set) return set.error();
  return std::shared_ptr<TlsTransport>(new TlsTransport(std::move(*set)));
}

TlsTransport::TlsTransport(std::shared_ptr<const ContextSet> contexts)
    : current_(std::move(contexts)) {
  loaded_unix_ = unix_now();
}

std::shared_ptr<const ContextSet> TlsTransport::contexts() const {
  std::lock_guard lock(mu_);
  return current_;
}

SSL* TlsTransport::new_ssl(SSL_CTX* ctx, const std::shared_ptr<const ContextSet>& set,
                           const sipproxy::ConnectionInfo& conn, bool outbound,
                           const std::string& sni, SessionState** state, std::string* error) {
  ERR_clear_error();
  SslPtr ssl(SSL_new(ctx));
  if (!ssl) {
    if (error) *error = "tls: SSL_new failed: " + openssl_errors();
    return nullptr;
  }
  auto s = std::make_unique<SessionState>();
  s->key = next_key_++;
  s->conn = conn;
  s->outbound = outbound;
  s->server_name = sni;
  s->contexts = set;
  s->table = table_;
  s->handshake_timeout_ms = set->config().handshake_timeout_ms;
  *state = s.get();
  if (!attach_session(ssl.get(), std::move(s))) {
    if (error) *error = "tls: cannot attach the session state: " + openssl_errors();
    return nullptr;
  }
  return ssl.release();
}

void TlsTransport::arm_handshake_timer(event_base* loop, SessionState* state, bufferevent* bev) {
  state->bev = bev;
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  if (state->handshake_timeout_ms <= 0) return;
  state->handshake_timer = evtimer_new(loop, on_handshake_timeout, state);
  if (!state->handshake_timer) return;  // no timeout beats no connection
  timeval tv{static_cast<time_t>(state->handshake_timeout_ms / 1000),
             static_cast<suseconds_t>((state->handshake_timeout_ms % 1000) * 1000)};
  evtimer_add(state->handshake_timer, &tv);
}

bufferevent* TlsTransport::accept(event_base* loop, int fd, const sipproxy::ConnectionInfo& conn,
                                  std::string* error) {
  const auto set = contexts();
  SessionState* state = nullptr;
  SSL* ssl = new_ssl(set->server(), set, conn, false, "", &state, error);
  if (!ssl) return nullptr;
  bufferevent* bev = bufferevent_openssl_socket_new(loop, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    // libevent frees the SSL itself on most failure paths; a leak beats a double free.
    if (error) *error = "tls: bufferevent_openssl_socket_new failed";
    return nullptr;
  }
  arm_handshake_timer(loop, state, bev);
  return bev;
}

bufferevent* TlsTransport::connect(event_base* loop, const sipproxy::ConnectionInfo& conn,
                                   const std::string& server_name, std::string* error) {
  const auto set = contexts();
  const std::string name = server_name.empty() ? conn.remote_ip : server_name;
  const bool ip = is_ip_literal(name);
  SessionState* state = nullptr;
  SSL* ssl = new_ssl(set->client(), set, conn, true, ip ? "" : name, &state, error);
  if (!ssl) return nullptr;
  if (set->config().verify_server && !name.empty()) {
    // The certificate must name the host we meant (SAN DNS), or the IP we dialled (SAN IP).
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) {
      if (error) *error = "tls: cannot verify against '" + name + "': " + openssl_errors();
      SSL_free(ssl);
      return nullptr;
    }
  }
  // RFC 6066 3: SNI carries host names only, never IP literals.
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
  bufferevent* bev = bufferevent_openssl_socket_new(loop, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    if (error) *error = "tls: bufferevent_openssl_socket_new failed";
    return nullptr;
  }
  arm_handshake_timer(loop, state, bev);
  return bev;
}

std::string TlsTransport::last_error(bufferevent* bev) const {
  SSL* ssl = bev ? bufferevent_openssl_get_ssl(bev) : nullptr;
  if (!ssl) return "not a TLS connection";
  const SessionState* s = session_of(ssl);
  std::string out;
  auto add = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += "; ";
    out += part;
  };
  if (s && s->timed_out)
    add("TLS handshake timed out after " + std::to_string(s->handshake_timeout_ms) + " ms");
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    add(std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify));
  if (s) add(s->alert);
  while (unsigned long e = bufferevent_get_openssl_error(bev)) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = std::strrchr(buf, ':');
    add(reason && reason[1] ? reason + 1 : buf);
  }
  if (out.empty()) {
    out = s && !s->handshake_done ? "connection closed during the TLS handshake"
                                  : "TLS connection closed";
  }
  return out;
}

std::optional<std::string> TlsTransport::reload(const TlsConfig& config) {
  auto set = ContextSet::build(config);
  if (!set) return set.error().message;
  {
    std::lock_guard lock(mu_);
    current_ = std::move(*set);
  }
  ++reloads_;
  loaded_unix_ = unix_now();
  return std::nullopt;
}

common::Json TlsTransport::list() const {
  common::Json rows = common::Json::array();
  for (const SessionInfo& s : table_->list()) {
    rows.push_back({{"id", s.connection_id},
                    {"proto", s.proto},
                    {"direction", s.outbound ? "out" : "in"},
                    {"remote", s.remote},
                    {"local", s.local},
                    {"version", s.version},
                    {"cipher", s.cipher},
                    {"server_name", s.server_name},
                    {"peer_subject", s.peer_subject},
                    {"peer_verified", s.peer_verified},
                    {"local_certificate_expiry", s.local_certificate_expiry},
                    {"established", s.established_unix}});
  }
  return common::Json{{"connections", rows}, {"count", rows.size()}};
}

common::Json TlsTransport::info() const {
  const auto set = contexts();
  const TlsConfig& c = set->config();
  common::Json certs = common::Json::array();
  for (const CertificateInfo& ci : set->certificates()) {
    certs.push_back({{"server_name", ci.server_name.empty() ? "(default)" : ci.server_name},
                     {"file", ci.file},
                     {"subject", ci.subject},
                     {"issuer", ci.issuer},
                     {"serial", ci.serial},
                     {"not_before", ci.not_before},
                     {"not_after", ci.not_after}});
  }
  return common::Json{{"certificates", certs},
                      {"ca_list", c.ca_list.path},
                      {"min_version", c.min_version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"},
                      {"verify_client", verify_client_name(c.verify_client)},
                      {"verify_server", c.verify_server},
                      {"handshake_timeout_ms", c.handshake_timeout_ms},
                      {"connections", table_->size()},
                      {"handshakes",
                       {{"completed", table_->handshakes_completed.load()},
                        {"failed", table_->handshakes_failed.load()},
                        {"timed_out", table_->handshakes_timed_out.load()}}},
                      {"reloads", reloads_.load()},
                      {"loaded", loaded_unix_.load()}};
}

}  // namespace strowger::modules::tls
