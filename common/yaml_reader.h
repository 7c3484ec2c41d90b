// YamlReader: typed reads of a YAML config with errors that name file:line (ConfigError);
// unknown and repeated keys are errors. Shared by sipproxy.yaml and rtprelay.yaml; the includer
// links yaml-cpp.
#pragma once
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "common/log.h"
#include "common/yaml_config.h"

namespace strowger::common {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& msg) const {
    throw ConfigError(file_, at.Mark().line + 1, msg);
  }

  // Unknown keys are errors (a typo must not be ignored), and so are repeated ones: yaml-cpp
  // would silently keep the first.
  void only_keys(const YAML::Node& map, const std::set<std::string>& known,
                 const std::string& section) const {
    if (!map.IsMap()) fail(map, section + " must be a mapping");
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      if (!known.count(key)) fail(kv.first, "unknown setting '" + key + "' in " + section);
      if (!seen.insert(key).second) fail(kv.first, "'" + key + "' is set twice in " + section);
    }
  }

  std::string str(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) fail(n, what + " must be a string");
    return n.as<std::string>();
  }

  long integer(const YAML::Node& n, const std::string& what, long lo, long hi) const {
    if (!n.IsScalar()) fail(n, what + " must be a number");
    long v = 0;
    try {
      v = n.as<long>();
    } catch (const YAML::Exception&) {
      fail(n, what + " must be a number, not '" + n.as<std::string>() + "'");
    }
    if (v < lo || v > hi)
      fail(n, what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& what) const {
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(n, what + " must be true or false");
    }
  }

  // The `log: {level, format}` section both daemons share.
  void log_section(const YAML::Node& log, LogLevel* level, LogFormat* format) const {
    only_keys(log, {"level", "format"}, "log");
    if (log["level"]) {
      const std::string text = str(log["level"], "log level");
      if (!parse_log_level(text, level))
        fail(log["level"], "log level must be debug, info, notice, warn or error");
    }
    if (log["format"]) {
      const std::string text = str(log["format"], "log format");
      if (text != "text" && text != "json") fail(log["format"], "log format must be text or json");
      *format = text == "json" ? LogFormat::kJson : LogFormat::kText;
    }
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace strowger::common
