// Regex: POSIX extended regex compilation with guards against patterns that would stall us.
#include "proxy/script/regex.h"

#include <cctype>

namespace strowger::proxy::script {
namespace {

constexpr std::size_t kMaxPatternLength = 4096;
constexpr long kMaxRepeat = 1000;           // a single {m,n} bound
constexpr long kMaxRepeatProduct = 100000;  // all bounds multiplied: the automaton's blow-up

bool check_pattern(std::string_view p, std::string* error) {
  if (p.size() > kMaxPatternLength) {
    *error = "regular expression longer than " + std::to_string(kMaxPatternLength) + " bytes";
    return false;
  }
  long product = 1;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      if (p[i + 1] >= '1' && p[i + 1] <= '9') {
        *error = "back-references (\\1..\\9) are not supported in regular expressions";
        return false;
      }
      ++i;
      continue;
    }
    if (p[i] != '{') continue;
    std::size_t j = i + 1;
    long bound = 0;
    bool digits = false;
    while (j < p.size() && (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ',')) {
      if (p[j] == ',') {
        bound = 0;  // the upper bound (or m+1 for "{m,}") decides the size
      } else {
        digits = true;
        bound = bound * 10 + (p[j] - '0');
        if (bound > kMaxRepeat) break;
      }
      ++j;
    }
    if (!digits) continue;
    if (bound > kMaxRepeat) {
      *error = "repetition count above " + std::to_string(kMaxRepeat) + " in regular expression";
      return false;
    }
    product *= bound + 1;
    if (product > kMaxRepeatProduct) {
      *error = "regular expression repetitions too large";
      return false;
    }
  }
  return true;
}

}  // namespace

std::unique_ptr<Regex> Regex::compile(std::string_view pattern, int flags, std::string* error) {
  if (!check_pattern(pattern, error)) return nullptr;
  std::string nul_terminated(pattern);
  int cflags = REG_EXTENDED;
  if (flags & kIgnoreCase) cflags |= REG_ICASE;
  if (flags & kNewlineSensitive) cflags |= REG_NEWLINE;
  std::unique_ptr<Regex> re(new Regex());
  int rc = regcomp(&re->re_, nul_terminated.c_str(), cflags);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &re->re_, buf, sizeof buf);
    *error = buf;
    return nullptr;  // not compiled: the destructor does not regfree
  }
  re->compiled_ = true;
  return re;
}

bool Regex::search(const std::string& subject) const {
  return regexec(&re_, subject.c_str(), 0, nullptr, 0) == 0;
}

}  // namespace strowger::proxy::script
