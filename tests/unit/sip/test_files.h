// Test helpers: read corpus files and the manifest of the SIP torture corpus.
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace strowger::proxy::sip::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string torture_path(const std::string& name) {
  return std::string(TORTURE_DIR) + "/" + name;
}

struct ManifestRow {
  std::string file, section, expected, kind, action;
};

inline std::vector<ManifestRow> read_manifest() {
  std::vector<ManifestRow> rows;
  std::istringstream in(read_file(torture_path("MANIFEST.tsv")));
  std::string line;
  std::getline(in, line);  // header row
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      std::size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() >= 5) rows.push_back({cols[0], cols[1], cols[2], cols[3], cols[4]});
  }
  return rows;
}

}  // namespace strowger::proxy::sip::testing
