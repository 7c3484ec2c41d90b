// Diagnostics: errors and warnings of the script front end, each with a source location.
#pragma once
#include <string>
#include <vector>

#include "proxy/script/source.h"

namespace strowger::proxy::script {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLoc loc;
  std::string message;
};

// Collects diagnostics up to a cap on errors; once the cap is hit one last "too many errors"
// entry is added and full() tells the producers to stop.
class Diagnostics {
 public:
  explicit Diagnostics(std::size_t max_errors = 50) : max_errors_(max_errors) {}

  void error(SourceLoc loc, std::string message);
  void warning(SourceLoc loc, std::string message);
  bool full() const { return full_; }
  std::size_t error_count() const { return errors_; }
  const std::vector<Diagnostic>& list() const { return list_; }
  std::vector<Diagnostic> take() { return std::move(list_); }

 private:
  std::size_t max_errors_;
  std::size_t errors_ = 0;
  bool full_ = false;
  std::vector<Diagnostic> list_;
};

// "file:line:col: message" or "file:line:col: warning: message".
std::string format_diagnostic(const Diagnostic& d, const SourceMap& sources);

}  // namespace strowger::proxy::script
