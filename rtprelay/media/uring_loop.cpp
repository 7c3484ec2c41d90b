// UringLoop implementation: ring set-up and probe, multishot receives into provided buffers,
// sends from those buffers, completions in batches, and the safe release of closed pairs.
#include "rtprelay/media/uring_loop.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/log.h"
#include "rtprelay/media/media_worker.h"

namespace strowger::rtprelay::media {

namespace {

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 16384;
// io_uring_getevents_arg's min_wait_usec (6.12+; `pad` in liburing 2.3's header).
constexpr unsigned kFeatMinTimeout = 1U << 15;

std::uint64_t tag_data(SocketTag* tag) {
  return reinterpret_cast<std::uintptr_t>(tag);  // aligned: the low two bits are kRecv (0)
}

std::size_t page_round(std::size_t n) {
  auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

// The whole path on a throwaway ring: one multishot recvmsg with a provided buffer on a
// loopback socket must deliver a datagram and stay armed. Old kernels (no multishot recvmsg:
// before 6.0), io_uring_disabled and seccomp filters all fail here.
bool probe() {
  io_uring ring;
  if (io_uring_queue_init(8, &ring, 0) != 0) return false;
  bool ok = false;
  constexpr unsigned kBufs = 2;
  constexpr std::size_t kLen = 256;
  static std::uint8_t bufs[kBufs][kLen];
  std::size_t br_bytes = page_round(kBufs * sizeof(io_uring_buf));
  void* mem = mmap(nullptr, br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in self{};
  self.sin_family = AF_INET;
  self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t self_len = sizeof(self);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(mem);
  reg.ring_entries = kBufs;
  reg.bgid = 0;
  msghdr hdr{};
  hdr.msg_namelen = sizeof(sockaddr_in6);
  if (mem != MAP_FAILED && fd >= 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(self)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&self), &self_len) == 0 &&
      io_uring_register_buf_ring(&ring, &reg, 0) == 0) {
    auto* br = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(br);
    for (unsigned i = 0; i < kBufs; ++i)
      io_uring_buf_ring_add(br, bufs[i], kLen, static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(kBufs), static_cast<int>(i));
    io_uring_buf_ring_advance(br, kBufs);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recvmsg_multishot(sqe, fd, &hdr, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{1, 0};
    if (io_uring_submit(&ring) == 1 &&
        ::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&self), sizeof(self)) == 1 &&
        io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) {
      ok = cqe->res > 0 && (cqe->flags & IORING_CQE_F_MORE) && (cqe->flags & IORING_CQE_F_BUFFER);
    }
  }
  io_uring_queue_exit(&ring);
  if (fd >= 0) ::close(fd);
  if (mem != MAP_FAILED) munmap(mem, br_bytes);
  return ok;
}

}  // namespace

bool UringLoop::supported() {
  static const bool ok = probe();
  return ok;
}

UringLoop::UringLoop(MediaWorker& worker, int buffers, int batch_wait_us)
    : worker_(worker),
      batch_wait_us_(static_cast<unsigned>(std::clamp(batch_wait_us, 0, 100'000))) {
  // The buffer ring wants a power of two, at most 32768 entries.
  unsigned n = 1;
  while (n < static_cast<unsigned>(std::clamp(buffers, 8, 32768))) n <<= 1;
  nbufs_ = n;
}

UringLoop::~UringLoop() {
  // Closing the ring drops whatever it still holds; the buffer ring's pages are pinned by the
  // kernel until then, so they are unmapped after.
  if (ring_ok_) io_uring_queue_exit(&ring_);
  if (br_ != nullptr) munmap(br_, br_bytes_);
  closing_.clear();
}

bool UringLoop::setup(int cmd_efd) {
  // DEFER_TASKRUN: completions are produced only inside our own io_uring_enter, in one go,
  // instead of interrupting the thread per packet (6.1+); older kernels take the plain flags.
  const unsigned flag_sets[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL, 0};
  int r = -EINVAL;
  io_uring_params p{};
  for (unsigned flags : flag_sets) {
    p = io_uring_params{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = kCqEntries;
    r = io_uring_queue_init_params(kSqEntries, &ring_, &p);
    if (r != -EINVAL) break;
  }
  if (r != 0) {
    errno = -r;
    return false;
  }
  ring_ok_ = true;
  if (!(p.features & kFeatMinTimeout)) batch_wait_us_ = 0;

  br_bytes_ = page_round(nbufs_ * sizeof(io_uring_buf));
  void* mem = mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return false;
  br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(br_);
  reg.ring_entries = nbufs_;
  reg.bgid = kBufGroup;
  r = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (r != 0) {
    errno = -r;
    return false;
  }
  buffers_.assign(nbufs_ * kBufSize, 0);
  slots_.assign(nbufs_, SendSlot());
  io_uring_buf_ring_init(br_);
  for (unsigned i = 0; i < nbufs_; ++i) recycle(i);
  io_uring_buf_ring_advance(br_, pending_adds_);
  pending_adds_ = 0;
  recv_hdr_.msg_namelen = sizeof(sockaddr_in6);
  cmd_efd_ = cmd_efd;
  arm_command();
  if (!cmd_armed_) {
    errno = EBUSY;
    return false;
  }
  return true;
}

io_uring_sqe* UringLoop::get_sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (s == nullptr) {  // the queue is full: hand it to the kernel now and take a fresh entry
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

unsigned UringLoop::flush_sq() {
  // What io_uring_submit does before entering the kernel: publish the queued entries.
  io_uring_sq& sq = ring_.sq;
  unsigned tail = sq.sqe_tail;
  if (sq.sqe_head != tail) {
    sq.sqe_head = tail;
    io_uring_smp_store_release(sq.ktail, tail);
  }
  return tail - io_uring_smp_load_acquire(sq.khead);
}

int UringLoop::submit_and_wait(std::int64_t wait_ms) {
  __kernel_timespec ts{wait_ms / 1000, (wait_ms % 1000) * 1'000'000};
  if (batch_wait_us_ == 0) {
    io_uring_cqe* cqe = nullptr;
    return io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  io_uring_getevents_arg arg{};
  arg.ts = reinterpret_cast<std::uintptr_t>(&ts);
  arg.pad = batch_wait_us_;
  int r = io_uring_enter2(static_cast<unsigned>(ring_.ring_fd), flush_sq(), kCqeBatch,
                          IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                          reinterpret_cast<sigset_t*>(&arg), sizeof(arg));
  return r == -1 ? -errno : r;
}

void UringLoop::arm_command() {
  io_uring_sqe* s = get_sqe();
  if (s == nullptr) return;  // retried after the next batch
  io_uring_prep_poll_multishot(s, cmd_efd_, POLLIN);
  io_uring_sqe_set_data64(s, kCommand);
  cmd_armed_ = true;
}

bool UringLoop::arm_recv(SocketTag* tag) {
  io_uring_sqe* s = get_sqe();
  if (s == nullptr) return false;
  io_uring_prep_recvmsg_multishot(s, tag->fd, &recv_hdr_, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = kBufGroup;
  io_uring_sqe_set_data64(s, tag_data(tag));
  tag->armed = true;
  tag->pair->hold();
  return true;
}

bool UringLoop::add_pair(MediaPair* pair) {
  // Room for all four receives first: a pair must be armed completely or not at all, as a
  // refused pair is freed by the caller.
  if (io_uring_sq_space_left(&ring_) < 4) io_uring_submit(&ring_);
  if (io_uring_sq_space_left(&ring_) < 4) {
    errno = EBUSY;
    return false;
  }
  for (int s = 0; s < 2; ++s)
    for (int c = 0; c < 2; ++c)
      if (pair->side(s).tags[c].fd >= 0) arm_recv(&pair->side(s).tags[c]);
  return true;
}

void UringLoop::close_pair(std::unique_ptr<MediaPair> pair) {
  for (int s = 0; s < 2; ++s) {
    for (int c = 0; c < 2; ++c) {
      SocketTag& tag = pair->side(s).tags[c];
      if (!tag.armed) continue;
      io_uring_sqe* sqe = get_sqe();
      if (sqe == nullptr) {
        LOG_WARN("media worker %d: cannot cancel a receive; pair kept until exit", worker_.index());
        continue;
      }
      io_uring_prep_cancel64(sqe, tag_data(&tag), 0);
      io_uring_sqe_set_data64(sqe, kCancel);
    }
  }
  closing_.push_back(std::move(pair));
}

void UringLoop::recycle(unsigned bid) {
  io_uring_buf_ring_add(br_, buffer(bid), kBufSize, static_cast<unsigned short>(bid),
                        io_uring_buf_ring_mask(nbufs_), pending_adds_++);
}

void UringLoop::on_recv(SocketTag* tag, const io_uring_cqe* cqe, std::int64_t now_ms) {
  MediaPair* pair = tag->pair;
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    // The receive ended (out of buffers, cancelled, error): re-armed after this batch, once
    // the buffers it needs are back in the ring.
    tag->armed = false;
    pair->release();
    if (!pair->closed()) rearm_.push_back(tag);
  }
  if (!(cqe->flags & IORING_CQE_F_BUFFER)) return;
  unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
  std::uint8_t* buf = buffer(bid);
  io_uring_recvmsg_out* out =
      cqe->res > 0 ? io_uring_recvmsg_validate(buf, cqe->res, &recv_hdr_) : nullptr;
  if (out == nullptr || pair->closed()) {
    recycle(bid);
    return;
  }
  if (out->flags & MSG_TRUNC) {
    ++pair->side(tag->side).counters.dropped_bad;
    recycle(bid);
    return;
  }
  socklen_t name_len = std::min<socklen_t>(out->namelen, recv_hdr_.msg_namelen);
  Endpoint src =
      Endpoint::from_sockaddr(static_cast<const sockaddr*>(io_uring_recvmsg_name(out)), name_len);
  auto* payload = static_cast<std::uint8_t*>(io_uring_recvmsg_payload(out, &recv_hdr_));
  std::size_t len = io_uring_recvmsg_payload_length(out, cqe->res, &recv_hdr_);
  Route route;
  if (!pair->on_packet(tag->side, tag->component, payload, len, src, now_ms,
                       worker_.config_.learning, &route)) {
    recycle(bid);
    return;
  }
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) {
    ++route.out->counters.send_failures;
    ++route.out->counters.errors;
    recycle(bid);
    return;
  }
  SendSlot& slot = slots_[bid];
  slot.dest = *route.dest;
  slot.iov = iovec{payload, len};
  slot.msg.msg_name = slot.dest.sa();
  slot.msg.msg_namelen = slot.dest.len();
  slot.msg.msg_iov = &slot.iov;
  slot.msg.msg_iovlen = 1;
  slot.pair = pair;
  slot.side = route.out;
  pair->hold();
  // MSG_DONTWAIT: a full send buffer fails the packet (counted) as on the epoll path, rather
  // than parking it, and its receive buffer, in the ring.
  io_uring_prep_sendmsg(sqe, route.fd, &slot.msg, MSG_DONTWAIT);
  io_uring_sqe_set_data64(sqe, (static_cast<std::uint64_t>(bid) << 2) | kSend);
}

void UringLoop::on_send(unsigned bid, int res) {
  if (bid >= nbufs_) return;
  SendSlot& slot = slots_[bid];
  if (res >= 0) {
    ++slot.side->counters.sent_packets;
    slot.side->counters.sent_bytes += slot.iov.iov_len;
  } else {
    ++slot.side->counters.send_failures;
    ++slot.side->counters.errors;
  }
  slot.pair->release();
  recycle(bid);
}

void UringLoop::process_completions(std::int64_t now_ms) {
  io_uring_cqe* cqes[kCqeBatch];
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kCqeBatch);
    if (n == 0) break;
    // In completion order: a command posted before a packet arrived has its completion
    // first, so an update applies to that packet, and a query counts the sends done before.
    for (unsigned i = 0; i < n; ++i) {
      const io_uring_cqe* c = cqes[i];
      switch (c->user_data & 3) {
        case kRecv:
          on_recv(reinterpret_cast<SocketTag*>(c->user_data), c, now_ms);
          break;
        case kSend:
          on_send(static_cast<unsigned>(c->user_data >> 2), c->res);
          break;
        case kCommand:
          if (!(c->flags & IORING_CQE_F_MORE)) cmd_armed_ = false;
          if (!worker_.stopping()) worker_.handle_commands();
          break;
        default:
          break;
      }
    }
    io_uring_cq_advance(&ring_, n);
    if (n < kCqeBatch) break;
  }
  after_batch();
}

void UringLoop::after_batch() {
  if (pending_adds_ > 0) {
    io_uring_buf_ring_advance(br_, pending_adds_);
    pending_adds_ = 0;
  }
  if (!cmd_armed_ && !worker_.stopping()) arm_command();
  for (SocketTag* tag : rearm_)
    if (!tag->pair->closed() && !tag->armed) arm_recv(tag);
  rearm_.clear();
  // Nothing of the ring points into these pairs any more: close their sockets, free ports.
  std::erase_if(closing_, [](const std::unique_ptr<MediaPair>& p) { return !p->busy(); });
}

void UringLoop::run() {
  std::int64_t next_scan = monotonic_ms() + worker_.config_.timeout_check_ms;
  while (!worker_.stopping()) {
    std::int64_t now = monotonic_ms();
    // The one syscall per batch: submits the sends (and re-arms) queued while handling the
    // last batch, and waits for the next completions.
    int r = submit_and_wait(next_scan > now ? next_scan - now : 0);
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN) {
      LOG_ERROR("media worker %d: io_uring_enter: errno %d", worker_.index(), -r);
      break;
    }
    now = monotonic_ms();
    process_completions(now);
    if (now >= next_scan) {
      worker_.scan_timeouts(now);
      next_scan = now + worker_.config_.timeout_check_ms;
    }
  }
  shutdown();
}

void UringLoop::shutdown() {
  while (!worker_.pairs_.empty()) worker_.remove_pair(worker_.pairs_.begin());
  std::int64_t deadline = monotonic_ms() + 2000;
  while (!closing_.empty() && monotonic_ms() < deadline) {
    submit_and_wait(100);
    process_completions(monotonic_ms());
  }
  if (!closing_.empty())
    LOG_WARN("media worker %d: %zu pairs still held by io_uring at exit", worker_.index(),
             closing_.size());
}

}  // namespace strowger::rtprelay::media
