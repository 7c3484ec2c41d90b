// RoutingScript: compile, check against the YAML, install in the workers.
#include "proxy/core/routing_script.h"

#include <algorithm>
#include <sstream>

#include "common/log.h"
#include "proxy/module/registry.h"
#include "proxy/script/engine/compiler.h"

namespace strowger::proxy::core {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "udp:127.0.0.1:5060", "127.0.0.1", "tcp:[::1]:5061", "127.0.0.1:5060" -> parts.
struct SocketText {
  std::string proto;  // empty: any
  std::string host;
  int port = 5060;
};

std::optional<SocketText> parse_socket(std::string text) {
  SocketText s;
  for (const char* p : {"udp:", "tcp:", "tls:", "ws:", "wss:", "sctp:"}) {
    if (lower(text).rfind(p, 0) == 0) {
      s.proto = std::string(p, std::char_traits<char>::length(p) - 1);
      text.erase(0, s.proto.size() + 1);
      break;
    }
  }
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    s.host = text.substr(1, close - 1);
    text.erase(0, close + 1);
    if (!text.empty() && text.front() == ':') s.port = std::atoi(text.c_str() + 1);
    return s;
  }
  const std::size_t colon = text.rfind(':');
  if (colon != std::string::npos && text.find(':') == colon) {
    s.host = text.substr(0, colon);
    s.port = std::atoi(text.c_str() + colon + 1);
  } else {
    s.host = text;
  }
  return s;
}

}  // namespace

std::vector<std::string> check_script_settings(const script::engine::Program& program,
                                               const script::SourceMap& sources,
                                               const config::ProxyConfig& config) {
  std::vector<std::string> errors;
  const std::string yaml = config.file.empty() ? "the built-in config" : config.file;
  auto error = [&](const script::engine::Program::Setting& s, const std::string& why) {
    errors.push_back(sources.format(s.loc) + ": " + s.name + "=" + s.value + " " + why);
  };
  auto has_listen = [&](const SocketText& want) {
    return std::any_of(config.listen.begin(), config.listen.end(), [&](const config::Listen& l) {
      const std::string proto = lower(std::string(transport::protocol_name(l.proto)));
      return (want.proto.empty() || want.proto == proto) && want.host == l.address &&
             want.port == l.port;
    });
  };
  for (const auto& s : program.settings) {
    if (s.name == "listen") {
      std::string rest = s.value;
      // "listen=udp:1.2.3.4:5060 advertise 5.6.7.8:5060": the socket is the first word.
      std::string first = rest.substr(0, rest.find(' '));
      std::optional<SocketText> want = parse_socket(first);
      if (!want || !has_listen(*want)) {
        error(s, "is not a listen socket of " + yaml +
                     ": sockets are configured under 'listen' in the YAML (one setting, one home)");
      }
    } else if (s.name == "port") {
      const int port = std::atoi(s.value.c_str());
      if (std::none_of(config.listen.begin(), config.listen.end(),
                       [port](const config::Listen& l) { return l.port == port; })) {
        error(s, "conflicts with " + yaml + ": no listen socket uses port " + s.value);
      }
    } else if (s.name == "children") {
      const int n = std::atoi(s.value.c_str());
      if (n != config.workers) {
        error(s, "conflicts with " + yaml + " (workers: " + std::to_string(config.workers) +
                     (config.workers == 0 ? ", one per core" : "") +
                     "): set the number of workers in the YAML");
      }
    } else if (s.name == "alias") {
      std::istringstream words(s.value);
      for (std::string word; words >> word;) {
        std::optional<SocketText> a = parse_socket(word);
        const std::string host = a ? a->host : word;
        if (std::find(config.aliases.begin(), config.aliases.end(), host) == config.aliases.end()) {
          error(s, "is not among the aliases of " + yaml +
                       ": add it under 'aliases' in the YAML (one setting, one home)");
          break;
        }
      }
    } else if (s.name == "advertised_address" || s.name == "advertised_port") {
      error(s, "has its home in " + yaml + ": set 'advertise' on the listen socket");
    }
  }
  return errors;
}

ScriptLoad RoutingScript::load(bool workers_running) {
  std::lock_guard<std::mutex> lock(mutex_);
  ScriptLoad result;
  script::engine::CompileOptions options;
  if (current_) options.shared_vars = current_->shared_vars;  // $shv survives a reload
  script::engine::CompileResult compiled =
      script::engine::compile_file(config_.script.file, config_.script.defines, options);
  result.diagnostics = compiled.format_diagnostics();
  if (!compiled.ok()) {
    result.generation = generation_;
    return result;
  }
  std::vector<std::string> conflicts =
      check_script_settings(*compiled.program, *compiled.sources, config_);
  if (!conflicts.empty()) {
    for (const std::string& e : conflicts) result.diagnostics += e + "\n";
    result.generation = generation_;
    return result;
  }
  if (workers_running) {
    // A module runs from the start (its init, its workers' state): a reload cannot add one.
    for (const sipproxy::ModuleDescriptor* d : compiled.program->module_descriptors) {
      const module::LoadedModule* m = module::ModuleRegistry::instance().find(d->name);
      if (m == nullptr || !m->initialized) {
        result.diagnostics += config_.script.file + ": module " + d->name +
                              " was not loaded at start-up: restart sipproxy to load it\n";
        result.generation = generation_;
        return result;
      }
    }
  }
  current_ = compiled.program;
  result.ok = true;
  result.generation = ++generation_;
  for (auto& w : group_.workers) {
    Worker* worker = w.get();
    if (workers_running) {
      std::shared_ptr<const script::engine::Program> program = current_;
      worker->post_task([worker, program] { worker->set_program(program); });
    } else {
      worker->set_program(current_);
    }
  }
  return result;
}

}  // namespace strowger::proxy::core
