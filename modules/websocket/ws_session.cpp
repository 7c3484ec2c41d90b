// A server-side WebSocket session: handshake, frame reading and reassembly, control frames,
// keepalive and timeouts. Runs on the connection's worker only: no locks.
#include "modules/websocket/ws_session.h"

#include <event2/buffer.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace strowger::modules::websocket {
namespace {

// A session keeps up to this much reassembly capacity between messages; a larger buffer (a
// rare big message) is released so that idle connections stay small.
constexpr std::size_t kKeptCapacity = 16 * 1024;

constexpr std::string_view kHeadEnd = "\r\n\r\n";

// RFC 6455 7.4: codes a peer may send in a close frame.
bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

Session::Session(std::shared_ptr<const WsConfig> config, std::shared_ptr<WsStats> stats,
                 const sipproxy::ConnectionInfo& conn, std::int64_t now_ms)
    : config_(std::move(config)),
      stats_(std::move(stats)),
      shard_(static_cast<std::size_t>(conn.id >> 56)),
      connection_id_(conn.id),
      remote_(conn.remote_ip + ":" + std::to_string(conn.remote_port)),
      accepted_ms_(now_ms),
      now_ms_(now_ms),
      last_input_ms_(now_ms),
      last_keepalive_ms_(now_ms) {
  stats_->add(shard_, Counter::kSessionsOpened);
}

Session::~Session() {
  stats_->add(shard_, Counter::kSessionsClosed);
}

bool Session::on_input(evbuffer* in, evbuffer* out, sipproxy::WsSink& sink) {
  if (state_ == State::kClosed) return false;
  if (evbuffer_get_length(in) > 0) input_seen_ = true;
  if (state_ == State::kHandshake) {
    if (!read_handshake(in, out)) return false;
    if (state_ == State::kHandshake) return true;  // the head is not complete yet
  }
  return read_frames(in, out, sink);
}

bool Session::read_handshake(evbuffer* in, evbuffer* out) {
  const std::size_t have = evbuffer_get_length(in);
  const std::size_t limit = config_->max_header_size;
  const std::size_t look = std::min(have, limit);
  const auto* data =
      reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ev_ssize_t>(look)));
  if (data == nullptr && look > 0) return reject(Reject::kMalformed, out, {});
  const std::string_view window(data, look);
  // Resume where the last search stopped (less the 3 bytes a split CRLFCRLF may have left).
  const std::size_t from = head_scanned_ > 3 ? head_scanned_ - 3 : 0;
  const std::size_t end = window.find(kHeadEnd, from);
  if (end == std::string_view::npos) {
    head_scanned_ = look;
    if (have >= limit) return reject(Reject::kTooLarge, out, {});
    return true;
  }
  const std::size_t head_size = end + kHeadEnd.size();
  HandshakeAnswer answer = answer_handshake(window.substr(0, head_size), config_->policy);
  evbuffer_drain(in, head_size);
  if (answer.status != 101) return reject(answer.reject, out, answer.origin);
  if (evbuffer_add(out, answer.response.data(), answer.response.size()) != 0) {
    state_ = State::kClosed;
    return false;
  }
  state_ = State::kOpen;
  stats_->add(shard_, Counter::kHandshakeOk);
  LOG_DEBUG("websocket: connection %llu open", static_cast<unsigned long long>(connection_id_));
  return true;
}

bool Session::reject(Reject why, evbuffer* out, std::string_view origin) {
  const std::string response = http_error_response(why);
  evbuffer_add(out, response.data(), response.size());
  state_ = State::kClosed;
  stats_->add(shard_, Counter::kHandshakeFailed);
  stats_->add_reject(shard_, why);
  std::uint64_t suppressed = 0;
  if (stats_->allow_log(shard_, now_ms_, config_->log_lines_per_second, &suppressed)) {
    // The address and Origin say who the user is: debug level only.
    if (suppressed > 0) {
      LOG_INFO("websocket: handshake rejected with %d (%s); %llu earlier rejections not logged",
               reject_status(why), reject_name(why), static_cast<unsigned long long>(suppressed));
    } else {
      LOG_INFO("websocket: handshake rejected with %d (%s)", reject_status(why), reject_name(why));
    }
    LOG_DEBUG("websocket: handshake from %s rejected (%s), Origin '%.*s'", remote_.c_str(),
              reject_name(why), static_cast<int>(std::min<std::size_t>(origin.size(), 200)),
              origin.data());
  }
  return false;
}

bool Session::read_frames(evbuffer* in, evbuffer* out, sipproxy::WsSink& sink) {
  for (;;) {
    if (!in_frame_) {
      std::uint8_t head[kMaxFrameHeader];
      const std::size_t have = evbuffer_get_length(in);
      if (have < 2) return true;
      const ev_ssize_t got = evbuffer_copyout(in, head, std::min(have, kMaxFrameHeader));
      if (got < 2) return true;
      FrameHeader h;
      const FrameParse parsed = parse_frame_header(head, static_cast<std::size_t>(got), &h);
      if (parsed == FrameParse::kNeedMore) return true;
      if (parsed == FrameParse::kInvalid || !h.masked)  // client frames MUST be masked (5.1)
        return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
      if (is_control(h.opcode)) {
        // Whole control frames only (<= 139 bytes); they may come between fragments.
        if (have < h.header_length + h.payload_length) return true;
        std::uint8_t payload[kMaxControlPayload];
        evbuffer_drain(in, h.header_length);
        const std::size_t n = static_cast<std::size_t>(h.payload_length);
        if (n > 0 && evbuffer_remove(in, payload, n) != static_cast<ev_ssize_t>(n))
          return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
        unmask(payload, n, h.mask, 0);
        stats_->add(shard_, Counter::kFramesIn);
        if (!on_control(h, payload, out)) return false;
        continue;
      }
      const bool continuation = h.opcode == Opcode::kContinuation;
      if (continuation != in_message_)  // a lone continuation, or a new message mid-message
        return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
      // Checked on the header, before any of the payload is buffered.
      if (h.payload_length > config_->max_message_size - message_.size())
        return fail(kCloseTooBig, Counter::kCloseTooBig, out);
      evbuffer_drain(in, h.header_length);
      stats_->add(shard_, Counter::kFramesIn);
      in_frame_ = true;
      in_message_ = true;
      frame_fin_ = h.fin;
      frame_remaining_ = h.payload_length;
      frame_mask_offset_ = 0;
      std::memcpy(frame_mask_, h.mask, 4);
    }
    const std::size_t have = evbuffer_get_length(in);
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(have, frame_remaining_));
    if (take > 0) {
      const std::size_t old = message_.size();
      message_.resize(old + take);
      auto* dst = reinterpret_cast<std::uint8_t*>(message_.data()) + old;
      if (evbuffer_remove(in, dst, take) != static_cast<ev_ssize_t>(take))
        return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
      unmask(dst, take, frame_mask_, frame_mask_offset_);
      frame_mask_offset_ += take;
      frame_remaining_ -= take;
    }
    if (frame_remaining_ > 0) return true;
    in_frame_ = false;
    if (!frame_fin_) continue;
    in_message_ = false;
    // Text or binary, a message is one SIP message (RFC 7118 5.1); the SIP parser judges its
    // bytes, so invalid UTF-8 in a text frame is not a WebSocket error here.
    bool alive = true;
    if (!message_.empty()) {
      stats_->add(shard_, Counter::kMessagesIn);
      alive = sink.on_message(message_);
    }
    message_.clear();
    if (message_.capacity() > kKeptCapacity) std::string().swap(message_);
    if (!alive) {
      stats_->add(shard_, Counter::kCloseConnectionGone);
      state_ = State::kClosed;
      return false;
    }
  }
}

bool Session::on_control(const FrameHeader& h, std::uint8_t* payload, evbuffer* out) {
  const std::size_t n = static_cast<std::size_t>(h.payload_length);
  switch (h.opcode) {
    case Opcode::kPing:
      stats_->add(shard_, Counter::kPingsIn);
      stats_->add(shard_, Counter::kPongsOut);
      return write_frame(Opcode::kPong, payload, n, out);
    case Opcode::kPong:
      stats_->add(shard_, Counter::kPongsIn);
      return true;
    case Opcode::kClose: {
      if (n == 1) return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
      if (n >= 2) {
        const std::uint16_t code = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
        if (!valid_close_code(code))
          return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
      }
      // Echo the status code (RFC 6455 5.5.1), then the core closes once it is flushed.
      write_frame(Opcode::kClose, payload, n >= 2 ? 2 : 0, out);
      stats_->add(shard_, Counter::kClosePeer);
      state_ = State::kClosed;
      return false;
    }
    default:
      return fail(kCloseProtocolError, Counter::kCloseProtocolError, out);
  }
}

bool Session::fail(std::uint16_t code, Counter why, evbuffer* out) {
  const std::uint8_t payload[2] = {static_cast<std::uint8_t>(code >> 8),
                                   static_cast<std::uint8_t>(code)};
  write_frame(Opcode::kClose, payload, sizeof payload, out);
  stats_->add(shard_, why);
  LOG_DEBUG("websocket: closing connection %llu with %u (%s)",
            static_cast<unsigned long long>(connection_id_), code, counter_name(why));
  state_ = State::kClosed;
  return false;
}

bool Session::write_frame(Opcode op, const void* payload, std::size_t size, evbuffer* out) {
  std::uint8_t head[kMaxFrameHeader];
  const std::size_t n = write_frame_header(op, size, head);
  if (evbuffer_add(out, head, n) != 0) return false;
  if (size > 0 && evbuffer_add(out, payload, size) != 0) return false;
  stats_->add(shard_, Counter::kFramesOut);
  return true;
}

bool Session::send(std::string_view message, evbuffer* out) {
  if (state_ != State::kOpen) return false;
  // Text for UTF-8 (what a SIP message nearly always is), binary otherwise (RFC 7118 5.1): a
  // browser closes a connection on a text frame with invalid UTF-8.
  const Opcode op = is_valid_utf8(message) ? Opcode::kText : Opcode::kBinary;
  if (!write_frame(op, message.data(), message.size(), out)) return false;
  stats_->add(shard_, Counter::kMessagesOut);
  return true;
}

bool Session::on_tick(std::int64_t now_ms, evbuffer* out) {
  now_ms_ = now_ms;
  if (state_ == State::kClosed) return false;
  if (state_ == State::kHandshake) {
    if (now_ms - accepted_ms_ < config_->handshake_timeout_ms) return true;
    return reject(Reject::kTimeout, out, {});
  }
  if (input_seen_) {
    input_seen_ = false;
    last_input_ms_ = now_ms;
    awaiting_pong_ = false;
  }
  if (config_->keepalive == Keepalive::kNone) return true;
  if (awaiting_pong_) {
    if (now_ms - ping_sent_ms_ < config_->keepalive_timeout_ms) return true;
    return fail(kCloseGoingAway, Counter::kCloseKeepaliveTimeout, out);
  }
  if (now_ms - std::max(last_input_ms_, last_keepalive_ms_) < config_->keepalive_interval_ms)
    return true;
  last_keepalive_ms_ = now_ms;
  if (config_->keepalive == Keepalive::kPing) {
    awaiting_pong_ = true;
    ping_sent_ms_ = now_ms;
    stats_->add(shard_, Counter::kPingsOut);
    return write_frame(Opcode::kPing, nullptr, 0, out);
  }
  // An unsolicited pong (RFC 6455 5.5.3) keeps NAT bindings open and expects no answer.
  stats_->add(shard_, Counter::kPongsOut);
  return write_frame(Opcode::kPong, nullptr, 0, out);
}

Service::Service(WsConfig config, std::size_t workers)
    : config_(std::make_shared<const WsConfig>(std::move(config))),
      stats_(std::make_shared<WsStats>(workers)) {}

std::unique_ptr<sipproxy::WsSession> Service::accept(const sipproxy::ConnectionInfo& conn,
                                                     std::int64_t now_ms) {
  return std::make_unique<Session>(config_, stats_, conn, now_ms);
}

}  // namespace strowger::modules::websocket
