// compile(): turns a parsed script (ParseResult) into an immutable Program, reporting every error.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/script/diagnostics.h"
#include "proxy/script/engine/program.h"
#include "proxy/script/parser.h"

namespace strowger::proxy::script::engine {

struct CompileOptions {
  // Keep $shv values across a reload: pass the running program's table.
  std::shared_ptr<SharedVars> shared_vars;
  // Program::max_run_steps (the fuzzer lowers it to keep each input fast).
  std::uint32_t max_run_steps = 1'000'000;
};

struct CompileResult {
  std::shared_ptr<const Program> program;  // null when there are errors
  std::vector<Diagnostic> diagnostics;     // parse diagnostics first, then the compiler's
  std::shared_ptr<const SourceMap> sources;
  bool ok() const { return program != nullptr; }
  std::string format_diagnostics() const;  // "file:line:col: message" lines
};

CompileResult compile(const ParseResult& parsed, const CompileOptions& options = {});

// Parse + compile a file / a text (tests), with -D defines.
CompileResult compile_file(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& defines,
                           const CompileOptions& options = {});
CompileResult compile_text(std::string_view text, const std::string& name = "<string>",
                           const CompileOptions& options = {});

}  // namespace strowger::proxy::script::engine
