// MediaEngine implementation: worker placement, command posting, event delivery on libevent.
#include "rtprelay/media/media_engine.h"

#include <event2/event.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "rtprelay/media/media_worker.h"
#include "rtprelay/media/uring_loop.h"

namespace strowger::rtprelay::media {

common::Result<std::unique_ptr<MediaEngine>> MediaEngine::create(const EngineConfig& config,
                                                                 event_base* base) {
  if (config.workers < 1 || config.workers > 255)
    return common::Error{EINVAL, "media: workers must be 1..255"};
  std::unique_ptr<MediaEngine> e(new MediaEngine());
  e->events_ = std::make_unique<WorkerEventQueue>();
  if (e->events_->fd() < 0)
    return common::Error{errno, std::string("media: eventfd: ") + std::strerror(errno)};
  WorkerConfig wc;
  wc.learning.confirm_delay_ms = config.confirm_delay_ms;
  wc.timeout_check_ms = config.timeout_check_ms;
  wc.batch = config.batch;
  wc.backend = config.backend;
  wc.batch_wait_us = config.batch_wait_us;
  // Decided once for all workers, so that they all run the same loop.
  if (wc.backend == MediaBackend::kAuto)
    wc.backend = UringLoop::supported() ? MediaBackend::kIoUring : MediaBackend::kEpoll;
  for (int i = 0; i < config.workers; ++i) {
    auto w = std::make_unique<MediaWorker>(i, wc, e->events_.get());
    if (!w->start()) {
      if (config.backend == MediaBackend::kAuto && wc.backend == MediaBackend::kIoUring) {
        // The probe passed but this worker's ring did not come up (e.g. memlock limit): run
        // every worker on epoll rather than half on each.
        LOG_WARN("media: io_uring worker failed (%s), using epoll", std::strerror(errno));
        wc.backend = MediaBackend::kEpoll;
        e->workers_.clear();
        i = -1;
        continue;
      }
      return common::Error{errno, std::string("media: worker start (") +
                                      media_backend_name(wc.backend) +
                                      "): " + std::strerror(errno)};
    }
    e->workers_.push_back(std::move(w));
  }
  if (base != nullptr) {
    e->ev_ =
        event_new(base, e->events_->fd(), EV_READ | EV_PERSIST, &MediaEngine::on_event_fd, e.get());
    if (e->ev_ == nullptr || event_add(e->ev_, nullptr) != 0)
      return common::Error{ENOMEM, "media: cannot watch the event fd"};
  }
  return e;
}

MediaBackend MediaEngine::backend() const {
  return workers_.empty() ? MediaBackend::kAuto : workers_.front()->backend();
}

bool MediaEngine::io_uring_supported() {
  return UringLoop::supported();
}

MediaEngine::~MediaEngine() {
  if (ev_ != nullptr) event_free(ev_);
  workers_.clear();  // joins each thread, then closes its pairs
}

void MediaEngine::on_event_fd(int, short, void* arg) {
  static_cast<MediaEngine*>(arg)->drain();
}

int MediaEngine::event_fd() const {
  return events_->fd();
}

MediaWorker* MediaEngine::worker_for(PairId id) const {
  auto w = static_cast<std::size_t>(worker_of(id));
  if (id == 0 || w >= workers_.size()) return nullptr;
  return workers_[w].get();
}

PairId MediaEngine::create_pair(PortPair a, PortPair b, const SideParams& a_params,
                                const SideParams& b_params, const PairOptions& options) {
  if (!a.valid() || !b.valid()) return 0;
  std::uint64_t seq = next_seq_++;
  // Round robin: pairs are alike in load (one RTP stream each), so counts stay balanced.
  auto w = static_cast<std::size_t>(seq % workers_.size());
  PairId id = (seq << 8) | w;
  WorkerCommand cmd;
  cmd.kind = WorkerCommand::Kind::kCreate;
  cmd.id = id;
  cmd.pair = std::make_unique<MediaPair>(id, std::move(a), std::move(b), a_params, b_params,
                                         options, monotonic_ms());
  workers_[w]->post(std::move(cmd));
  return id;
}

void MediaEngine::update_side(PairId id, SideIndex side, const SideParams& params) {
  MediaWorker* w = worker_for(id);
  if (w == nullptr) return;
  WorkerCommand cmd;
  cmd.kind = WorkerCommand::Kind::kUpdate;
  cmd.id = id;
  cmd.side = static_cast<int>(side);
  cmd.params = params;
  w->post(std::move(cmd));
}

void MediaEngine::set_timeout(PairId id, std::int64_t timeout_ms) {
  MediaWorker* w = worker_for(id);
  if (w == nullptr) return;
  WorkerCommand cmd;
  cmd.kind = WorkerCommand::Kind::kSetTimeout;
  cmd.id = id;
  cmd.timeout_ms = timeout_ms;
  w->post(std::move(cmd));
}

void MediaEngine::query(PairId id, StatsCallback cb) {
  MediaWorker* w = worker_for(id);
  if (w == nullptr) {
    if (cb) cb(std::nullopt);
    return;
  }
  std::uint64_t req = next_request_++;
  pending_.emplace(req, std::move(cb));
  WorkerCommand cmd;
  cmd.kind = WorkerCommand::Kind::kQuery;
  cmd.id = id;
  cmd.request = req;
  w->post(std::move(cmd));
}

void MediaEngine::close(PairId id) {
  MediaWorker* w = worker_for(id);
  if (w == nullptr) return;
  WorkerCommand cmd;
  cmd.kind = WorkerCommand::Kind::kClose;
  cmd.id = id;
  w->post(std::move(cmd));
}

std::size_t MediaEngine::drain() {
  std::vector<WorkerEvent> evs = events_->take();
  for (WorkerEvent& ev : evs) {
    switch (ev.kind) {
      case WorkerEvent::Kind::kStats: {
        auto it = pending_.find(ev.request);
        if (it == pending_.end()) break;
        StatsCallback cb = std::move(it->second);
        pending_.erase(it);
        if (cb) cb(std::move(ev.stats));
        break;
      }
      case WorkerEvent::Kind::kTimeout:
        if (on_timeout_ && ev.stats) on_timeout_(ev.id, *ev.stats);
        break;
      case WorkerEvent::Kind::kCreateFailed:
        if (on_create_failed_) on_create_failed_(ev.id, ev.error);
        break;
    }
  }
  return evs.size();
}

}  // namespace strowger::rtprelay::media
