// Socket setup shared by the UDP and TCP transports.
#include "proxy/transport/socket_setup.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace strowger::proxy::transport {

std::string socket_error_text(const char* what, const Address& a, int err) {
  std::string out = what;
  out += ' ';
  out += a.to_string();
  out += ": ";
  out += std::strerror(err);
  return out;
}

Fd open_bound_socket(const Address& local, int type, std::string* error) {
  if (!local.valid()) {
    *error = "invalid local address";
    return Fd();
  }
  Fd fd(::socket(local.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    *error = socket_error_text("socket", local, errno);
    return Fd();
  }
  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    *error = socket_error_text("setsockopt SO_REUSEPORT", local, errno);
    return Fd();
  }
  if (local.family() == AF_INET6 &&
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) {
    *error = socket_error_text("setsockopt IPV6_V6ONLY", local, errno);
    return Fd();
  }
  if (::bind(fd.get(), local.sa(), local.len()) != 0) {
    *error = socket_error_text("bind", local, errno);
    return Fd();
  }
  return fd;
}

int grow_socket_buffer(int fd, int option, int bytes) {
  int current = 0;
  socklen_t len = sizeof current;
  getsockopt(fd, SOL_SOCKET, option, &current, &len);
  // Linux reports twice the requested value (bookkeeping overhead), hence the halving.
  if (current / 2 >= bytes) return current;
  setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  len = sizeof current;
  getsockopt(fd, SOL_SOCKET, option, &current, &len);
  if (current / 2 < bytes) {
    const int force = option == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) == 0) {
      len = sizeof current;
      getsockopt(fd, SOL_SOCKET, option, &current, &len);
    }
  }
  return current;
}

Address socket_local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return Address();
  return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace strowger::proxy::transport
