// The rtprelay module (alias rtpengine): rtprelay_offer/answer/delete/manage (and Kamailio's
// rtpengine_* names) send the message's SDP to the relay set over ng and put the relay's SDP
// back into the message. Blocking per worker, bounded: see README.md "Blocking".
#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "modules/rtprelay/blocking_client.h"
#include "modules/rtprelay/manage.h"
#include "modules/rtprelay/ng_flags.h"
#include "sipproxy/module.h"

namespace strowger::modules::rtprelay {
namespace {

using sipproxy::ScriptCall;

struct ModuleState {
  BlockingOptions options;
  std::vector<std::string> urls;  // as configured, in RelayHealth's order
  std::shared_ptr<RelayHealth> health;
  std::shared_ptr<HealthProbe> probe;
  LateOfferTable late_offers;
  // One client per worker, made on first use on that worker's thread; the last slot serves
  // callers outside the workers (dry runs), under its lock.
  std::vector<std::unique_ptr<BlockingClient>> clients;
  std::mutex spare_mu;
};

std::shared_ptr<ModuleState> g_state;  // set once by init_process

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

bool has_sdp(sipproxy::Message& m) {
  std::string_view ct = m.content_type();
  return !m.body().empty() && (ct.empty() || iequals(ct, "application/sdp"));
}

MessageFacts facts_of(ScriptCall& call) {
  sipproxy::Message& m = call.message();
  MessageFacts f;
  f.is_request = m.is_request();
  f.call_id = std::string(m.call_id());
  f.from_tag = std::string(m.from_tag());
  f.to_tag = std::string(m.to_tag());
  for (std::size_t i = 0; i < 2; ++i) {
    auto v = m.via(i);
    if (!v) break;
    f.via_branches.push_back(v->branch);
  }
  f.sdp = std::string(m.body());
  f.source_ip = call.source().ip;
  return f;
}

BlockingClient* client_for(ScriptCall& call, std::unique_lock<std::mutex>& lock) {
  ModuleState& s = *g_state;
  std::size_t slot = static_cast<std::size_t>(call.worker());
  if (call.worker() < 0 || slot + 1 >= s.clients.size()) {
    slot = s.clients.size() - 1;
    lock = std::unique_lock(s.spare_mu);
  }
  if (!s.clients[slot]) {
    auto c = BlockingClient::create(s.options, s.health);
    if (!c.ok()) {
      call.log(sipproxy::LogLevel::kError, "rtprelay: " + c.error().message);
      return nullptr;
    }
    s.clients[slot] = std::move(c.value());
  }
  return s.clients[slot].get();
}

// One ng command for the message; > 0 when the relay said ok (and the SDP was replaced).
int run_command(ScriptCall& call, NgOp op, std::string_view flags) {
  if (!g_state) return -1;
  MessageFacts facts = facts_of(call);
  bool wants_sdp = op == NgOp::kOffer || op == NgOp::kAnswer;
  if (wants_sdp && !has_sdp(call.message())) {
    call.log(sipproxy::LogLevel::kWarn, "rtprelay: no SDP body to send");
    return -1;
  }
  auto request = build_ng_request(op, flags, facts);
  if (!request.ok()) {
    call.log(sipproxy::LogLevel::kError, "rtprelay: " + request.error().message);
    return -1;
  }
  wants_sdp = op == NgOp::kOffer || op == NgOp::kAnswer;  // force-answer keeps it so
  std::string call_id(request->get_string("call-id").value_or(facts.call_id));
  std::unique_lock<std::mutex> lock;
  BlockingClient* client = client_for(call, lock);
  if (!client) return -1;
  std::string relay;
  auto reply = client->call(call_id, std::move(request.value()), &relay);
  if (!reply.ok()) {
    call.log(sipproxy::LogLevel::kError, "rtprelay: " + std::string(ng_op_name(op)) + " for " +
                                             call_id + ": " + reply.error().message);
    return -1;
  }
  std::string_view result = reply->get_string("result").value_or("");
  if (result != "ok") {
    call.log(sipproxy::LogLevel::kError,
             "rtprelay: relay " + relay + " refused " + std::string(ng_op_name(op)) + " for " +
                 call_id + ": " + std::string(reply->get_string("error-reason").value_or(result)));
    return -1;
  }
  if (wants_sdp) {
    auto sdp = reply->get_string("sdp");
    if (!sdp || sdp->empty() || !call.message().set_body(*sdp)) {
      call.log(sipproxy::LogLevel::kError, "rtprelay: relay " + relay + " answered no SDP");
      return -1;
    }
  }
  return 1;
}

int run_manage(ScriptCall& call, std::string_view flags) {
  if (!g_state) return -1;
  sipproxy::Message& m = call.message();
  ManageInput in;
  in.is_request = m.is_request();
  in.method = in.is_request ? m.method_name() : m.cseq_method_name();
  in.status = m.status();
  in.has_sdp = has_sdp(m);
  in.failure_route = call.route() == sipproxy::kFailureRoute;
  if (!in.is_request && in.method == "INVITE")
    in.late_offer = g_state->late_offers.contains(m.call_id(), m.cseq(), now_ms());
  ManageAction action = decide_manage(in);
  if (!in.is_request && in.method == "INVITE" && in.status >= 200)
    g_state->late_offers.forget(m.call_id(), m.cseq());
  switch (action) {
    case ManageAction::kOffer:
      return run_command(call, NgOp::kOffer, flags);
    case ManageAction::kAnswer:
      return run_command(call, NgOp::kAnswer, flags);
    case ManageAction::kDelete:
      return run_command(call, NgOp::kDelete, flags);
    case ManageAction::kMarkLateOffer:
      g_state->late_offers.mark(m.call_id(), m.cseq(), now_ms());
      return -1;
    case ManageAction::kNone:
      return -1;
  }
  return -1;
}

sipproxy::FunctionSpec function(std::string name, NgOp op, bool manage) {
  sipproxy::FunctionSpec f;
  f.name = std::move(name);
  f.args = {{"flags", sipproxy::ArgKind::kString, false}};
  f.min_args = 0;
  f.routes = sipproxy::kRequestRoute | sipproxy::kFailureRoute | sipproxy::kOnReplyRoute |
             sipproxy::kBranchRoute | sipproxy::kReplyRoute;
  f.fixup = [op](const std::vector<sipproxy::ConstArg>& args,
                 std::shared_ptr<const void>*) -> std::optional<std::string> {
    if (!args.empty() && args[0].is_constant) return check_flags(op, args[0].text);
    return std::nullopt;
  };
  if (manage) {
    f.run = [](ScriptCall& call, const std::vector<sipproxy::ArgValue>& args, const void*) {
      return run_manage(call, args.empty() ? std::string_view() : args[0].s);
    };
  } else {
    f.run = [op](ScriptCall& call, const std::vector<sipproxy::ArgValue>& args, const void*) {
      return run_command(call, op, args.empty() ? std::string_view() : args[0].s);
    };
  }
  return f;
}

using sipproxy::int_param;
using sipproxy::string_param;

// "udp:h:p=2", or Kamailio's set form "1 == udp:h:p udp:h2:p" (one set: the id is dropped).
std::optional<std::string> strip_set_id(std::string& text) {
  std::size_t eqeq = text.find("==");
  if (eqeq == std::string::npos) return std::nullopt;
  std::string id = text.substr(0, eqeq);
  for (char c : id)
    if (c != ' ' && (c < '0' || c > '9')) return "bad set id '" + id + "'";
  text = text.substr(eqeq + 2);
  return std::nullopt;
}

sipproxy::ParamSpec sock_param(std::string name) {
  sipproxy::ParamSpec p;
  p.name = std::move(name);
  p.validate = [](const sipproxy::ParamValue& v) -> std::optional<std::string> {
    std::string text = v.s;
    if (auto e = strip_set_id(text)) return e;
    for (std::size_t pos = 0; pos < text.size();) {
      std::size_t start = text.find_first_not_of(" \t", pos);
      if (start == std::string::npos) break;
      std::size_t end = text.find_first_of(" \t", start);
      if (end == std::string::npos) end = text.size();
      auto url = parse_relay_url(std::string_view(text).substr(start, end - start));
      if (!url.ok()) return url.error().message;
      pos = end;
    }
    return std::nullopt;
  };
  p.help = "relay URLs (udp:host:port[=weight], space separated; may be set several times)";
  return p;
}

std::optional<std::string> init(sipproxy::ModuleHost& host, const sipproxy::Params& params) {
  auto state = std::make_shared<ModuleState>();
  std::string relays;
  for (const char* name : {"rtprelay_sock", "rtpengine_sock"}) {
    for (const sipproxy::ParamValue& v : params.values(name)) {
      std::string text = v.s;
      if (auto e = strip_set_id(text)) return e;
      relays += ' ';
      relays += text;
    }
  }
  if (relays.find_first_not_of(" \t") == std::string::npos)
    return std::string("rtprelay_sock is not set: no relay to send media to");
  bool kamailio_tout = !params.values("rtpengine_tout_ms").empty();
  bool kamailio_retr = !params.values("rtpengine_retr").empty();
  state->options.relays = relays;
  state->options.retry.timeout_ms =
      static_cast<int>(params.get_int(kamailio_tout ? "rtpengine_tout_ms" : "rtprelay_tout_ms"));
  state->options.retry.tries =
      static_cast<int>(params.get_int(kamailio_retr ? "rtpengine_retr" : "rtprelay_retr"));
  std::int64_t ping_ms = params.get_int("rtprelay_ping_interval_ms");
  if (!params.values("rtpengine_disable_tout").empty())
    ping_ms = params.get_int("rtpengine_disable_tout") * 1000;
  for (std::size_t pos = 0; pos < relays.size();) {
    std::size_t start = relays.find_first_not_of(" \t", pos);
    if (start == std::string::npos) break;
    std::size_t end = relays.find_first_of(" \t", start);
    if (end == std::string::npos) end = relays.size();
    state->urls.push_back(relays.substr(start, end - start));
    pos = end;
  }
  std::size_t count = state->urls.size();
  state->health = std::make_shared<RelayHealth>(count);
  auto probe = HealthProbe::create(relays, state->health, state->options.retry.timeout_ms);
  if (!probe.ok()) return probe.error().message;
  state->probe = std::move(probe.value());
  state->clients.resize(static_cast<std::size_t>(std::max(1, host.worker_count())) + 1);
  LOG_INFO("rtprelay: %zu relay(s); a command blocks its worker at most %lld ms", count,
           static_cast<long long>(worst_case_ms(state->options.retry, count)));
  std::weak_ptr<ModuleState> weak = state;
  host.add_timer(ping_ms, [weak] {
    if (auto s = weak.lock()) {
      s->probe->run_once();
      s->late_offers.expire(now_ms());
    }
  });
  g_state = std::move(state);
  return std::nullopt;
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "rtprelay";
  d.aliases = {"rtpengine"};
  d.params = {
      sock_param("rtprelay_sock"),
      sock_param("rtpengine_sock"),
      int_param("rtprelay_tout_ms", 500, 1, 60'000,
                "first wait for a relay's reply in ms, doubled on each retransmission"),
      int_param("rtpengine_tout_ms", 500, 1, 60'000, "Kamailio's name of rtprelay_tout_ms"),
      int_param("rtprelay_retr", 3, 1, 6, "sends per relay before it is marked down"),
      int_param("rtpengine_retr", 3, 1, 6, "Kamailio's name of rtprelay_retr"),
      int_param("rtprelay_ping_interval_ms", 10'000, 100, 3'600'000,
                "how often relays marked down are pinged"),
      int_param("rtpengine_disable_tout", 10, 1, 3600,
                "Kamailio's: seconds before a relay marked down is tried again"),
  };
  for (const char* prefix : {"rtprelay_", "rtpengine_"}) {
    std::string p(prefix);
    d.functions.push_back(function(p + "offer", NgOp::kOffer, false));
    d.functions.push_back(function(p + "answer", NgOp::kAnswer, false));
    d.functions.push_back(function(p + "delete", NgOp::kDelete, false));
    d.functions.push_back(function(p + "manage", NgOp::kOffer, true));
  }
  sipproxy::RpcSpec show;
  show.name = "rtprelay.show";
  show.help = "the relays of the set, up or down, shared by every worker";
  show.handler = [](const common::Json&) {
    common::Json rows = common::Json::array();
    if (g_state) {
      for (std::size_t i = 0; i < g_state->urls.size(); ++i)
        rows.push_back({{"url", g_state->urls[i]}, {"up", g_state->health->up(i)}});
    }
    return common::Json{{"relays", rows}};
  };
  d.rpcs.push_back(std::move(show));
  d.init_process = init;
  d.stop_worker = [](const sipproxy::WorkerInfo& w) {
    if (g_state && w.index >= 0 && static_cast<std::size_t>(w.index) + 1 < g_state->clients.size())
      g_state->clients[static_cast<std::size_t>(w.index)].reset();
  };
  d.shutdown = [] { g_state.reset(); };
  return d;
}

}  // namespace
}  // namespace strowger::modules::rtprelay

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::rtprelay::make_descriptor();
  return &descriptor;
}
