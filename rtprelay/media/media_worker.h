// MediaWorker: one thread that owns a set of media pairs and their sockets and forwards their
// packets, with an io_uring loop (uring_loop.h) or an epoll + recvmmsg/sendmmsg loop. The
// control thread talks to it only through post().
#pragma once
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "rtprelay/media/media_pair.h"

namespace strowger::rtprelay::media {

struct WorkerCommand {
  enum class Kind { kCreate, kUpdate, kSetTimeout, kQuery, kClose, kStop };
  Kind kind = Kind::kStop;
  PairId id = 0;
  std::unique_ptr<MediaPair> pair;  // kCreate
  int side = 0;                     // kUpdate
  SideParams params;                // kUpdate
  std::int64_t timeout_ms = 0;      // kSetTimeout
  std::uint64_t request = 0;        // kQuery
};

// What a worker reports to the control thread.
struct WorkerEvent {
  enum class Kind { kStats, kTimeout, kCreateFailed };
  Kind kind = Kind::kStats;
  PairId id = 0;
  std::uint64_t request = 0;       // kStats: the query it answers
  std::optional<PairStats> stats;  // kStats (nullopt: no such pair), kTimeout
  int error = 0;                   // kCreateFailed: errno
};

// Many workers push, the control thread drains; the eventfd wakes it.
class WorkerEventQueue {
 public:
  WorkerEventQueue();
  ~WorkerEventQueue();
  int fd() const { return efd_; }
  void push(WorkerEvent ev);
  // Takes everything queued (clears the eventfd first so no wake-up is lost).
  std::vector<WorkerEvent> take();

 private:
  int efd_ = -1;
  std::mutex mu_;
  std::vector<WorkerEvent> events_;
};

struct WorkerConfig {
  LearningConfig learning;
  std::int64_t timeout_check_ms = 1000;  // how often idle pairs are looked for
  int batch = 64;                        // epoll: packets per recvmmsg/sendmmsg
  int max_batches_per_wake = 4;          // epoll: per readable socket, for fairness
  // kIoUring fails start() when the ring cannot be set up; kAuto falls back to epoll then.
  MediaBackend backend = MediaBackend::kEpoll;
  int uring_buffers = 2048;  // io_uring: receive buffers (power of two), packets in flight
  int batch_wait_us = 0;     // io_uring: see UringLoop; 0 = wake up for every completion
};

class UringLoop;

class MediaWorker {
 public:
  MediaWorker(int index, const WorkerConfig& config, WorkerEventQueue* events);
  ~MediaWorker();  // stops the thread; pairs still open are closed (their ports released)
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  // Creates the eventfd, starts the thread, and waits until its loop (ring or epoll, made on
  // the thread that uses it) is set up; false on failure (errno kept).
  bool start();
  void stop();
  // Thread-safe; never blocks on the worker.
  void post(WorkerCommand cmd);
  int index() const { return index_; }
  // The loop this worker runs, once started.
  MediaBackend backend() const { return backend_; }

 private:
  friend class UringLoop;
  bool setup_epoll();
  void run_epoll();
  bool stopping() const { return !running_; }
  void handle_commands();
  void handle_readable(SocketTag* tag, std::int64_t now_ms);
  void flush_sends(int n);
  void scan_timeouts(std::int64_t now_ms);
  bool add_pair(std::unique_ptr<MediaPair> pair);
  void remove_pair(std::unordered_map<PairId, std::unique_ptr<MediaPair>>::iterator it);

  int index_;
  WorkerConfig config_;
  WorkerEventQueue* events_;
  MediaBackend backend_ = MediaBackend::kEpoll;
  std::unique_ptr<UringLoop> uring_;  // set: the io_uring loop runs, epfd_ is unused
  int epfd_ = -1;
  int cmd_efd_ = -1;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex cmd_mu_;
  std::vector<WorkerCommand> commands_;
  std::vector<WorkerCommand> taken_;  // worker-side buffer, reused

  std::unordered_map<PairId, std::unique_ptr<MediaPair>> pairs_;
  std::vector<std::unique_ptr<MediaPair>> closed_;  // freed after the current epoll batch

  // epoll: packet buffers, allocated once in setup_epoll(): batch x kBufSize, plus the headers
  // for one recvmmsg and one sendmmsg batch.
  static constexpr std::size_t kBufSize = kMaxPacket;
  std::vector<std::uint8_t> buffers_;
  std::vector<mmsghdr> recv_msgs_;
  std::vector<iovec> recv_iov_;
  std::vector<Endpoint> sources_;
  std::vector<mmsghdr> send_msgs_;
  std::vector<iovec> send_iov_;
  std::vector<int> send_fd_;
  std::vector<PairSide*> send_side_;
};

}  // namespace strowger::rtprelay::media
