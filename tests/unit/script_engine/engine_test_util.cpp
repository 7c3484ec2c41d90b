// Engine test helpers: snippet compilation and execution over a DryRunHost.
#include "tests/unit/script_engine/engine_test_util.h"

#include "proxy/script/engine/dry_run.h"

namespace strowger::proxy::script::engine::test {

const char* const kInvite =
    "INVITE sip:bob@example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\n"
    "Max-Forwards: 70\n"
    "From: \"Alice A\" <sip:alice@example.org>;tag=ft1\n"
    "To: <sip:bob@example.com>\n"
    "Call-ID: call-1@192.0.2.10\n"
    "CSeq: 7 INVITE\n"
    "Contact: <sip:alice@192.0.2.10:5060>\n"
    "User-Agent: TestUA/1.0\n"
    "X-Multi: one\n"
    "X-Multi: two\n"
    "\n";

std::string errors(std::string_view script) {
  auto r = compile_text(script, "t.cfg");
  return r.format_diagnostics();
}

std::unique_ptr<Run> run(std::string_view body, std::string_view message, std::string_view extra) {
  auto r = std::make_unique<Run>();
  std::string text = std::string(extra) + "\nrequest_route {\n" + std::string(body) + "\n}\n";
  auto compiled = compile_text(text, "t.cfg");
  if (!compiled.ok()) {
    r->error = compiled.format_diagnostics();
    return r;
  }
  r->program = compiled.program;
  auto msg = sip::Message::parse(normalize_message_text(std::string(message)));
  if (!msg.ok()) {
    r->error = "message: " + msg.error().message;
    return r;
  }
  r->host = std::make_unique<DryRunHost>(std::move(msg.value()), Peer{"udp", "192.0.2.10", 5060},
                                         Peer{"udp", "127.0.0.1", 5060}, r->program->aliases);
  r->host->program = r->program.get();
  r->host->set_trace(&r->trace);
  r->ctx = std::make_unique<ExecutionContext>(*r->program, *r->host);
  r->ctx->trace = &r->trace;
  r->outcome = run_route(*r->ctx, r->program->request_route);
  return r;
}

std::string eval(std::string_view expr, std::string_view message) {
  auto r = run("$var(r) = " + std::string(expr) + ";", message);
  if (!r->error.empty()) return "ERR " + r->error;
  auto it = r->ctx->vars.find("r");
  return it == r->ctx->vars.end() ? "unset" : it->second.repr();
}

}  // namespace strowger::proxy::script::engine::test
