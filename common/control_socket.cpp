// Unix listening socket set-up for the control server: mkdir -p, stale socket takeover, modes.
#include "common/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/log.h"

namespace strowger::common {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

Error failure(int err, std::string message) {
  return Error{err, std::move(message)};
}

bool fill_address(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// mkdir -p for the socket's parent, with `mode` forced on the directories it creates (the
// process umask must not widen or narrow what the operator configured).
std::optional<std::string> make_parent_directories(const std::string& path, mode_t mode) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  const std::string parent = path.substr(0, slash);
  for (std::size_t pos = 1; pos <= parent.size(); ++pos) {
    if (pos != parent.size() && parent[pos] != '/') continue;
    const std::string dir = parent.substr(0, pos);
    if (::mkdir(dir.c_str(), mode) == 0) {
      if (::chmod(dir.c_str(), mode) != 0) {
        return "cannot set mode of " + dir + ": " + errno_text(errno);
      }
      continue;
    }
    if (errno != EEXIST) return "cannot create " + dir + ": " + errno_text(errno);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return dir + " exists and is not a directory";
    }
  }
  return std::nullopt;
}

// Frees the path for bind(): a socket nobody answers on was left by a dead process and is
// removed; a live one, or anything that is not a socket, is never touched.
std::optional<std::string> claim_path(const std::string& path, const sockaddr_un& addr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return "cannot stat " + path + ": " + errno_text(errno);
  }
  if (!S_ISSOCK(st.st_mode)) return path + " exists and is not a socket";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket: " + errno_text(errno);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = rc == 0 ? 0 : errno;
  ::close(fd);
  // EAGAIN: a live server whose backlog is full.
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    return "another process is already listening on " + path;
  }
  if (err != ECONNREFUSED) return "cannot check existing socket " + path + ": " + errno_text(err);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove stale socket " + path + ": " + errno_text(errno);
  }
  LOG_NOTICE("control: removed stale socket %s", path.c_str());
  return std::nullopt;
}

}  // namespace

Result<UnixListenSocket> listen_unix_socket(const std::string& path, mode_t socket_mode,
                                            mode_t directory_mode, int backlog) {
  sockaddr_un addr;
  if (!fill_address(path, &addr)) {
    return failure(ENAMETOOLONG, "control socket path must be 1 to " +
                                     std::to_string(sizeof addr.sun_path - 1) + " bytes: '" + path +
                                     "'");
  }
  if (auto err = make_parent_directories(path, directory_mode)) return failure(EINVAL, *err);
  if (auto err = claim_path(path, addr)) return failure(EADDRINUSE, *err);

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure(errno, "socket: " + errno_text(errno));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return failure(err, "cannot bind " + path + ": " + errno_text(err));
  }
  UnixListenSocket s;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    s.dev = st.st_dev;
    s.ino = st.st_ino;
  }
  if (::chmod(path.c_str(), socket_mode) != 0 || ::listen(fd, backlog) != 0) {
    int err = errno;
    ::close(fd);
    remove_unix_socket(path, s);
    return failure(err, "cannot set up " + path + ": " + errno_text(err));
  }
  s.fd = fd;
  return s;
}

void remove_unix_socket(const std::string& path, const UnixListenSocket& s) {
  struct stat st;
  if (s.ino != 0 && ::lstat(path.c_str(), &st) == 0 && st.st_dev == s.dev && st.st_ino == s.ino) {
    ::unlink(path.c_str());
  }
}

}  // namespace strowger::common
