// CallTable: call lookup by call-id and tags, the offer/answer/delete commands, delete-delay,
// media timeouts and shutdown.
#include "rtprelay/calls/call_table.h"

#include <event2/event.h>

#include <ctime>

#include "common/log.h"
#include "rtprelay/control/ng_message.h"

namespace strowger::rtprelay::calls {
namespace {

std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

// rtpengine's text for a lookup that finds nothing.
constexpr const char* kNotFound = "Call-ID not found or tags didn't match";

}  // namespace

CallTable::CallTable(InterfaceSet& interfaces, media::MediaEngine& engine, event_base* base,
                     CallOptions options)
    : interfaces_(interfaces), engine_(engine), options_(options) {
  started_ms_ = last_rate_ms_ = media::monotonic_ms();
  engine_.set_timeout_handler(
      [this](media::PairId id, const media::PairStats&) { on_timeout(id); });
  engine_.set_create_failed_handler([this](media::PairId id, int error) {
    LOG_ERROR("media pair %llu could not start (errno %d)", static_cast<unsigned long long>(id),
              error);
    on_timeout(id);  // its call is as dead as a timed-out one
  });
  if (base != nullptr) {
    timer_ = event_new(base, -1, EV_PERSIST, &CallTable::on_housekeeping, this);
    timeval tv{static_cast<time_t>(options_.housekeeping_ms / 1000),
               static_cast<suseconds_t>((options_.housekeeping_ms % 1000) * 1000)};
    event_add(timer_, &tv);
  }
}

CallTable::~CallTable() {
  if (timer_ != nullptr) event_free(timer_);
  close_all();
  engine_.set_timeout_handler(nullptr);
  engine_.set_create_failed_handler(nullptr);
}

void CallTable::register_commands(control::NgDispatcher& d) {
  using control::Peer;
  // busy_ defers engine timeouts that arrive while a command waits on the workers.
  auto wrap = [this](auto fn) {
    return [this, fn](const bencode::Dict& req, const Peer& from, bencode::Dict& reply) {
      ++busy_;
      fn(req, from, reply);
      --busy_;
      process_timeouts();
    };
  };
  d.add_command("offer",
                wrap([this](auto& req, auto& from, auto& reply) { offer(req, from, reply); }));
  d.add_command("answer",
                wrap([this](auto& req, auto& from, auto& reply) { answer(req, from, reply); }));
  d.add_command("delete", wrap([this](auto& req, auto&, auto& reply) { remove(req, reply); }));
  d.add_command("query", wrap([this](auto& req, auto&, auto& reply) { query(req, reply); }));
  d.add_command("list", wrap([this](auto& req, auto&, auto& reply) { list(req, reply); }));
  d.add_command("statistics", wrap([this](auto&, auto&, auto& reply) { statistics(reply); }));
  for (const char* c : {"start recording", "stop recording", "pause recording"}) {
    d.add_command(c, [](const bencode::Dict&, const Peer&, bencode::Dict& reply) {
      control::set_error(reply, "call recording is not supported yet");
    });
  }
}

Call* CallTable::find(const std::string& call_id) {
  auto it = calls_.find(call_id);
  return it == calls_.end() ? nullptr : it->second.get();
}

void CallTable::offer(const bencode::Dict& req, const control::Peer&, bencode::Dict& reply) {
  NgOptions o;
  if (auto e = read_options(req, &o)) {
    ++counters_.rejected;
    return control::set_error(reply, *e);
  }
  if (o.call_id.empty()) return control::set_error(reply, "No call-id in message");
  if (o.from_tag.empty()) return control::set_error(reply, "No from-tag in message");
  if (!o.sdp) return control::set_error(reply, "No SDP body in message");
  Call* call = find(o.call_id);
  bool created = false;
  if (call == nullptr) {
    auto c = std::make_unique<Call>();
    c->call_id = o.call_id;
    c->created_s = unix_now();
    c->created_ms = media::monotonic_ms();
    call = c.get();
    calls_.emplace(o.call_id, std::move(c));
    created = true;
  }
  // The offerer is the leg with the from-tag; an in-dialogue offer from the callee names the
  // caller in to-tag. A new from-tag is a new offerer on leg 0 (e.g. after a transfer).
  int sender = 0;
  Leg* legs = call->legs;
  if (created) {
    legs[0].tag = o.from_tag;
    legs[0].created_s = call->created_s;
  } else if (o.from_tag == legs[0].tag) {
    sender = 0;
  } else if (o.from_tag == legs[1].tag) {
    sender = 1;
  } else if (!o.to_tag.empty() && o.to_tag == legs[0].tag) {
    sender = 1;
    legs[1].tag = o.from_tag;
  } else {
    LOG_INFO("call %s: offer from new tag %s replaces %s", o.call_id.c_str(), o.from_tag.c_str(),
             legs[0].tag.c_str());
    legs[0].tag = o.from_tag;
  }
  const int recv = 1 - sender;
  if (!o.to_tag.empty() && legs[recv].tag.empty()) legs[recv].tag = o.to_tag;
  for (Leg& l : call->legs)
    if (l.created_s == 0) l.created_s = unix_now();
  if (!o.label.empty()) legs[sender].label = o.label;
  if (!o.via_branch.empty()) legs[sender].via_branch = o.via_branch;

  std::string sdp;
  std::vector<std::string> warnings;
  auto err = negotiate(*call, sender, o, true, &sdp, &warnings);
  if (err) {
    ++counters_.rejected;
    if (created) {  // nothing of it may stay behind
      for (Stream& s : call->streams) close_stream(s);
      calls_.erase(o.call_id);
    }
    return control::set_error(reply, *err);
  }
  if (created) {
    ++counters_.managed;
    LOG_INFO("call %s: new, offer from %s", o.call_id.c_str(), o.from_tag.c_str());
  }
  call->delete_at_ms = 0;  // signalling revives a call waiting for its delete-delay
  call->last_signal_s = unix_now();
  reply.set("sdp", sdp);
  std::string w = ignored_warning(o);
  for (const std::string& x : warnings) w += (w.empty() ? "" : "; ") + x;
  if (!w.empty()) control::set_warning(reply, w);
}

void CallTable::answer(const bencode::Dict& req, const control::Peer&, bencode::Dict& reply) {
  NgOptions o;
  if (auto e = read_options(req, &o)) return control::set_error(reply, *e);
  if (o.call_id.empty()) return control::set_error(reply, "No call-id in message");
  if (o.from_tag.empty()) return control::set_error(reply, "No from-tag in message");
  if (o.to_tag.empty()) return control::set_error(reply, "No to-tag in message");
  if (!o.sdp) return control::set_error(reply, "No SDP body in message");
  Call* call = find(o.call_id);
  if (call == nullptr) return control::set_error(reply, "Unknown call-id");
  Leg* legs = call->legs;
  int answerer;
  if (o.from_tag == legs[0].tag)
    answerer = 1;
  else if (o.from_tag == legs[1].tag)
    answerer = 0;
  else if (o.to_tag == legs[0].tag)
    answerer = 0;
  else if (o.to_tag == legs[1].tag)
    answerer = 1;
  else
    return control::set_error(reply, "Unknown from-tag");
  if (legs[answerer].tag != o.to_tag && o.from_tag == legs[1 - answerer].tag) {
    // Another fork answered (or the first answer names the callee): the last answer wins.
    if (!legs[answerer].tag.empty())
      LOG_INFO("call %s: answer from %s replaces branch %s", o.call_id.c_str(), o.to_tag.c_str(),
               legs[answerer].tag.c_str());
    legs[answerer].tag = o.to_tag;
  }
  if (!o.label.empty()) legs[answerer].label = o.label;
  std::string sdp;
  std::vector<std::string> warnings;
  if (auto err = negotiate(*call, answerer, o, false, &sdp, &warnings))
    return control::set_error(reply, *err);
  call->delete_at_ms = 0;
  call->last_signal_s = unix_now();
  reply.set("sdp", sdp);
  std::string w = ignored_warning(o);
  for (const std::string& x : warnings) w += (w.empty() ? "" : "; ") + x;
  if (!w.empty()) control::set_warning(reply, w);
}

void CallTable::remove(const bencode::Dict& req, bencode::Dict& reply) {
  NgOptions o;
  if (auto e = read_options(req, &o)) return control::set_error(reply, *e);
  if (o.call_id.empty()) return control::set_error(reply, "No call-id in message");
  Call* call = find(o.call_id);
  auto not_found = [&](const char* why) {
    if (o.fatal) return control::set_error(reply, why);
    control::set_warning(reply, why);
  };
  if (call == nullptr) return not_found(kNotFound);
  auto known = [&](const std::string& t) {
    return t == call->legs[0].tag || t == call->legs[1].tag;
  };
  if (!o.from_tag.empty() && !known(o.from_tag)) return not_found(kNotFound);
  // A to-tag the call never saw answer is a failed fork (486 on one branch): the other
  // branches and the offer's ports stay.
  if (!o.to_tag.empty() && !known(o.to_tag) && !call->legs[1].tag.empty())
    return not_found("to-tag not found (a branch without an answer): nothing deleted");
  if (!o.to_tag.empty() && !known(o.to_tag) && !o.via_branch.empty())
    return not_found("via-branch/to-tag not found: nothing deleted");
  std::int64_t delay_ms = o.delete_delay_s ? *o.delete_delay_s * 1000 : options_.delete_delay_ms;
  if (delay_ms <= 0) return finish(*call, End::kDeleted, &reply);
  StatsMap stats = collect(*call);
  build_query(*call, stats, reply);
  std::int64_t at = media::monotonic_ms() + delay_ms;
  if (call->delete_at_ms == 0 || at < call->delete_at_ms) call->delete_at_ms = at;
  call->last_signal_s = unix_now();
}

std::vector<std::string> CallTable::call_ids(std::size_t limit) const {
  std::vector<std::string> out;
  for (const auto& [id, call] : calls_) {
    if (out.size() >= limit) break;
    out.push_back(id);
  }
  return out;
}

void CallTable::list(const bencode::Dict& req, bencode::Dict& reply) {
  std::int64_t limit = 32;
  if (const bencode::Value* v = req.find("limit")) {
    auto i = v->as_int();
    if (!i && v->as_string()) i = std::strtoll(v->as_string()->c_str(), nullptr, 10);
    if (!i || *i <= 0) return control::set_error(reply, "invalid limit, must be > 0");
    limit = *i;
  }
  bencode::List ids;
  for (std::string& id : call_ids(static_cast<std::size_t>(limit))) ids.emplace_back(std::move(id));
  reply.set("calls", std::move(ids));
}

bool CallTable::force_delete(const std::string& call_id, bencode::Dict* stats) {
  Call* call = find(call_id);
  if (call == nullptr) return false;
  ++busy_;
  finish(*call, End::kForced, stats);
  --busy_;
  process_timeouts();
  return true;
}

void CallTable::close_stream(Stream& s) {
  if (s.pair == 0) return;
  engine_.close(s.pair);
  pair_owner_.erase(s.pair);
  s.pair = 0;
}

void CallTable::finish(Call& call, End why, bencode::Dict* stats_out) {
  StatsMap stats = collect(call);
  for (const auto& [id, st] : stats) {
    for (const media::SideStats* side : {&st.a, &st.b}) {
      counters_.packets += side->counters.rtp_packets + side->counters.rtcp_packets;
      counters_.bytes += side->counters.rtp_bytes + side->counters.rtcp_bytes;
      counters_.errors += side->counters.errors;
    }
  }
  if (stats_out != nullptr) build_query(call, stats, *stats_out);
  const double seconds = static_cast<double>(media::monotonic_ms() - call.created_ms) / 1000.0;
  counters_.call_seconds += seconds;
  switch (why) {
    case End::kDeleted:
      ++counters_.regular_terminated;
      LOG_INFO("call %s: deleted after %.1f s", call.call_id.c_str(), seconds);
      break;
    case End::kTimeout:
      ++counters_.timeouts;
      LOG_NOTICE("call %s: media timeout (no packets for %.1f s), deleted", call.call_id.c_str(),
                 static_cast<double>(options_.media_timeout_ms) / 1000.0);
      break;
    case End::kSilentTimeout:
      ++counters_.silent_timeouts;
      LOG_NOTICE("call %s: silent timeout on hold (no packets for %.1f s), deleted",
                 call.call_id.c_str(), static_cast<double>(options_.silent_timeout_ms) / 1000.0);
      break;
    case End::kForced:
      ++counters_.forced_terminated;
      LOG_INFO("call %s: closed", call.call_id.c_str());
      break;
  }
  for (Stream& s : call.streams) close_stream(s);
  calls_.erase(call.call_id);  // `call` is gone from here on
}

void CallTable::close_all() {
  for (auto& [id, call] : calls_)
    for (Stream& s : call->streams) close_stream(s);
  counters_.forced_terminated += calls_.size();
  calls_.clear();
}

void CallTable::on_housekeeping(int, short, void* arg) {
  static_cast<CallTable*>(arg)->run_housekeeping();
}

void CallTable::run_housekeeping() {
  const std::int64_t now = media::monotonic_ms();
  std::vector<std::string> due;
  for (const auto& [id, call] : calls_)
    if (call->delete_at_ms != 0 && call->delete_at_ms <= now) due.push_back(id);
  ++busy_;
  for (const std::string& id : due)
    if (Call* c = find(id)) finish(*c, End::kDeleted, nullptr);
  --busy_;
  process_timeouts();
}

void CallTable::on_timeout(media::PairId id) {
  pending_timeouts_.push_back(id);
  if (busy_ == 0) process_timeouts();
}

void CallTable::process_timeouts() {
  if (busy_ != 0) return;
  ++busy_;
  while (!pending_timeouts_.empty()) {
    std::vector<media::PairId> ids;
    ids.swap(pending_timeouts_);
    for (media::PairId id : ids) {
      auto owner = pair_owner_.find(id);
      if (owner == pair_owner_.end()) continue;
      Call* call = find(owner->second);
      if (call == nullptr) continue;
      const std::int64_t now = media::monotonic_ms();
      for (Stream& s : call->streams) {
        if (s.pair == id && !s.timed_out) {
          s.timed_out = true;
          s.timed_out_ms = now;
        }
      }
      // The call ends when every open stream is idle: a silent video stream next to a live
      // audio one does not end it. A stream reported earlier may have come back to life.
      bool all_idle = true, hold = false;
      for (const Stream& s : call->streams)
        if (s.pair != 0 && !s.timed_out) all_idle = false;
      if (!all_idle) continue;
      StatsMap stats = collect(*call);
      for (Stream& s : call->streams) {
        if (s.pair == 0) continue;
        hold = hold || s.leg[0].hold || s.leg[1].hold;
        auto st = stats.find(s.pair);
        if (st != stats.end() && st->second.last_packet_ms > s.timed_out_ms) {
          s.timed_out = false;
          all_idle = false;
        }
      }
      if (all_idle) finish(*call, hold ? End::kSilentTimeout : End::kTimeout, nullptr);
    }
  }
  --busy_;
}

}  // namespace strowger::rtprelay::calls
