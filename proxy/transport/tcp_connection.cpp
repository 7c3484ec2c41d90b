// TcpConnection: reads and frames a SIP stream, answers keep-alives, enforces timeouts and bounds.
#include "proxy/transport/tcp_connection.h"

#include <event2/buffer.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "common/log.h"
#include "proxy/transport/tcp.h"

namespace strowger::proxy::transport {
namespace {

// Reading more per call than the default 4 KiB saves loop iterations on busy trunks.
constexpr std::size_t kMaxSingleRead = 64 * 1024;
// Leading CRLFs beyond the maximum message size that one framing pass may look at.
constexpr std::size_t kSkipSlack = 1024;
constexpr char kPing[] = "\r\n\r\n";

}  // namespace

std::int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

TcpConnection::TcpConnection(TcpTransport& owner, BufferEventPtr bev, const Peer& peer,
                             bool connecting, bool counts_for_source)
    : owner_(owner),
      bev_(std::move(bev)),
      peer_(peer),
      state_(connecting ? State::kConnecting : State::kOpen),
      counts_for_source_(counts_for_source),
      last_activity_ms_(monotonic_ms()) {}

TcpConnection::~TcpConnection() = default;

bool TcpConnection::start() {
  timer_.reset(evtimer_new(owner_.base(), &TcpConnection::on_timer_cb, this));
  if (!timer_) return false;
  bufferevent_setcb(bev_.get(), &TcpConnection::on_read_cb, &TcpConnection::on_write_cb,
                    &TcpConnection::on_event_cb, this);
  bufferevent_set_max_single_read(bev_.get(), kMaxSingleRead);
  if (bufferevent_enable(bev_.get(), EV_READ | EV_WRITE) != 0) return false;
  if (state_ == State::kConnecting) {
    arm_timer(owner_.limits().connect_timeout_ms);
  } else if (const std::int64_t ms = open_timer_ms(); ms >= 0) {
    arm_timer(ms);
  }
  return true;
}

std::int64_t TcpConnection::open_timer_ms() const {
  const std::int64_t idle_ms = std::int64_t{owner_.limits().idle_timeout_s} * 1000;
  std::int64_t ms = -1;
  if (idle_ms > 0) ms = std::max<std::int64_t>(0, idle_ms - (monotonic_ms() - last_activity_ms_));
  if (ws_ && owner_.services().ws != nullptr) {
    const std::int64_t tick = owner_.services().ws->tick_ms();
    if (tick > 0 && (ms < 0 || tick < ms)) ms = tick;
  }
  return ms;
}

void TcpConnection::arm_timer(std::int64_t ms) {
  if (ms < 0) ms = 0;
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  evtimer_add(timer_.get(), &tv);
}

std::size_t TcpConnection::output_length() const {
  return evbuffer_get_length(bufferevent_get_output(bev_.get()));
}

bool TcpConnection::write(std::string_view bytes) {
  if (!writable()) return false;
  if (output_length() + bytes.size() > TcpTransport::kMaxOutputBytes) {
    ++owner_.mutable_counters().overflows;
    LOG_NOTICE("tcp connection to %s: more than %zu bytes unsent, closing",
               peer_.remote.to_string().c_str(), TcpTransport::kMaxOutputBytes);
    close("output overflow");
    return false;
  }
  if (ws_) {
    if (!ws_->send(bytes, bufferevent_get_output(bev_.get()))) return false;
  } else if (bufferevent_write(bev_.get(), bytes.data(), bytes.size()) != 0) {
    close("out of memory");
    return false;
  }
  last_activity_ms_ = monotonic_ms();
  return true;
}

void TcpConnection::close_after_flush() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  const bool connecting = state_ == State::kConnecting;
  state_ = State::kClosing;
  bufferevent_disable(bev_.get(), EV_READ);
  if (output_length() == 0) {
    close("closed");
    return;
  }
  arm_timer(TcpTransport::kFlushTimeoutMs + (connecting ? owner_.limits().connect_timeout_ms : 0));
}

void TcpConnection::close(const char* reason) {
  if (state_ == State::kClosed) return;
  LOG_DEBUG("tcp connection %llx with %s closed: %s", static_cast<unsigned long long>(id()),
            peer_.remote.to_string().c_str(), reason);
  state_ = State::kClosed;
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  if (timer_) evtimer_del(timer_.get());
  owner_.connection_closed(*this);
}

void TcpConnection::on_read_cb(bufferevent*, void* arg) {
  static_cast<TcpConnection*>(arg)->on_read();
}
void TcpConnection::on_write_cb(bufferevent*, void* arg) {
  static_cast<TcpConnection*>(arg)->on_write();
}
void TcpConnection::on_event_cb(bufferevent*, short what, void* arg) {
  static_cast<TcpConnection*>(arg)->on_event(what);
}
void TcpConnection::on_timer_cb(evutil_socket_t, short, void* arg) {
  static_cast<TcpConnection*>(arg)->on_timer();
}

void TcpConnection::on_read() {
  last_activity_ms_ = monotonic_ms();
  if (ws_) {
    on_read_websocket();
  } else {
    on_read_sip();
  }
}

void TcpConnection::on_read_websocket() {
  if (state_ != State::kOpen) return;
  if (!ws_->on_input(bufferevent_get_input(bev_.get()), bufferevent_get_output(bev_.get()), *this)) {
    close_after_flush();
  }
}

bool TcpConnection::on_message(std::string_view message) {
  ++owner_.mutable_counters().messages;
  owner_.receiver().on_message(message, peer_);
  return state_ == State::kOpen;
}

void TcpConnection::on_read_sip() {
  evbuffer* in = bufferevent_get_input(bev_.get());
  const sip::StreamFramer& framer = owner_.framer();
  const std::size_t max = framer.max_message_size();
  const std::size_t window = max + kSkipSlack;
  while (state_ == State::kOpen) {
    const std::size_t buffered = evbuffer_get_length(in);
    if (buffered == 0) return;
    const std::size_t view_len = std::min(buffered, window);
    const auto* data = reinterpret_cast<const char*>(evbuffer_pullup(in, view_len));
    if (data == nullptr) {
      close("out of memory");
      return;
    }
    const std::string_view view(data, view_len);
    const sip::Frame f = framer.next(view);
    if (f.skip > view_len ||
        (f.kind == sip::Frame::Kind::kMessage && (f.length == 0 || f.length > view_len - f.skip))) {
      LOG_ERROR("tcp framer returned an impossible frame (skip %zu, length %zu of %zu)", f.skip,
                f.length, view_len);
      close("framing bug");
      return;
    }
    if (f.skip > 0) {
      note_skipped(view.substr(0, f.skip));
      if (state_ != State::kOpen) return;
    }
    switch (f.kind) {
      case sip::Frame::Kind::kNeedMore:
        evbuffer_drain(in, f.skip);
        // The framer saw more than a whole message may hold and still wants more.
        if (view_len - f.skip > max) {
          framing_error(513, {});
          return;
        }
        if (f.skip > 0 && buffered > view_len) continue;  // bytes beyond the window to look at
        return;
      case sip::Frame::Kind::kMessage: {
        keepalive_matched_ = 0;
        ++owner_.mutable_counters().messages;
        owner_.receiver().on_message(view.substr(f.skip, f.length), peer_);
        if (state_ == State::kClosed) return;  // the view is dead: nothing more to read
        evbuffer_drain(in, f.skip + f.length);
        continue;
      }
      case sip::Frame::Kind::kError: {
        std::string_view head;
        if (f.head_length > 0 && f.head_length <= view_len - f.skip) {
          head = view.substr(f.skip, f.head_length);
        }
        framing_error(f.error_status, head);
        return;
      }
    }
  }
}

void TcpConnection::note_skipped(std::string_view crlfs) {
  for (char c : crlfs) {
    if (c == kPing[keepalive_matched_]) {
      if (++keepalive_matched_ == 4) {
        keepalive_matched_ = 0;
        // RFC 5626 4.4.1: a double-CRLF ping is answered with a single CRLF pong.
        ++owner_.mutable_counters().keepalive_pongs;
        if (!write("\r\n")) return;
      }
    } else {
      keepalive_matched_ = c == '\r' ? 1 : 0;
    }
  }
}

void TcpConnection::framing_error(int status, std::string_view head) {
  ++owner_.mutable_counters().framing_errors;
  LOG_DEBUG("tcp connection %llx with %s: unframeable stream (%d), closing",
            static_cast<unsigned long long>(id()), peer_.remote.to_string().c_str(), status);
  // The receiver may answer on this connection now; the answer is flushed before closing.
  owner_.receiver().on_framing_error(head, peer_, status);
  if (state_ == State::kClosed) return;
  evbuffer* in = bufferevent_get_input(bev_.get());
  evbuffer_drain(in, evbuffer_get_length(in));
  close_after_flush();
}

void TcpConnection::on_write() {
  last_activity_ms_ = monotonic_ms();
  if (state_ == State::kClosing && output_length() == 0) close("closed after flush");
}

void TcpConnection::on_event(short what) {
  if ((what & BEV_EVENT_CONNECTED) != 0) {
    if (state_ == State::kConnecting) {
      state_ = State::kOpen;
      last_activity_ms_ = monotonic_ms();
      evtimer_del(timer_.get());
      if (const std::int64_t ms = open_timer_ms(); ms >= 0) arm_timer(ms);
    }
    return;
  }
  if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_ERROR) == 0) {
    // The peer will send no more; whatever we still owe it goes out first.
    if (state_ == State::kConnecting || output_length() == 0) {
      close("closed by peer");
    } else if (state_ == State::kOpen) {
      state_ = State::kClosing;
      bufferevent_disable(bev_.get(), EV_READ);
      arm_timer(TcpTransport::kFlushTimeoutMs);
    }
    return;
  }
  const int err = EVUTIL_SOCKET_ERROR();
  if (state_ == State::kConnecting) {
    LOG_DEBUG("%s connect to %s failed: %s", std::string(protocol_name(peer_.proto)).c_str(),
              peer_.remote.to_string().c_str(), tls_error(err).c_str());
    close("connect failed");
  } else if (owner_.services().tls != nullptr) {
    LOG_DEBUG("%s connection with %s failed: %s", std::string(protocol_name(peer_.proto)).c_str(),
              peer_.remote.to_string().c_str(), tls_error(err).c_str());
    close("tls error");
  } else {
    close((what & BEV_EVENT_TIMEOUT) != 0 ? "timeout" : std::strerror(err));
  }
}

std::string TcpConnection::tls_error(int err) const {
  if (owner_.services().tls != nullptr) {
    std::string why = owner_.services().tls->last_error(bev_.get());
    if (!why.empty()) return why;
  }
  return err != 0 ? std::strerror(err) : "closed";
}

void TcpConnection::on_timer() {
  switch (state_) {
    case State::kConnecting:
      close("connect timeout");
      return;
    case State::kClosing:
      close("flush timeout");
      return;
    case State::kClosed:
      return;
    case State::kOpen: {
      const std::int64_t now = monotonic_ms();
      if (ws_ && !ws_->on_tick(now, bufferevent_get_output(bev_.get()))) {
        close_after_flush();
        return;
      }
      const std::int64_t idle_ms = std::int64_t{owner_.limits().idle_timeout_s} * 1000;
      if (idle_ms > 0 && now - last_activity_ms_ >= idle_ms) {
        close("idle");
        return;
      }
      if (const std::int64_t ms = open_timer_ms(); ms >= 0) arm_timer(ms);
      return;
    }
  }
}

}  // namespace strowger::proxy::transport
