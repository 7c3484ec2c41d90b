// MediaWorker implementation: start-up and backend choice, commands, timeouts, and the epoll
// loop (batched recvmmsg/sendmmsg); the io_uring loop is in uring_loop.cpp.
#include "rtprelay/media/media_worker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <future>

#include "common/log.h"
#include "rtprelay/media/uring_loop.h"

namespace strowger::rtprelay::media {

WorkerEventQueue::WorkerEventQueue() {
  efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

WorkerEventQueue::~WorkerEventQueue() {
  if (efd_ >= 0) ::close(efd_);
}

void WorkerEventQueue::push(WorkerEvent ev) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(ev));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof(one));
}

std::vector<WorkerEvent> WorkerEventQueue::take() {
  std::uint64_t v;
  [[maybe_unused]] ssize_t r = ::read(efd_, &v, sizeof(v));
  std::vector<WorkerEvent> out;
  std::lock_guard lock(mu_);
  out.swap(events_);
  return out;
}

MediaWorker::MediaWorker(int index, const WorkerConfig& config, WorkerEventQueue* events)
    : index_(index), config_(config), events_(events) {
  if (config_.batch < 1) config_.batch = 1;
  if (config_.batch > 1024) config_.batch = 1024;
  if (config_.max_batches_per_wake < 1) config_.max_batches_per_wake = 1;
  if (config_.timeout_check_ms < 1) config_.timeout_check_ms = 1;
}

MediaWorker::~MediaWorker() {
  stop();
  pairs_.clear();  // the io_uring loop has closed its own pairs before its thread ended
  uring_.reset();
  closed_.clear();
  if (epfd_ >= 0) ::close(epfd_);
  if (cmd_efd_ >= 0) ::close(cmd_efd_);
}

bool MediaWorker::start() {
  cmd_efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (cmd_efd_ < 0) return false;
  // 0 or the errno of the failed set-up; shared so that the thread may still be inside
  // set_value when start() returns.
  auto ready = std::make_shared<std::promise<int>>();
  std::future<int> result = ready->get_future();
  running_ = true;
  thread_ = std::thread([this, ready] {
    bool ok = false;
    if (config_.backend != MediaBackend::kEpoll) {
      // Made on this thread: the ring is single-issuer (IORING_SETUP_SINGLE_ISSUER).
      auto loop = std::make_unique<UringLoop>(*this, config_.uring_buffers, config_.batch_wait_us);
      if (loop->setup(cmd_efd_)) {
        uring_ = std::move(loop);
        backend_ = MediaBackend::kIoUring;
        ok = true;
      } else if (config_.backend == MediaBackend::kIoUring) {
        ready->set_value(errno ? errno : EINVAL);
        return;
      } else {
        LOG_WARN("media worker %d: io_uring set-up failed (errno %d), using epoll", index_, errno);
      }
    }
    if (!ok) {
      if (!setup_epoll()) {
        ready->set_value(errno ? errno : EINVAL);
        return;
      }
      backend_ = MediaBackend::kEpoll;
    }
    ready->set_value(0);
    if (uring_)
      uring_->run();
    else
      run_epoll();
  });
  int err = result.get();
  if (err != 0) {
    thread_.join();
    running_ = false;
    errno = err;
    return false;
  }
  return true;
}

bool MediaWorker::setup_epoll() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the command eventfd
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, cmd_efd_, &ev) != 0) return false;

  auto n = static_cast<std::size_t>(config_.batch);
  buffers_.assign(n * kBufSize, 0);
  recv_msgs_.assign(n, mmsghdr{});
  recv_iov_.assign(n, iovec{});
  sources_.assign(n, Endpoint());
  send_msgs_.assign(n, mmsghdr{});
  send_iov_.assign(n, iovec{});
  send_fd_.assign(n, -1);
  send_side_.assign(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    recv_iov_[i] = iovec{&buffers_[i * kBufSize], kBufSize};
    recv_msgs_[i].msg_hdr.msg_iov = &recv_iov_[i];
    recv_msgs_[i].msg_hdr.msg_iovlen = 1;
    recv_msgs_[i].msg_hdr.msg_name = sources_[i].sa();
    send_msgs_[i].msg_hdr.msg_iov = &send_iov_[i];
    send_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  return true;
}

void MediaWorker::stop() {
  if (!thread_.joinable()) return;
  WorkerCommand cmd;
  cmd.kind = WorkerCommand::Kind::kStop;
  post(std::move(cmd));
  thread_.join();
}

void MediaWorker::post(WorkerCommand cmd) {
  {
    std::lock_guard lock(cmd_mu_);
    commands_.push_back(std::move(cmd));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(cmd_efd_, &one, sizeof(one));
}

void MediaWorker::run_epoll() {
  constexpr int kMaxEvents = 256;
  epoll_event evs[kMaxEvents];
  std::int64_t next_scan = monotonic_ms() + config_.timeout_check_ms;
  while (running_) {
    std::int64_t now = monotonic_ms();
    int wait_ms = static_cast<int>(next_scan > now ? next_scan - now : 0);
    int n = epoll_wait(epfd_, evs, kMaxEvents, wait_ms);
    if (n < 0 && errno != EINTR) {
      LOG_ERROR("media worker %d: epoll_wait: errno %d", index_, errno);
      break;
    }
    now = monotonic_ms();
    // Commands first, so an update posted before a packet arrived applies to that packet.
    for (int i = 0; i < n; ++i)
      if (evs[i].data.ptr == nullptr) handle_commands();
    for (int i = 0; i < n; ++i) {
      auto* tag = static_cast<SocketTag*>(evs[i].data.ptr);
      if (tag != nullptr && !tag->pair->closed()) handle_readable(tag, now);
    }
    closed_.clear();  // pairs closed above: their tags may still have been in evs
    if (now >= next_scan) {
      scan_timeouts(now);
      next_scan = now + config_.timeout_check_ms;
    }
  }
}

void MediaWorker::handle_readable(SocketTag* tag, std::int64_t now_ms) {
  MediaPair* pair = tag->pair;
  for (int round = 0; round < config_.max_batches_per_wake; ++round) {
    for (int i = 0; i < config_.batch; ++i) {
      recv_msgs_[i].msg_hdr.msg_namelen = Endpoint::capacity();
      recv_msgs_[i].msg_hdr.msg_flags = 0;
    }
    int got = recvmmsg(tag->fd, recv_msgs_.data(), config_.batch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;
    int out = 0;
    for (int i = 0; i < got; ++i) {
      const msghdr& h = recv_msgs_[i].msg_hdr;
      std::size_t len = recv_msgs_[i].msg_len;
      if (h.msg_flags & MSG_TRUNC) {
        ++pair->side(tag->side).counters.dropped_bad;
        continue;
      }
      sources_[i].set_len(h.msg_namelen);
      Route route;
      if (!pair->on_packet(tag->side, tag->component, &buffers_[i * kBufSize], len, sources_[i],
                           now_ms, config_.learning, &route))
        continue;
      send_iov_[out] = iovec{&buffers_[i * kBufSize], len};
      msghdr& sh = send_msgs_[out].msg_hdr;
      sh.msg_name = const_cast<sockaddr*>(route.dest->sa());
      sh.msg_namelen = route.dest->len();
      send_fd_[out] = route.fd;
      send_side_[out] = route.out;
      ++out;
    }
    if (out > 0) flush_sends(out);
    if (got < config_.batch) return;
  }
}

void MediaWorker::flush_sends(int n) {
  int start = 0;
  while (start < n) {
    // One sendmmsg per run of packets leaving through the same socket (RTP vs muxed RTCP).
    int end = start + 1;
    while (end < n && send_fd_[end] == send_fd_[start]) ++end;
    int at = start;
    while (at < end) {
      int want = end - at;
      int sent = sendmmsg(send_fd_[start], &send_msgs_[at], want, MSG_DONTWAIT);
      if (sent < 0 && errno == EINTR) continue;
      int ok = sent > 0 ? sent : 0;
      for (int i = at; i < at + ok; ++i) {
        ++send_side_[i]->counters.sent_packets;
        send_side_[i]->counters.sent_bytes += send_iov_[i].iov_len;
      }
      at += ok;
      if (ok < want) {
        // sendmmsg stops at the packet that failed (buffer full, unreachable): count, skip it.
        ++send_side_[at]->counters.send_failures;
        ++send_side_[at]->counters.errors;
        ++at;
      }
    }
    start = end;
  }
}

void MediaWorker::handle_commands() {
  std::uint64_t v;
  [[maybe_unused]] ssize_t r = ::read(cmd_efd_, &v, sizeof(v));
  {
    std::lock_guard lock(cmd_mu_);
    taken_.swap(commands_);
  }
  std::int64_t now = monotonic_ms();
  for (WorkerCommand& cmd : taken_) {
    switch (cmd.kind) {
      case WorkerCommand::Kind::kCreate: {
        PairId id = cmd.pair ? cmd.pair->id() : cmd.id;
        if (!cmd.pair || !add_pair(std::move(cmd.pair))) {
          WorkerEvent ev;
          ev.kind = WorkerEvent::Kind::kCreateFailed;
          ev.id = id;
          ev.error = errno ? errno : EINVAL;
          events_->push(std::move(ev));
        }
        break;
      }
      case WorkerCommand::Kind::kUpdate: {
        auto it = pairs_.find(cmd.id);
        if (it != pairs_.end() && (cmd.side == 0 || cmd.side == 1))
          it->second->update(cmd.side, cmd.params, now);
        break;
      }
      case WorkerCommand::Kind::kSetTimeout: {
        auto it = pairs_.find(cmd.id);
        if (it != pairs_.end()) it->second->set_timeout(cmd.timeout_ms);
        break;
      }
      case WorkerCommand::Kind::kQuery: {
        WorkerEvent ev;
        ev.kind = WorkerEvent::Kind::kStats;
        ev.id = cmd.id;
        ev.request = cmd.request;
        auto it = pairs_.find(cmd.id);
        if (it != pairs_.end()) ev.stats = it->second->stats();
        events_->push(std::move(ev));
        break;
      }
      case WorkerCommand::Kind::kClose: {
        auto it = pairs_.find(cmd.id);
        if (it != pairs_.end()) remove_pair(it);
        break;
      }
      case WorkerCommand::Kind::kStop:
        running_ = false;
        break;
    }
  }
  taken_.clear();
}

bool MediaWorker::add_pair(std::unique_ptr<MediaPair> pair) {
  MediaPair* p = pair.get();
  if (uring_) {
    if (!uring_->add_pair(p)) return false;
    pairs_.emplace(p->id(), std::move(pair));
    return true;
  }
  for (int s = 0; s < 2; ++s) {
    for (int c = 0; c < 2; ++c) {
      SocketTag& tag = p->side(s).tags[c];
      if (tag.fd < 0) continue;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &tag;
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, tag.fd, &ev) != 0) {
        int err = errno;
        for (int s2 = 0; s2 < 2; ++s2)  // ENOENT for those not added yet is harmless
          for (int c2 = 0; c2 < 2; ++c2)
            epoll_ctl(epfd_, EPOLL_CTL_DEL, p->side(s2).tags[c2].fd, nullptr);
        errno = err;
        return false;
      }
    }
  }
  pairs_.emplace(p->id(), std::move(pair));
  return true;
}

void MediaWorker::remove_pair(std::unordered_map<PairId, std::unique_ptr<MediaPair>>::iterator it) {
  MediaPair* p = it->second.get();
  p->mark_closed();
  if (uring_) {
    uring_->close_pair(std::move(it->second));  // freed once its receives are cancelled
    pairs_.erase(it);
    return;
  }
  for (int s = 0; s < 2; ++s)
    for (int c = 0; c < 2; ++c)
      if (p->side(s).tags[c].fd >= 0)
        epoll_ctl(epfd_, EPOLL_CTL_DEL, p->side(s).tags[c].fd, nullptr);
  closed_.push_back(std::move(it->second));  // sockets close and ports return at loop end
  pairs_.erase(it);
}

void MediaWorker::scan_timeouts(std::int64_t now_ms) {
  for (auto& [id, pair] : pairs_) {
    if (!pair->timed_out(now_ms)) continue;
    pair->mark_timeout_reported();
    WorkerEvent ev;
    ev.kind = WorkerEvent::Kind::kTimeout;
    ev.id = id;
    ev.stats = pair->stats();
    events_->push(std::move(ev));
  }
}

}  // namespace strowger::rtprelay::media
