// Regex: the one RAII wrapper of POSIX <regex.h> (extended syntax), compiled once, reused.
#pragma once
#include <regex.h>

#include <memory>
#include <string>
#include <string_view>

namespace strowger::proxy::script {

class Regex {
 public:
  enum Flags : int { kNone = 0, kIgnoreCase = 1, kNewlineSensitive = 2 };

  // Compiles `pattern`; on failure returns null and sets *error. Patterns whose repetition
  // counts would make the compiled automaton huge, and back-references (exponential matching
  // in glibc), are refused so a script cannot stall the process.
  static std::unique_ptr<Regex> compile(std::string_view pattern, int flags, std::string* error);

  ~Regex() {
    if (compiled_) regfree(&re_);
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // True when the pattern matches anywhere in `subject` (stops at an embedded NUL, as C does).
  bool search(const std::string& subject) const;
  // regexec() on a NUL-terminated subject; match[0..n) filled as by POSIX.
  bool exec(const char* subject, std::size_t n, regmatch_t* match, int eflags) const {
    return regexec(&re_, subject, n, match, eflags) == 0;
  }
  std::size_t groups() const { return re_.re_nsub; }

 private:
  Regex() = default;
  regex_t re_{};
  bool compiled_ = false;
};

}  // namespace strowger::proxy::script
