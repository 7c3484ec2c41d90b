// SessionState's life cycle: ex_data index with a free callback (runs inside SSL_free on the
// owning worker), the info callback that records handshake completion and alerts.
#include "modules/tls/tls_session.h"

#include <event2/event.h>

#include <chrono>
#include <mutex>

namespace strowger::modules::tls {
namespace {

void free_session(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  auto* state = static_cast<SessionState*>(ptr);
  if (!state) return;
  if (state->handshake_timer) event_free(state->handshake_timer);
  if (state->table) {
    state->table->erase(state->key);
    if (!state->handshake_done && !state->timed_out) ++state->table->handshakes_failed;
  }
  delete state;
}

int session_index() {
  static const int index = SSL_get_ex_new_index(0, const_cast<char*>("strowger tls session"),
                                                nullptr, nullptr, free_session);
  return index;
}

std::string endpoint(const std::string& ip, std::uint16_t port) {
  if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
  return ip + ":" + std::to_string(port);
}

void on_handshake_done(const SSL* ssl, SessionState* s) {
  if (s->handshake_timer) event_del(s->handshake_timer);
  const bool first = !s->handshake_done;
  s->handshake_done = true;
  SessionInfo info;
  info.connection_id = s->conn.id;
  info.proto = s->conn.proto;
  info.outbound = s->outbound;
  info.remote = endpoint(s->conn.remote_ip, s->conn.remote_port);
  info.local = endpoint(s->conn.local_ip, s->conn.local_port);
  info.version = SSL_get_version(ssl);
  info.cipher = SSL_get_cipher_name(ssl);
  if (s->outbound) {
    info.server_name = s->server_name;
  } else if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    info.server_name = name;
  }
  if (X509* peer = SSL_get0_peer_certificate(ssl)) {
    info.peer_subject = x509_name_text(X509_get_subject_name(peer));
    info.peer_verified =
        SSL_get_verify_result(ssl) == X509_V_OK && SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE;
  }
  if (X509* mine = SSL_get_certificate(ssl))
    info.local_certificate_expiry = asn1_time_iso(X509_get0_notAfter(mine));
  info.established_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  if (first) ++s->table->handshakes_completed;
  s->table->put(s->key, std::move(info));
}

void on_info(const SSL* ssl, int where, int ret) {
  SessionState* s = session_of(ssl);
  if (!s) return;
  if (where & SSL_CB_HANDSHAKE_DONE) on_handshake_done(ssl, s);
  if ((where & SSL_CB_ALERT) && (ret >> 8) == SSL3_AL_FATAL) {
    s->alert = std::string((where & SSL_CB_READ) ? "peer sent alert " : "sent alert ") +
               SSL_alert_desc_string_long(ret);
  }
}

}  // namespace

void SessionTable::put(std::uint64_t key, SessionInfo info) {
  std::lock_guard lock(mu_);
  sessions_[key] = std::move(info);
}

void SessionTable::erase(std::uint64_t key) {
  std::lock_guard lock(mu_);
  sessions_.erase(key);
}

std::vector<SessionInfo> SessionTable::list() const {
  std::lock_guard lock(mu_);
  std::vector<SessionInfo> out;
  out.reserve(sessions_.size());
  for (const auto& [key, info] : sessions_) out.push_back(info);
  return out;
}

std::size_t SessionTable::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

bool attach_session(SSL* ssl, std::unique_ptr<SessionState> state) {
  const int index = session_index();
  if (index < 0) return false;
  if (SSL_set_ex_data(ssl, index, state.get()) != 1) return false;
  state.release();  // free_session deletes it when the SSL goes
  SSL_set_info_callback(ssl, on_info);
  return true;
}

SessionState* session_of(const SSL* ssl) {
  const int index = session_index();
  return index < 0 ? nullptr : static_cast<SessionState*>(SSL_get_ex_data(ssl, index));
}

}  // namespace strowger::modules::tls
