// TlsTransport: the module's sipproxy::TlsService (bufferevent_openssl over the core's sockets),
// with the current ContextSet swapped by reload and the session table behind tls.list.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/control_server.h"
#include "common/result.h"
#include "modules/tls/tls_config.h"
#include "modules/tls/tls_context.h"
#include "modules/tls/tls_session.h"
#include "sipproxy/transport.h"

namespace strowger::modules::tls {

class TlsTransport final : public sipproxy::TlsService {
 public:
  // Builds the contexts (every file checked); the error is what sipproxy prints at start.
  static common::Result<std::shared_ptr<TlsTransport>> create(const TlsConfig& config);

  bufferevent* accept(event_base* loop, int fd, const sipproxy::ConnectionInfo& conn,
                      std::string* error) override;
  bufferevent* connect(event_base* loop, const sipproxy::ConnectionInfo& conn,
                       const std::string& server_name, std::string* error) override;
  std::string last_error(bufferevent* bev) const override;

  // New connections get the new contexts; existing ones keep theirs. On error nothing changes.
  std::optional<std::string> reload(const TlsConfig& config);

  common::Json list() const;  // tls.list
  common::Json info() const;  // tls.info
  std::shared_ptr<const ContextSet> contexts() const;
  const SessionTable& sessions() const { return *table_; }

 private:
  explicit TlsTransport(std::shared_ptr<const ContextSet> contexts);
  SSL* new_ssl(SSL_CTX* ctx, const std::shared_ptr<const ContextSet>& set,
               const sipproxy::ConnectionInfo& conn, bool outbound, const std::string& sni,
               SessionState** state, std::string* error);
  void arm_handshake_timer(event_base* loop, SessionState* state, bufferevent* bev);

  mutable std::mutex mu_;  // guards current_ (accept on workers, reload on the control thread)
  std::shared_ptr<const ContextSet> current_;
  std::shared_ptr<SessionTable> table_ = std::make_shared<SessionTable>();
  std::atomic<std::uint64_t> next_key_{1};
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::int64_t> loaded_unix_{0};
};

}  // namespace strowger::modules::tls
