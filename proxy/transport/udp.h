// UdpTransport: SIP over UDP on one worker's event_base, one socket per listener, batched reads.
#pragma once
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/transport/event_handles.h"
#include "proxy/transport/transport.h"

namespace strowger::proxy::transport {

struct UdpCounters {
  std::uint64_t received = 0;            // datagrams handed to the receiver
  std::uint64_t received_oversize = 0;   // dropped: larger than max_message_size
  std::uint64_t received_keepalive = 0;  // dropped: CRLF/NUL-only NAT keep-alives
  std::uint64_t receive_batches = 0;     // recvmmsg calls that returned datagrams
  std::uint64_t sent = 0;
  std::uint64_t send_dropped = 0;  // socket buffer full (EAGAIN/ENOBUFS): UDP is lossy, never block
  std::uint64_t send_errors = 0;   // any other failure (no socket for the family, EMSGSIZE, ...)
};

class UdpTransport final : public Transport {
 public:
  static constexpr int kBatch = 32;               // datagrams per recvmmsg
  static constexpr int kMaxBatchesPerWakeup = 8;  // then yield to the loop's other events
  static constexpr int kSocketBufferBytes = 4 << 20;

  UdpTransport(event_base* base, Receiver& receiver, int worker_index,
               std::size_t max_message_size);
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // Binds a socket for config listener `listener_index` on this worker. Returns an error text on
  // failure, e.g. "bind 127.0.0.1:5060: Address already in use".
  std::optional<std::string> listen(int listener_index, const Address& local);
  // The bound address (with the kernel's port when 0 was asked); invalid if no such listener.
  Address local_address(int listener_index) const;

  Protocol protocol() const override { return Protocol::kUdp; }
  // Sends from to.listener's socket when it has the right family, else from the first socket of
  // the destination's family. Returns 1, or 0 when the datagram was not sent.
  std::uint64_t send(const Peer& to, std::string_view bytes) override;
  void close_after_flush(std::uint64_t) override {}
  std::size_t connection_count() const override { return 0; }

  const UdpCounters& counters() const { return counters_; }
  int worker_index() const { return worker_index_; }

 private:
  struct Socket {
    UdpTransport* owner = nullptr;
    int listener = -1;
    Address local;
    Fd fd;
    EventPtr readable;
  };
  static void on_readable(evutil_socket_t fd, short what, void* arg);
  void drain(Socket& s);
  const Socket* socket_for(const Peer& to) const;

  event_base* base_;
  Receiver& receiver_;
  int worker_index_;
  std::size_t max_message_size_;
  std::size_t slot_size_;  // one byte more than the largest accepted datagram, to spot oversize
  std::vector<std::unique_ptr<Socket>> sockets_;
  // The receive batch, allocated once: on_message gets views into these slots.
  std::unique_ptr<char[]> slots_;
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iov_{};
  std::array<sockaddr_storage, kBatch> names_{};
  UdpCounters counters_;
};

}  // namespace strowger::proxy::transport
