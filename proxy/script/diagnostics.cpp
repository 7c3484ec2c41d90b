// Diagnostics collection with an error cap, and their "file:line:col: message" rendering.
#include "proxy/script/diagnostics.h"

namespace strowger::proxy::script {

void Diagnostics::error(SourceLoc loc, std::string message) {
  if (full_) return;
  if (errors_ >= max_errors_) {
    full_ = true;
    list_.push_back({Severity::kError, loc, "too many errors, stopping"});
    return;
  }
  ++errors_;
  list_.push_back({Severity::kError, loc, std::move(message)});
}

void Diagnostics::warning(SourceLoc loc, std::string message) {
  if (full_) return;
  list_.push_back({Severity::kWarning, loc, std::move(message)});
}

std::string format_diagnostic(const Diagnostic& d, const SourceMap& sources) {
  std::string out = sources.format(d.loc);
  out += d.severity == Severity::kWarning ? ": warning: " : ": ";
  out += d.message;
  return out;
}

}  // namespace strowger::proxy::script
