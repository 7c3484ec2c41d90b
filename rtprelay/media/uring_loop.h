// UringLoop: a MediaWorker's io_uring backend. Every socket has one multishot recvmsg reading
// into a ring of provided buffers; forwarded packets go out as sendmsg SQEs straight from the
// buffer they arrived in; one io_uring_enter submits all sends of a batch and waits for the
// next completions, whatever sockets they come from. No epoll and no per-socket syscall.
#pragma once
#include <liburing.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "rtprelay/media/media_pair.h"

namespace strowger::rtprelay::media {

class MediaWorker;

class UringLoop {
 public:
  // batch_wait_us > 0: a wait returns after that long with the completions gathered so far
  // rather than at the first one, so one wake-up serves several packets (kernel 6.12+,
  // IORING_FEAT_MIN_TIMEOUT; ignored before). Adds at most that much latency per packet.
  UringLoop(MediaWorker& worker, int buffers, int batch_wait_us);
  ~UringLoop();
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;

  // Whether this kernel and its seccomp/sysctl policy give the loop what it needs: a ring,
  // provided buffer rings and multishot recvmsg, tried on a loopback socket. Runs once per
  // process; later calls return the first answer.
  static bool supported();

  // On the worker thread: ring, buffer ring, and a watch on the command eventfd. False with
  // errno set when something is refused.
  bool setup(int cmd_efd);
  // Arms the pair's sockets (submitted with the next batch).
  bool add_pair(MediaPair* pair);
  // The pair is closed already: cancels its receives; it is freed (sockets closed, ports
  // released) as soon as no operation of the ring references it any more.
  void close_pair(std::unique_ptr<MediaPair> pair);
  // Until the worker stops; then closes every pair and waits for the ring to let go of them.
  void run();

 private:
  enum Op : std::uint64_t { kRecv = 0, kSend = 1, kCommand = 2, kCancel = 3 };
  // A packet on its way out, one per receive buffer (same index): the buffer is its payload.
  struct SendSlot {
    msghdr msg{};
    iovec iov{};
    Endpoint dest;  // a copy: the latch may move before the send completes
    MediaPair* pair = nullptr;
    PairSide* side = nullptr;
  };

  io_uring_sqe* get_sqe();
  int submit_and_wait(std::int64_t wait_ms);
  unsigned flush_sq();
  bool arm_recv(SocketTag* tag);
  void arm_command();
  void process_completions(std::int64_t now_ms);
  void on_recv(SocketTag* tag, const io_uring_cqe* cqe, std::int64_t now_ms);
  void on_send(unsigned bid, int res);
  void recycle(unsigned bid);
  void after_batch();
  std::uint8_t* buffer(unsigned bid) { return &buffers_[bid * kBufSize]; }
  void shutdown();

  // Room for the recvmsg_out header and an IPv6 source before a full kMaxPacket payload, so
  // both backends forward exactly the same sizes.
  static constexpr std::size_t kBufSize =
      sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_in6) + kMaxPacket;
  static constexpr std::uint16_t kBufGroup = 0;
  static constexpr unsigned kCqeBatch = 256;

  MediaWorker& worker_;
  io_uring ring_{};
  bool ring_ok_ = false;
  unsigned batch_wait_us_ = 0;  // 0 when off or unsupported
  unsigned nbufs_;
  io_uring_buf_ring* br_ = nullptr;  // mmap'ed: the kernel wants it page aligned
  std::size_t br_bytes_ = 0;
  bool br_registered_ = false;
  int pending_adds_ = 0;  // buffers given back since the last buf_ring advance
  std::vector<std::uint8_t> buffers_;
  std::vector<SendSlot> slots_;
  msghdr recv_hdr_{};  // what every multishot recvmsg fills: a source name, no control data
  int cmd_efd_ = -1;
  bool cmd_armed_ = false;
  std::vector<SocketTag*> rearm_;                    // receives that ended, to re-arm
  std::vector<std::unique_ptr<MediaPair>> closing_;  // closed, freed when !busy()
};

}  // namespace strowger::rtprelay::media
