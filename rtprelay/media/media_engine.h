// MediaEngine: the call layer's single entry to the media path. It owns N MediaWorker threads,
// places each new media pair on one, and delivers replies and timeouts on the control thread.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "rtprelay/media/media_types.h"
#include "rtprelay/media/port_pool.h"

struct event_base;
struct event;

namespace strowger::rtprelay::media {

class MediaWorker;
class WorkerEventQueue;

struct EngineConfig {
  int workers = 2;
  // rtpengine endpoint-learning=delayed: the latch is fixed by the first packet arriving this
  // long after the last offer/answer; 0 = immediate (the first packet fixes it).
  std::int64_t confirm_delay_ms = 3000;
  std::int64_t timeout_check_ms = 1000;  // granularity of media timeouts
  int batch = 64;                        // packets per recvmmsg/sendmmsg (epoll backend)
  MediaBackend backend = MediaBackend::kAuto;
  // io_uring: gather completions for up to this long per wake-up (fewer wake-ups per packet,
  // at most this much added latency); 0 = off. Needs Linux 6.12+, ignored before.
  int batch_wait_us = 0;
};

// Not thread-safe: every call, and every callback, happens on the control thread.
class MediaEngine {
 public:
  using TimeoutHandler = std::function<void(PairId, const PairStats&)>;
  using StatsCallback = std::function<void(std::optional<PairStats>)>;
  using CreateFailedHandler = std::function<void(PairId, int error)>;

  // base: the control thread's libevent loop; replies and timeouts run on it. With nullptr,
  // the owner watches event_fd() itself and calls drain() when it is readable.
  static common::Result<std::unique_ptr<MediaEngine>> create(const EngineConfig& config,
                                                             event_base* base);
  // Stops the workers; pairs still open are closed and their ports go back to their pools
  // (so every PortPool must outlive the engine).
  ~MediaEngine();
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  // A pair with no packet for its timeout: reported once per idle period (again only after
  // new packets and a new idle period). The pair stays open; the call layer closes it.
  void set_timeout_handler(TimeoutHandler h) { on_timeout_ = std::move(h); }
  // A worker could not register the sockets (epoll_ctl failed); the pair is gone.
  void set_create_failed_handler(CreateFailedHandler h) { on_create_failed_ = std::move(h); }

  // Starts forwarding between a (side A) and b (side B), which come from PortPool::allocate
  // on any pools (IPv4 on one side and IPv6 on the other is fine). Params whose expected
  // addresses are unset (no answer yet) can be filled in later with update_side.
  PairId create_pair(PortPair a, PortPair b, const SideParams& a_params, const SideParams& b_params,
                     const PairOptions& options = {});
  // New SDP for one side (answer, re-INVITE, flags). A different address restarts learning.
  void update_side(PairId id, SideIndex side, const SideParams& params);
  // E.g. rtpengine's silent-timeout while a call is on hold; 0 disables.
  void set_timeout(PairId id, std::int64_t timeout_ms);
  // Counters snapshot; cb(nullopt) for an unknown or closed pair. cb runs on the control loop
  // (at once, inside query, for an id no worker could own, e.g. 0).
  void query(PairId id, StatsCallback cb);
  // Stops forwarding, closes the sockets, releases the ports (on the worker, right away).
  void close(PairId id);

  int event_fd() const;
  // Runs the callbacks for everything the workers reported; returns how many.
  std::size_t drain();

  int workers() const { return static_cast<int>(workers_.size()); }
  // The backend the workers run (never kAuto once created).
  MediaBackend backend() const;
  // Whether the io_uring backend works here (functional probe, run once per process).
  static bool io_uring_supported();
  static int worker_of(PairId id) { return static_cast<int>(id & 0xff); }

 private:
  MediaEngine() = default;
  MediaWorker* worker_for(PairId id) const;
  static void on_event_fd(int fd, short what, void* arg);

  std::unique_ptr<WorkerEventQueue> events_;
  std::vector<std::unique_ptr<MediaWorker>> workers_;
  event* ev_ = nullptr;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_request_ = 1;
  std::unordered_map<std::uint64_t, StatsCallback> pending_;
  TimeoutHandler on_timeout_;
  CreateFailedHandler on_create_failed_;
};

}  // namespace strowger::rtprelay::media
