// libFuzzer target: the routing-script compiler and runtime; scripts that compile run their
// request_route once over a fixed INVITE with a DryRunHost.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/runtime.h"

namespace {

using namespace strowger::proxy;
using namespace strowger::proxy::script;

// Has a Route to us, a body and repeated headers, so loose_route, $rb and $hdr(X)[n] have work.
constexpr const char* kInvite =
    "INVITE sip:bob@example.com;transport=udp SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport\n"
    "Via: SIP/2.0/TCP 198.51.100.7:5070;branch=z9hG4bK-0\n"
    "Max-Forwards: 70\n"
    "Route: <sip:127.0.0.1:5060;lr>\n"
    "Route: <sip:proxy2.example.net;lr>\n"
    "From: \"Alice A\" <sip:alice@example.org>;tag=ft1\n"
    "To: <sip:bob@example.com>\n"
    "Call-ID: call-1@192.0.2.10\n"
    "CSeq: 7 INVITE\n"
    "Contact: <sip:alice@192.0.2.10:5060;ob>;expires=3600\n"
    "Authorization: Digest username=\"alice\", realm=\"example.org\", nonce=\"n\", "
    "uri=\"sip:bob@example.com\", response=\"00\"\n"
    "User-Agent: TestUA/1.0\n"
    "X-Multi: one\n"
    "X-Multi: two\n"
    "Content-Type: application/sdp\n"
    "\n"
    "v=0\n"
    "o=- 1 1 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 4000 RTP/AVP 0\n";

const sip::Message& invite() {
  static const sip::Message msg = [] {
    auto parsed = sip::Message::parse(engine::normalize_message_text(kInvite));
    if (!parsed.ok()) __builtin_trap();  // the fixed message must parse
    return std::move(parsed.value());
  }();
  return msg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ParseOptions options;
  // Not WITH_NAT / WITH_AUTH: their modules are not there yet, default.cfg would not compile.
  options.defines = {{"WITH_WEBSOCKETS", ""}, {"LEVEL", "3"}};
  options.max_tokens = 200000;
  // Nothing is read from disk (as in script_parser_fuzz): "self*" reads the input again,
  // "empty*" is an empty file, the rest is missing.
  options.read_file = [&text](const std::string& path) -> std::optional<std::string> {
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    if (base.rfind("self", 0) == 0) return text;
    if (base.rfind("empty", 0) == 0) return std::string();
    return std::nullopt;
  };
  ParseResult parsed = parse_script_text(text, "fuzz.cfg", options);
  engine::CompileOptions compile_options;
  // The production budget (1M) holds: it is reached, and stops the run, in ~1 s here with the
  // trace; 20000 still runs every seed to its end and keeps the fuzzer fast.
  compile_options.max_run_steps = 20000;
  engine::CompileResult compiled = engine::compile(parsed, compile_options);
  std::string diagnostics = compiled.format_diagnostics();
  // SCRIPT_FUZZ_VERBOSE=1 bin/script_compile_fuzz file...: shows what a seed compiles to.
  static const bool verbose = std::getenv("SCRIPT_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s", diagnostics.c_str());
  if (!compiled.ok()) return 0;
  const engine::Program& program = *compiled.program;
  if (program.request_route < 0) return 0;

  engine::DryRunHost host(invite().clone(), engine::Peer{"udp", "192.0.2.10", 5060},
                          engine::Peer{"udp", "127.0.0.1", 5060}, program.aliases);
  host.program = &program;
  // The trace formats every step: that code is part of the dry run, so it is fuzzed too.
  engine::Trace trace;
  host.set_trace(&trace);
  engine::ExecutionContext ctx(program, host);
  ctx.trace = &trace;
  engine::RunOutcome outcome = engine::run_route(ctx, program.request_route);
  std::string_view wire = host.message().wire();
  if (verbose) {
    std::fprintf(stderr, "%sreturned %d, %zu actions, %zu bytes\n", trace.out.c_str(), outcome.ret,
                 host.actions().size(), wire.size());
  }
  return 0;
}
