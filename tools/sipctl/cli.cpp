// sipctl command-line parsing: options, daemon selection, and arguments to JSON-RPC params.
#include "tools/sipctl/cli.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace strowger::tools::sipctl {
namespace {

constexpr Target kTargets[] = {
    {"", "sipproxy", "/run/strowger/sipproxy.sock", "STROWGER_SIPPROXY_SOCKET"},
    {"relay", "rtprelay", "/run/strowger/rtprelay.sock", "STROWGER_RTPRELAY_SOCKET"},
};

struct CommandHelp {
  std::string_view target;  // Target::word
  std::string_view command;
  std::string_view text;
};

// The commands an operator reaches for first; `rpc.methods` lists all a daemon offers.
constexpr CommandHelp kCommonCommands[] = {
    {"", "core.version", "version and build of the daemon"},
    {"", "core.uptime", "when it started and for how long it has run"},
    {"", "core.stats", "counters: transactions, messages, connections"},
    {"", "rpc.methods", "every command this daemon offers"},
    {"relay", "core.version", "version and build of rtprelay"},
    {"relay", "core.stats", "counters: sessions, packets, bytes"},
    {"relay", "rpc.methods", "every command rtprelay offers"},
};

bool is_key(std::string_view key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

bool parse_timeout(std::string_view text, int* ms) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(seconds > 0) || seconds > 86400) {
    return false;
  }
  *ms = std::max(1, static_cast<int>(seconds * 1000));
  return true;
}

CommandLine usage_error(std::string message) {
  CommandLine out;
  out.kind = CommandLine::Kind::kUsageError;
  out.error = std::move(message);
  return out;
}

}  // namespace

Json argument_value(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (text.empty()) return std::string();
  const char first = text[0];
  const bool numeric_start = std::isdigit(static_cast<unsigned char>(first)) || first == '-';
  if (!numeric_start || text.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
    return std::string(text);
  }
  Json number = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (number.is_discarded() || !number.is_number()) return std::string(text);
  // An integer too large for 64 bits comes back as a double: keep its digits instead.
  if (number.is_number_float() && text.find_first_of(".eE") == std::string_view::npos) {
    return std::string(text);
  }
  return number;
}

bool parse_params(const std::vector<std::string>& args, Json* params, std::string* error) {
  *params = Json();
  if (args.empty()) return true;
  Json positional = Json::array();
  Json named = Json::object();
  for (const std::string& arg : args) {
    auto eq = arg.find('=');
    bool raw = eq != std::string::npos && eq > 0 && arg[eq - 1] == ':';
    std::string_view key =
        eq == std::string::npos ? std::string_view() : std::string_view(arg).substr(0, eq - raw);
    if (eq == std::string::npos || !is_key(key)) {
      positional.push_back(argument_value(arg));
      continue;
    }
    std::string name(key);
    if (named.contains(name)) {
      *error = "argument '" + name + "' given twice";
      return false;
    }
    std::string_view value = std::string_view(arg).substr(eq + 1);
    if (raw) {
      Json parsed = Json::parse(value, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        *error = "argument '" + arg + "': the value after ':=' is not JSON";
        return false;
      }
      named[name] = std::move(parsed);
    } else {
      named[name] = argument_value(value);
    }
  }
  if (!positional.empty() && !named.empty()) {
    *error = "cannot mix positional and key=value arguments";
    return false;
  }
  *params = named.empty() ? std::move(positional) : std::move(named);
  return true;
}

CommandLine parse_command_line(const std::vector<std::string>& args, const GetEnv& getenv) {
  CommandLine out;
  Invocation& inv = out.invocation;
  inv.target = &kTargets[0];
  std::string socket_option;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // 1: `arg` is option -X/--long with its value in *value; 0: another argument; -1: no value.
    auto option = [&](char short_name, const std::string& long_name, std::string* value) {
      const std::string short_flag{'-', short_name};
      const std::string long_flag = "--" + long_name;
      if (arg == short_flag || arg == long_flag) {
        if (i + 1 >= args.size()) return -1;
        *value = args[++i];
        return 1;
      }
      if (arg.rfind(long_flag + "=", 0) == 0) {
        *value = arg.substr(long_flag.size() + 1);
        return 1;
      }
      if (arg.size() > 2 && arg.rfind(short_flag, 0) == 0) {
        *value = arg.substr(2);
        return 1;
      }
      return 0;
    };
    std::string value;
    if (arg == "-h" || arg == "--help") {
      out.kind = CommandLine::Kind::kHelp;
      return out;
    }
    if (arg == "-j" || arg == "--json") {
      inv.json_output = true;
      continue;
    }
    if (int found = option('s', "socket", &value)) {
      if (found < 0 || value.empty()) return usage_error("option " + arg + " needs a socket path");
      socket_option = value;
      continue;
    }
    if (int found = option('t', "timeout", &value)) {
      if (found < 0 || !parse_timeout(value, &inv.timeout_ms)) {
        return usage_error("option " + arg + " needs a number of seconds");
      }
      continue;
    }
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() > 1 && arg[0] == '-') return usage_error("unknown option " + arg);
    if (inv.target != &kTargets[0]) break;  // the daemon is chosen: this is the command
    auto it = std::find_if(std::begin(kTargets) + 1, std::end(kTargets),
                           [&](const Target& t) { return t.word == arg; });
    if (it == std::end(kTargets)) break;  // no daemon word: this is the command
    inv.target = &*it;
  }
  if (i >= args.size()) {
    return usage_error(inv.target->word.empty()
                           ? "no command given"
                           : "no command given for " + std::string(inv.target->daemon));
  }
  inv.method = args[i];
  if (inv.method.empty()) return usage_error("empty command");
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  if (!parse_params(rest, &inv.params, &out.error)) return usage_error(out.error);

  if (!socket_option.empty()) {
    inv.socket_path = socket_option;
  } else if (const char* env = getenv(std::string(inv.target->socket_env).c_str()); env && *env) {
    inv.socket_path = env;
  } else {
    inv.socket_path = std::string(inv.target->default_socket);
  }
  out.kind = CommandLine::Kind::kRun;
  return out;
}

std::string help_text() {
  std::string s =
      "usage: sipctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [ARGS...]\n"
      "       sipctl relay [-s SOCKET] [--json] [-t SECONDS] COMMAND [ARGS...]\n"
      "\n"
      "Sends COMMAND as a JSON-RPC 2.0 call to a Strowger daemon's control socket and\n"
      "prints the result.\n"
      "\n"
      "options:\n"
      "  -s, --socket PATH   control socket (default below, or from the environment)\n"
      "  -j, --json          print the result as JSON instead of text\n"
      "  -t, --timeout SECS  how long to wait for the answer (default 30)\n"
      "  -h, --help          this text\n"
      "\n"
      "arguments:\n"
      "  VALUE ...           positional: sent as a params array\n"
      "  KEY=VALUE ...       named: sent as a params object\n"
      "  KEY:=JSON           named, with a raw JSON value (KEY:='\"1001\"' keeps a string)\n"
      "  Numbers (42, -1.5) and true/false are sent as such; 0123 stays a string.\n"
      "\n"
      "sockets:\n";
  for (const Target& t : kTargets) {
    s += "  " + std::string(t.daemon) + ": " + std::string(t.default_socket) + " (or $" +
         std::string(t.socket_env) + ")\n";
  }
  for (const Target& t : kTargets) {
    s += "\ncommon commands";
    s += t.word.empty() ? ":\n" : " (sipctl " + std::string(t.word) + " ...):\n";
    for (const CommandHelp& c : kCommonCommands) {
      if (c.target != t.word) continue;
      std::string name(c.command);
      name.resize(std::max<std::size_t>(name.size(), 18), ' ');
      s += "  " + name + "  " + std::string(c.text) + "\n";
    }
  }
  s += "\n"
       "exit status: 0 ok, 1 the daemon answered an error, 2 usage error,\n"
       "             3 cannot connect, 4 no valid answer (timeout, connection lost)\n";
  return s;
}

}  // namespace strowger::tools::sipctl
