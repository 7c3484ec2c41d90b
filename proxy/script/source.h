// SourceLoc and SourceMap: where a token came from (file, line, column) and the files of a script.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strowger::proxy::script {

struct SourceLoc {
  std::uint32_t file = 0;  // index into the SourceMap of the parse
  std::uint32_t line = 0;  // 1-based; 0 when unknown
  std::uint32_t col = 0;   // 1-based byte column (a tab counts as one, as in Kamailio)
  bool valid() const { return line != 0; }
};

// The files (and pseudo files such as "<command line>") a script was read from. Locations
// refer to them by index so tokens and AST nodes stay small.
class SourceMap {
 public:
  std::uint32_t add(std::string path) {
    paths_.push_back(std::move(path));
    return static_cast<std::uint32_t>(paths_.size() - 1);
  }
  const std::string& path(std::uint32_t file) const {
    static const std::string kUnknown = "<unknown>";
    return file < paths_.size() ? paths_[file] : kUnknown;
  }
  std::size_t size() const { return paths_.size(); }
  // "file:line:col" (or "file" when the location has no line).
  std::string format(SourceLoc loc) const {
    std::string out = path(loc.file);
    if (loc.valid()) {
      out += ':' + std::to_string(loc.line) + ':' + std::to_string(loc.col);
    }
    return out;
  }

 private:
  std::vector<std::string> paths_;
};

}  // namespace strowger::proxy::script
