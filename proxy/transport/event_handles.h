// RAII owners for the libevent objects and sockets the transports hold.
#pragma once
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <unistd.h>

#include <memory>
#include <utility>

namespace strowger::proxy::transport {

struct EventFree {
  void operator()(event* e) const { event_free(e); }
};
using EventPtr = std::unique_ptr<event, EventFree>;

struct BufferEventFree {
  void operator()(bufferevent* b) const { bufferevent_free(b); }
};
using BufferEventPtr = std::unique_ptr<bufferevent, BufferEventFree>;

struct ListenerFree {
  void operator()(evconnlistener* l) const { evconnlistener_free(l); }
};
using ListenerPtr = std::unique_ptr<evconnlistener, ListenerFree>;

// A socket descriptor closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership (e.g. to a bufferevent that closes it on free).
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace strowger::proxy::transport
