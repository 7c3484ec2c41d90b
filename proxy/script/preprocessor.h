// Preprocessor: #!define/#!ifdef/#!subst/include handling that turns script files into tokens.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/script/diagnostics.h"
#include "proxy/script/lexer.h"
#include "proxy/script/subst.h"
#include "proxy/script/token.h"

namespace strowger::proxy::script {

// Reads a file for the preprocessor; nullopt when it cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
// Reads regular files from disk (at most 16 MiB).
std::optional<std::string> read_file_from_disk(const std::string& path);

struct PreprocessOptions {
  // -D NAME[=value] from the caller; an empty value defines the name without a value.
  std::vector<std::pair<std::string, std::string>> defines;
  FileReader read_file = read_file_from_disk;
  std::size_t max_tokens = 2'000'000;  // after define expansion; beyond is an error
  int max_include_depth = 16;
  int max_included_files = 256;  // in total: includes can fan out exponentially
};

struct Define {
  std::string value;
  bool has_value = false;
  SourceLoc loc;  // where it was defined (file "<command line>" for -D)
};

// Kamailio's preprocessing, applied while lexing as Kamailio does: identifiers equal to a
// define with a value are replaced by the tokens of that value (recursively, never inside
// strings), #!subst rules rewrite every later string and pvar token, includes are read
// relative to the including file, and inactive #!ifdef branches are skipped unlexed.
class Preprocessor {
 public:
  Preprocessor(SourceMap& sources, Diagnostics& diags, PreprocessOptions options);

  // Tokens of `path` and what it includes, ending with one kEnd token.
  std::vector<Token> run_file(const std::string& path);
  // Same for text held in memory; `name` is shown in messages and anchors relative includes.
  std::vector<Token> run_text(std::string_view text, const std::string& name);

  const std::map<std::string, Define>& defines() const { return defines_; }

 private:
  struct IfLevel {
    bool parent_active = true;
    bool condition = true;
    bool seen_else = false;
    SourceLoc loc;
  };
  struct Frame {  // a file being read
    std::string path;
    std::string canonical;
    SourceLoc included_at;
  };

  void add_command_line_defines();
  void process(std::string_view text, std::uint32_t file, int depth);
  void directive(const Directive& d, std::vector<IfLevel>& ifs, int depth);
  void define(const Directive& d);
  void subst(const Directive& d, const Token& rule_text);
  void include(const Directive& d, int depth);
  void emit(Token token, int expansion_depth);
  void finish_string(Token& token);
  bool limit_reached();

  SourceMap& sources_;
  Diagnostics& diags_;
  PreprocessOptions options_;
  std::map<std::string, Define> defines_;
  std::vector<SubstRule> rules_;
  std::vector<Frame> stack_;
  std::vector<std::string> expanding_;  // defines being expanded (recursion guard)
  std::vector<Token> out_;
  bool stopped_ = false;
  int included_files_ = 0;
  SourceLoc last_end_;  // end of the main file, for the final kEnd token
};

}  // namespace strowger::proxy::script
