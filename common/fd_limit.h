// The open-file limit: every connection is a descriptor, and distributions start daemons with a
// soft limit of 1024, far below what a proxy with thousands of TLS/WebSocket clients needs.
#pragma once
#include <cstdint>

namespace strowger::common {

// Raises the soft RLIMIT_NOFILE to the hard limit (as Kamailio's open_files_limit would) and
// returns the soft limit in force afterwards.
std::uint64_t raise_fd_limit();

}  // namespace strowger::common
