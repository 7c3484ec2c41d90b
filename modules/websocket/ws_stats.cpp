// WebSocket counters: names, the sum over shards, the log rate limit.
#include "modules/websocket/ws_stats.h"

namespace strowger::modules::websocket {

const char* counter_name(Counter c) {
  switch (c) {
    case Counter::kSessionsOpened:
      return "sessions_opened";
    case Counter::kSessionsClosed:
      return "sessions_closed";
    case Counter::kHandshakeOk:
      return "handshakes_ok";
    case Counter::kHandshakeFailed:
      return "handshakes_failed";
    case Counter::kFramesIn:
      return "frames_in";
    case Counter::kFramesOut:
      return "frames_out";
    case Counter::kMessagesIn:
      return "messages_in";
    case Counter::kMessagesOut:
      return "messages_out";
    case Counter::kPingsIn:
      return "pings_in";
    case Counter::kPingsOut:
      return "pings_out";
    case Counter::kPongsIn:
      return "pongs_in";
    case Counter::kPongsOut:
      return "pongs_out";
    case Counter::kClosePeer:
      return "peer_close";
    case Counter::kCloseProtocolError:
      return "protocol_error";
    case Counter::kCloseTooBig:
      return "message_too_big";
    case Counter::kCloseKeepaliveTimeout:
      return "keepalive_timeout";
    case Counter::kCloseConnectionGone:
      return "connection_gone";
    case Counter::kLogsSuppressed:
      return "logs_suppressed";
    case Counter::kCount:
      break;
  }
  return "unknown";
}

WsStats::WsStats(std::size_t shards)
    : count_(shards == 0 ? 1 : shards), shards_(std::make_unique<Shard[]>(count_)) {}

bool WsStats::allow_log(std::size_t shard, std::int64_t now_ms, int per_second,
                        std::uint64_t* suppressed) {
  Shard& s = at(shard);
  if (now_ms - s.log_window_start.load(std::memory_order_relaxed) >= 1000) {
    s.log_window_start.store(now_ms, std::memory_order_relaxed);
    s.log_lines.store(0, std::memory_order_relaxed);
  }
  if (s.log_lines.fetch_add(1, std::memory_order_relaxed) >= per_second) {
    s.log_suppressed.fetch_add(1, std::memory_order_relaxed);
    s.counters[static_cast<std::size_t>(Counter::kLogsSuppressed)].fetch_add(
        1, std::memory_order_relaxed);
    return false;
  }
  *suppressed = s.log_suppressed.exchange(0, std::memory_order_relaxed);
  return true;
}

StatsSnapshot WsStats::sum() const {
  StatsSnapshot out;
  for (std::size_t i = 0; i < count_; ++i) {
    for (std::size_t c = 0; c < kCounterCount; ++c)
      out.counters[c] += shards_[i].counters[c].load(std::memory_order_relaxed);
    for (std::size_t r = 0; r < kRejectCount; ++r)
      out.rejects[r] += shards_[i].rejects[r].load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace strowger::modules::websocket
