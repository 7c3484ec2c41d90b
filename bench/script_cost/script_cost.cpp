// script_cost: ns per request_route run of a routing script over typical requests, no I/O.
//
// The script is compiled once; each iteration clones a parsed message into a NullHost (which
// only records what the script asked for), builds an ExecutionContext and runs request_route.
// Clone + destroy of the message is timed alone as well and subtracted, so the figure is the
// script's own cost (context included: the proxy builds one per request).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run.h"
#include "proxy/script/engine/runtime.h"

namespace {

using namespace strowger::proxy;
using namespace strowger::proxy::script;
using Clock = std::chrono::steady_clock;

// Counts what the script asked the core to do; formats nothing, sends nothing.
class NullHost : public engine::Host {
 public:
  void reset(sip::Message msg) {
    msg_ = std::move(msg);
    last_reply_ = 0;
    relays_ = 0;
    forwards_ = 0;
  }
  int last_reply() const { return last_reply_; }
  int relays() const { return relays_; }

  sip::Message& message() override { return *msg_; }
  engine::Peer source() const override { return {"udp", "192.0.2.10", 5060}; }
  engine::Peer local() const override { return {"udp", "127.0.0.1", 5060}; }
  bool is_myself(std::string_view host, std::uint16_t port) const override {
    return host == "127.0.0.1" && (port == 0 || port == 5060);
  }
  int reply(int code, std::string_view, engine::ReplyMode) override {
    last_reply_ = code;
    return 1;
  }
  int reply_with_headers(int code, std::string_view, std::string_view,
                         engine::ReplyMode) override {
    last_reply_ = code;
    return 1;
  }
  int relay(const engine::RelayRequest&) override {
    relays_++;
    return 1;
  }
  int forward_stateless(const engine::ForwardRequest&) override {
    forwards_++;
    return 1;
  }
  int record_route(std::string_view) override { return 1; }
  int record_route_preset(std::string_view, std::string_view) override { return 1; }
  int add_rr_param(std::string_view) override { return 1; }
  int t_newtran() override { return 1; }
  int t_check_trans() override { return -1; }
  int t_precheck_trans() override { return -1; }
  int t_is_canceled() override { return -1; }
  int transaction_reply_code() const override { return 0; }
  int transaction_branch_index() const override { return 0; }
  void log(int, std::string_view) override {}

 private:
  std::optional<sip::Message> msg_;
  int last_reply_ = 0;
  int relays_ = 0;
  int forwards_ = 0;
};

struct Case {
  const char* name;
  const char* text;
  const char* expect;  // "relay" or "reply NNN": the path default.cfg must take
};

const Case kCases[] = {
    {"invite_initial",
     "INVITE sip:bob@127.0.0.1 SIP/2.0\n"
     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1;rport\n"
     "Max-Forwards: 70\n"
     "From: \"Alice\" <sip:alice@127.0.0.1>;tag=9fxced76sl\n"
     "To: <sip:bob@127.0.0.1>\n"
     "Call-ID: 3848276298220188511@192.0.2.10\n"
     "CSeq: 1 INVITE\n"
     "Contact: <sip:alice@192.0.2.10:5060>\n"
     "User-Agent: Bench/1.0\n"
     "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\n"
     "Content-Type: application/sdp\n"
     "\n"
     "v=0\n"
     "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
     "s=-\n"
     "c=IN IP4 192.0.2.10\n"
     "t=0 0\n"
     "m=audio 49170 RTP/AVP 0 8\n",
     "relay"},
    {"bye_in_dialog",
     "BYE sip:bob@192.0.2.20:5062 SIP/2.0\n"
     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-2;rport\n"
     "Max-Forwards: 70\n"
     "Route: <sip:127.0.0.1:5060;lr>\n"
     "From: \"Alice\" <sip:alice@127.0.0.1>;tag=9fxced76sl\n"
     "To: <sip:bob@127.0.0.1>;tag=8321234356\n"
     "Call-ID: 3848276298220188511@192.0.2.10\n"
     "CSeq: 2 BYE\n"
     "User-Agent: Bench/1.0\n"
     "\n",
     "relay"},
    {"register",
     "REGISTER sip:127.0.0.1 SIP/2.0\n"
     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-3;rport\n"
     "Max-Forwards: 70\n"
     "From: <sip:alice@127.0.0.1>;tag=reg1\n"
     "To: <sip:alice@127.0.0.1>\n"
     "Call-ID: reg-1@192.0.2.10\n"
     "CSeq: 1 REGISTER\n"
     "Contact: <sip:alice@192.0.2.10:5060>;expires=3600\n"
     "User-Agent: Bench/1.0\n"
     "\n",
     "reply 501"},
    {"options_keepalive",
     "OPTIONS sip:127.0.0.1:5060 SIP/2.0\n"
     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-4;rport\n"
     "Max-Forwards: 70\n"
     "From: <sip:ping@192.0.2.10>;tag=ka1\n"
     "To: <sip:127.0.0.1:5060>\n"
     "Call-ID: ka-1@192.0.2.10\n"
     "CSeq: 1 OPTIONS\n"
     "\n",
     "reply 200"},
};

std::string outcome_of(const NullHost& host) {
  if (host.relays() > 0) return "relay";
  if (host.last_reply() > 0) return "reply " + std::to_string(host.last_reply());
  return "nothing";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Options {
  std::string script = STROWGER_SOURCE_DIR "/routing-scripts/default.cfg";
  long iterations = 20000;  // per round
  int rounds = 7;
};

bool parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--script" && has_value) {
      o->script = argv[++i];
    } else if (a == "--iterations" && has_value) {
      o->iterations = std::atol(argv[++i]);
    } else if (a == "--rounds" && has_value) {
      o->rounds = std::atoi(argv[++i]);
    } else {
      return false;
    }
  }
  return o->iterations > 0 && o->rounds > 0;
}

struct Figure {
  std::string variant;
  std::string message;
  double run_ns = 0;
  double clone_ns = 0;
  double total_ns = 0;
  long iterations = 0;
};

// Times one message: `rounds` rounds of clone-only then clone+run; medians over the rounds.
std::optional<Figure> measure(const engine::Program& program, const Case& c, const Options& o) {
  auto parsed = sip::Message::parse(engine::normalize_message_text(c.text));
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: does not parse: %s\n", c.name, parsed.error().message.c_str());
    return std::nullopt;
  }
  const sip::Message& proto = parsed.value();
  NullHost host;
  host.reset(proto.clone());
  {
    engine::ExecutionContext ctx(program, host);
    engine::run_route(ctx, program.request_route);
  }
  if (outcome_of(host) != c.expect) {
    std::fprintf(stderr, "%s: the script did '%s', expected '%s'\n", c.name,
                 outcome_of(host).c_str(), c.expect);
    return std::nullopt;
  }
  std::vector<double> clone_ns, total_ns;
  long sink = 0;
  for (int r = 0; r < o.rounds; r++) {
    auto t0 = Clock::now();
    for (long i = 0; i < o.iterations; i++) {
      host.reset(proto.clone());
      sink += host.message().is_request();
    }
    auto t1 = Clock::now();
    for (long i = 0; i < o.iterations; i++) {
      host.reset(proto.clone());
      engine::ExecutionContext ctx(program, host);
      sink += engine::run_route(ctx, program.request_route).ret;
    }
    auto t2 = Clock::now();
    clone_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / o.iterations);
    total_ns.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / o.iterations);
  }
  if (sink == 42) std::fprintf(stderr, " ");  // keeps the loops' results observable
  Figure f;
  f.message = c.name;
  f.clone_ns = median(clone_ns);
  f.total_ns = median(total_ns);
  f.run_ns = std::max(0.0, f.total_ns - f.clone_ns);
  f.iterations = o.iterations * o.rounds;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: script_cost [--script default.cfg] [--iterations N] [--rounds R]\n");
    return 2;
  }
  struct Variant {
    const char* name;
    std::vector<std::pair<std::string, std::string>> defines;
  };
  const Variant variants[] = {{"default", {}}, {"WITH_WEBSOCKETS", {{"WITH_WEBSOCKETS", ""}}}};
  std::vector<Figure> figures;
  for (const auto& v : variants) {
    auto compiled = engine::compile_file(o.script, v.defines);
    if (!compiled.ok()) {
      std::fprintf(stderr, "%s", compiled.format_diagnostics().c_str());
      return 1;
    }
    for (const auto& c : kCases) {
      std::fprintf(stderr, "%s %s...\n", v.name, c.name);
      auto f = measure(*compiled.program, c, o);
      if (!f) return 1;
      f->variant = v.name;
      std::printf(
          "{\"figure\": \"script_ns_per_request\", \"script\": \"%s\", \"defines\": \"%s\", "
          "\"message\": \"%s\", \"value\": %.1f, \"clone_ns\": %.1f, \"total_ns\": %.1f, "
          "\"iterations\": %ld, \"rounds\": %d}\n",
          o.script.c_str(), v.name, c.name, f->run_ns, f->clone_ns, f->total_ns, f->iterations,
          o.rounds);
      std::fflush(stdout);
      figures.push_back(*f);
    }
  }
  std::printf("%-16s %-18s %12s %10s %12s\n", "defines", "message", "ns/request", "clone ns",
              "iterations");
  for (const auto& f : figures) {
    std::printf("%-16s %-18s %12.0f %10.0f %12ld\n", f.variant.c_str(), f.message.c_str(), f.run_ns,
                f.clone_ns, f.iterations);
  }
  std::printf("(median of %d rounds; ns/request = clone+context+request_route minus clone)\n",
              o.rounds);
  return 0;
}
