// The control server's Unix socket file: parent directories, stale-file takeover, bind, modes.
#pragma once
#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace strowger::common {

struct UnixListenSocket {
  int fd = -1;  // listening, non-blocking, close-on-exec; the caller owns it
  dev_t dev = 0;
  ino_t ino = 0;  // with dev: which file is ours, for remove_unix_socket()
};

// Creates missing parent directories with directory_mode, removes a socket file no process
// answers on, binds, sets socket_mode (before listen(), so nobody connects earlier) and
// listens. Refuses a path another live process answers on, or that is not a socket.
Result<UnixListenSocket> listen_unix_socket(const std::string& path, mode_t socket_mode,
                                            mode_t directory_mode, int backlog);

// Unlinks `path` only if it is still the socket file `s` created: a successor may already
// have replaced it with its own live socket.
void remove_unix_socket(const std::string& path, const UnixListenSocket& s);

}  // namespace strowger::common
