// parse_script: the script front end's entry point (preprocess, lex, parse into a Script AST).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/script/ast.h"
#include "proxy/script/diagnostics.h"
#include "proxy/script/preprocessor.h"

namespace strowger::proxy::script {

struct ParseOptions {
  // -D NAME[=value]; an empty value defines NAME without a value (enough for #!ifdef).
  std::vector<std::pair<std::string, std::string>> defines;
  FileReader read_file = read_file_from_disk;  // tests and the fuzzer plug in their own
  std::size_t max_errors = 50;                 // then "too many errors, stopping"
  int max_nesting = 100;                       // blocks, parentheses and unary operators
  std::size_t max_tokens = 2'000'000;          // after define expansion
};

struct ParseResult {
  Script script;  // what could be parsed, even when there are errors
  std::shared_ptr<const SourceMap> sources;
  std::vector<Diagnostic> diagnostics;  // in the order found
  std::size_t error_count = 0;

  bool ok() const { return error_count == 0; }
  std::string where(SourceLoc loc) const { return sources->format(loc); }  // "file:line:col"
  // Every diagnostic as "file:line:col: message", one per line.
  std::string format_diagnostics() const;
};

ParseResult parse_script(const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& defines);
ParseResult parse_script_file(const std::string& path, const ParseOptions& options);
// `name` is used in messages and as the base of relative includes.
ParseResult parse_script_text(std::string_view text, const std::string& name = "<string>",
                              const ParseOptions& options = {});

}  // namespace strowger::proxy::script
