// run_dry_run and run_check: the operator tools over the compiler, runtime and DryRunHost.
#include "proxy/script/engine/dry_run.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "proxy/script/engine/compile_env.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run_host.h"
#include "proxy/script/engine/message_text.h"
#include "proxy/script/engine/runtime.h"

namespace strowger::proxy::script::engine {
namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "ip:port/proto", "[v6]:port/proto", "ip:port" (udp), "ip" (port 5060).
std::optional<Peer> parse_peer(const std::string& text, const char* dflt_proto) {
  Peer p;
  std::string rest = text;
  auto slash = rest.find('/');
  p.proto = dflt_proto;
  if (slash != std::string::npos) {
    p.proto = to_lower(rest.substr(slash + 1));
    rest.resize(slash);
  }
  if (p.proto != "udp" && p.proto != "tcp" && p.proto != "tls" && p.proto != "ws" &&
      p.proto != "wss" && p.proto != "sctp") {
    return std::nullopt;
  }
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    p.ip = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      port = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.find(':');
    p.ip = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (p.ip.empty()) return std::nullopt;
  p.port = 5060;
  if (!port.empty()) {
    auto n = parse_int(port);
    if (!n || *n < 1 || *n > 65535) return std::nullopt;
    p.port = static_cast<std::uint16_t>(*n);
  }
  return p;
}

}  // namespace

std::string normalize_message_text(std::string text) {
  if (text.find('\r') == std::string::npos) {
    std::string crlf;
    for (char c : text) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    text = std::move(crlf);
  }
  if (text.find("\r\n\r\n") == std::string::npos) {
    while (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0)
      text.resize(text.size() - 2);
    text += "\r\n\r\n";
  }
  return fix_content_length(std::move(text));
}

int run_dry_run(const DryRunOptions& o, std::ostream& out) {
  auto compiled = compile_file(o.script_path, o.defines);
  if (!compiled.ok()) {
    out << compiled.format_diagnostics();
    return 1;
  }
  auto text = read_text(o.message_path);
  if (!text) {
    out << o.message_path << ": cannot read the message file\n";
    return 2;
  }
  auto parsed = sip::Message::parse(normalize_message_text(std::move(*text)));
  if (!parsed.ok()) {
    out << o.message_path << ": not a SIP message: " << parsed.error().message << "\n";
    return 2;
  }
  auto source = parse_peer(o.from, "udp");
  auto local = parse_peer(o.local, source ? source->proto.c_str() : "udp");
  if (!source || !local) {
    out << "--from/--local: expected ip:port/proto (udp, tcp, tls, ws, wss, sctp)\n";
    return 2;
  }
  local->proto = source->proto;
  const Program& program = *compiled.program;
  DryRunHost host(std::move(parsed.value()), *source, *local, program.aliases);
  host.program = &program;
  Trace trace;
  host.set_trace(&trace);
  ExecutionContext ctx(program, host);
  ctx.trace = &trace;

  bool request = host.message().is_request();
  out << "message: "
      << (request ? std::string(host.message().method_name()) + " " +
                        host.message().request_uri().to_string()
                  : std::to_string(host.message().status()) + " " +
                        std::string(host.message().reason()))
      << " from " << source->proto << ":" << source->ip << ":" << source->port << "\n";
  int route = request ? program.request_route : program.reply_route;
  if (route < 0) {
    out << "no reply_route: the reply is forwarded as received\n";
    return 0;
  }
  RunOutcome outcome = run_route(ctx, route);
  out << trace.out;
  out << "route returned " << outcome.ret << (outcome.exited ? " (exit)" : "")
      << (outcome.dropped ? " (drop)" : "") << "\n";
  if (!ctx.dst_uri.empty()) out << "$du = " << ctx.dst_uri << "\n";
  if (ctx.failure_route >= 0) {
    out << "failure route = failure_route[" << program.routes[ctx.failure_route].name << "]\n";
  }
  out << "outcome:";
  if (outcome.dropped) {
    out << " drop\n";
  } else if (host.actions().empty()) {
    out << (request ? " nothing sent (the request is ignored)\n" : " the reply is forwarded\n");
  } else {
    out << "\n";
    for (const auto& a : host.actions()) out << "  " << a << "\n";
  }
  if (host.sent_message() || (!request && !outcome.dropped)) {
    out << "--- message as the script left it (the core adds its Via when sending) ---\n";
    out << host.message().wire();
  }
  return 0;
}

int run_dry_run(const DryRunOptions& options) {
  return run_dry_run(options, std::cout);
}

int run_check(const CheckOptions& o, std::ostream& out) {
  auto compiled = compile_file(o.script_path, o.defines);
  out << compiled.format_diagnostics();
  if (!compiled.ok()) return 1;
  out << o.script_path << ": ok (" << compiled.program->routes.size() << " routes)\n";
  return 0;
}

int run_check(const CheckOptions& options) {
  return run_check(options, std::cout);
}

}  // namespace strowger::proxy::script::engine
