// Per-connection TLS state kept in the SSL's ex_data (freed with the SSL), and SessionTable, the
// mutex-guarded list of established sessions tls.list reads: the control thread never touches a
// live SSL that a worker owns.
#pragma once
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "modules/tls/tls_context.h"
#include "sipproxy/transport.h"

struct bufferevent;
struct event;

namespace strowger::modules::tls {

// One established session as tls.list shows it (copied out at handshake completion).
struct SessionInfo {
  std::uint64_t connection_id = 0;
  std::string proto;
  bool outbound = false;
  std::string remote;  // "ip:port" ("[v6]:port")
  std::string local;
  std::string version;  // "TLSv1.3"
  std::string cipher;
  std::string server_name;   // SNI: asked by the client (inbound) or sent by us (outbound)
  std::string peer_subject;  // "" when the peer sent no certificate
  bool peer_verified = false;
  std::string local_certificate_expiry;
  std::int64_t established_unix = 0;
};

class SessionTable {
 public:
  void put(std::uint64_t key, SessionInfo info);
  void erase(std::uint64_t key);
  std::vector<SessionInfo> list() const;
  std::size_t size() const;

  std::atomic<std::uint64_t> handshakes_completed{0};
  std::atomic<std::uint64_t> handshakes_failed{0};
  std::atomic<std::uint64_t> handshakes_timed_out{0};

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, SessionInfo> sessions_;
};

// Lives in the SSL's ex_data from SSL_new until SSL_free; touched only by the owning worker.
struct SessionState {
  std::uint64_t key = 0;  // the module's own, unique even when the core gives no id
  sipproxy::ConnectionInfo conn;
  bool outbound = false;
  std::string server_name;                     // outbound: what we sent as SNI
  std::shared_ptr<const ContextSet> contexts;  // the SNI callback's arg must outlive the SSL
  std::shared_ptr<SessionTable> table;
  bufferevent* bev = nullptr;
  event* handshake_timer = nullptr;  // owned; freed with the state
  std::int64_t handshake_timeout_ms = 0;
  bool handshake_done = false;
  bool timed_out = false;
  std::string alert;  // the last fatal alert sent or received, for last_error()
};

// Attaches state to ssl (which then owns it) and installs the info callback that fills the table.
bool attach_session(SSL* ssl, std::unique_ptr<SessionState> state);
SessionState* session_of(const SSL* ssl);

}  // namespace strowger::modules::tls
