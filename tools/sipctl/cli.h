// sipctl's command line: options, which daemon to talk to, and arguments turned into params.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace strowger::tools::sipctl {

using Json = nlohmann::json;

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;  // the daemon answered with a JSON-RPC error
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCannotConnect = 3;
inline constexpr int kExitNoAnswer = 4;  // timeout, closed without answer, or not JSON-RPC

// A daemon sipctl can drive. `sipctl COMMAND` talks to sipproxy, `sipctl relay COMMAND` to
// rtprelay; a third daemon is one more entry in kTargets (cli.cpp).
struct Target {
  std::string_view word;  // the word that selects it on the command line ("" = the default)
  std::string_view daemon;
  std::string_view default_socket;
  std::string_view socket_env;
};

struct Invocation {
  const Target* target = nullptr;
  std::string socket_path;
  bool json_output = false;
  int timeout_ms = 30'000;
  std::string method;
  Json params;  // null (no arguments), an array (positional) or an object (key=value)
};

struct CommandLine {
  enum class Kind { kRun, kHelp, kUsageError };
  Kind kind = Kind::kUsageError;
  Invocation invocation;
  std::string error;  // for kUsageError
};

using GetEnv = std::function<const char*(const char* name)>;

// args excludes argv[0]. Options come before the command; everything after it is an argument.
CommandLine parse_command_line(const std::vector<std::string>& args, const GetEnv& getenv);

// Turns COMMAND's arguments into params: positional arguments make an array, key=value
// arguments an object (key:=JSON takes a raw JSON value). Returns false with `error` set when
// the two kinds are mixed, a key repeats or a raw value is not JSON.
bool parse_params(const std::vector<std::string>& args, Json* params, std::string* error);

// "42" and "-1.5" become numbers, "true"/"false" booleans; anything else (including "0123",
// which is a phone number, and integers too large to keep exactly) stays a string.
Json argument_value(std::string_view text);

std::string help_text();

}  // namespace strowger::tools::sipctl
