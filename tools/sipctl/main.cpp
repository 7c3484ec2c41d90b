// sipctl: the operator's command line for sipproxy and rtprelay (JSON-RPC over a Unix socket).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/sipctl/cli.h"
#include "tools/sipctl/render.h"
#include "tools/sipctl/rpc_client.h"

namespace sipctl = strowger::tools::sipctl;
using sipctl::Json;

namespace {

std::string connect_hint(int err, const sipctl::Target& target) {
  if (err == ENOENT || err == ECONNREFUSED) {
    return " (is " + std::string(target.daemon) + " running?)";
  }
  if (err == EACCES || err == EPERM) return " (check the socket's group and your membership)";
  return std::string();
}

int run(const sipctl::Invocation& inv) {
  const std::string& path = inv.socket_path;
  auto connection = sipctl::RpcConnection::connect(path, inv.timeout_ms);
  if (!connection) {
    const auto& err = connection.error();
    std::cerr << "sipctl: cannot connect to " << path << ": " << err.message
              << connect_hint(err.code, *inv.target) << "\n";
    return sipctl::kExitCannotConnect;
  }
  Json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", inv.method}};
  if (!inv.params.is_null()) request["params"] = inv.params;
  auto line = connection->call(request.dump(-1, ' ', false, Json::error_handler_t::replace),
                               inv.timeout_ms);
  if (!line) {
    std::cerr << "sipctl: " << path << ": " << line.error().message << "\n";
    return sipctl::kExitNoAnswer;
  }
  Json answer = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object() ||
      (!answer.contains("result") && !answer.contains("error"))) {
    std::cerr << "sipctl: " << path << ": the answer is not a JSON-RPC response\n";
    return sipctl::kExitNoAnswer;
  }
  if (auto error = answer.find("error"); error != answer.end()) {
    const Json code = error->is_object() ? error->value("code", Json()) : Json();
    const Json message = error->is_object() ? error->value("message", Json()) : Json();
    std::cerr << "error " << (code.is_number() ? code.dump() : "?") << ": "
              << (message.is_string() ? message.get<std::string>() : error->dump()) << "\n";
    if (error->is_object() && error->contains("data")) {
      std::cerr << (*error)["data"].dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    }
    return sipctl::kExitServerError;
  }
  const Json& result = answer["result"];
  if (inv.json_output) {
    std::cout << result.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    std::cout << sipctl::render_text(result);
  }
  return sipctl::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto command_line =
      sipctl::parse_command_line(args, [](const char* name) { return std::getenv(name); });
  switch (command_line.kind) {
    case sipctl::CommandLine::Kind::kHelp:
      std::cout << sipctl::help_text();
      return sipctl::kExitOk;
    case sipctl::CommandLine::Kind::kUsageError:
      std::cerr << "sipctl: " << command_line.error << "\nTry 'sipctl --help'.\n";
      return sipctl::kExitUsage;
    case sipctl::CommandLine::Kind::kRun:
      break;
  }
  return run(command_line.invocation);
}
