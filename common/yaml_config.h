// Helpers for reading YAML config files with errors that name file:line.
#pragma once
#include <stdexcept>
#include <string>

namespace YAML {
class Node;
}

namespace strowger::common {

// Thrown at startup only; main() prints what() as "file:line: message" and exits 2.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& msg)
      : std::runtime_error(file + ":" + std::to_string(line) + ": " + msg) {}
};

}  // namespace strowger::common
