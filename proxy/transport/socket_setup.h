// Socket setup shared by the UDP and TCP transports: bound listening sockets and option helpers.
#pragma once
#include <optional>
#include <string>

#include "proxy/transport/address.h"
#include "proxy/transport/event_handles.h"

namespace strowger::proxy::transport {

// Creates a non-blocking, close-on-exec socket of `type` (SOCK_DGRAM, SOCK_STREAM) bound to
// `local` with SO_REUSEADDR + SO_REUSEPORT, so every worker can bind the same address and the
// kernel spreads datagrams/connections over them. IPv6 sockets are IPV6_V6ONLY.
// On failure returns an invalid Fd and sets *error to e.g. "bind 127.0.0.1:5060: Address
// already in use".
Fd open_bound_socket(const Address& local, int type, std::string* error);

// Asks for `bytes` of kernel buffer (SO_RCVBUF or SO_SNDBUF); the kernel caps the request at
// net.core.[rw]mem_max, and a privileged process may exceed that (SO_*BUFFORCE). Returns the
// size the kernel reports afterwards.
int grow_socket_buffer(int fd, int option, int bytes);

// The address a socket is bound to (useful after binding port 0).
Address socket_local_address(int fd);

// "<what> <address>: <strerror(err)>"
std::string socket_error_text(const char* what, const Address& a, int err);

}  // namespace strowger::proxy::transport
