// A blocking JSON-RPC client for one call over a Unix stream socket, as sipctl makes it.
#pragma once
#include <string>

#include "common/result.h"

namespace strowger::tools::sipctl {

class RpcConnection {
 public:
  // Error::code is the errno of the failed socket()/connect() (ENAMETOOLONG for a path that
  // does not fit a sockaddr_un), Error::message its text. The wait for a daemon whose
  // backlog is full is bounded by timeout_ms.
  static common::Result<RpcConnection> connect(const std::string& socket_path, int timeout_ms);

  RpcConnection(RpcConnection&& o) noexcept;
  RpcConnection& operator=(RpcConnection&& o) noexcept;
  RpcConnection(const RpcConnection&) = delete;
  RpcConnection& operator=(const RpcConnection&) = delete;
  ~RpcConnection();

  // Sends `request` (one JSON text, without newline) and returns the first answer line. If the
  // daemon closes the connection after an unterminated answer, that answer is returned.
  common::Result<std::string> call(const std::string& request, int timeout_ms);

 private:
  explicit RpcConnection(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string pending_;  // bytes read past the last answer line
};

}  // namespace strowger::tools::sipctl
