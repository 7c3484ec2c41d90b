// SubstRule: parsing and applying sed-like substitutions (#!subst, #!substdef), as Kamailio.
#include "proxy/script/subst.h"

namespace strowger::proxy::script {
namespace {

constexpr std::size_t kMaxResult = 1 << 20;
constexpr std::size_t kGroups = 10;

// Position of the next separator in s[from..] not preceded by '\' (Kamailio's rule).
std::size_t find_separator(std::string_view s, std::size_t from, char sep) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == sep && (i == 0 || s[i - 1] != '\\')) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<SubstRule> SubstRule::parse(std::string_view expr, std::string* error) {
  if (expr.size() < 3) {
    *error = "substitution expression too short";
    return std::nullopt;
  }
  char sep = expr[0];
  if (sep == '\\') {
    *error = "'\\' cannot be the separator of a substitution";
    return std::nullopt;
  }
  std::size_t re_end = find_separator(expr, 1, sep);
  if (re_end == std::string_view::npos) {
    *error = std::string("missing '") + sep + "' after the regular expression";
    return std::nullopt;
  }
  // The replacement ends at the first separator that is not the second char of an escape.
  std::size_t repl_end = std::string_view::npos;
  bool escape = false;
  for (std::size_t i = re_end + 1; i < expr.size(); ++i) {
    if (escape) {
      escape = false;
    } else if (expr[i] == '\\') {
      escape = true;
    } else if (expr[i] == sep) {
      repl_end = i;
      break;
    }
  }
  if (repl_end == std::string_view::npos) {
    *error = std::string("missing '") + sep + "' after the replacement";
    return std::nullopt;
  }
  SubstRule rule;
  rule.pattern_ = std::string(expr.substr(1, re_end - 1));
  rule.replacement_ = std::string(expr.substr(re_end + 1, repl_end - re_end - 1));
  int flags = Regex::kNewlineSensitive;
  for (char f : expr.substr(repl_end + 1)) {
    if (f == 'i') {
      flags |= Regex::kIgnoreCase;
    } else if (f == 's') {
      flags &= ~Regex::kNewlineSensitive;
    } else if (f == 'g') {
      rule.global_ = true;
    } else {
      *error = std::string("unknown substitution flag '") + f + "'";
      return std::nullopt;
    }
  }
  std::string re_error;
  auto re = Regex::compile(rule.pattern_, flags, &re_error);
  if (!re) {
    *error = "bad regular expression '" + rule.pattern_ + "': " + re_error;
    return std::nullopt;
  }
  rule.re_ = std::move(re);
  return rule;
}

bool SubstRule::apply(std::string* text, std::string* error) const {
  std::string out;
  const char* base = text->c_str();
  const char* p = base;
  const char* end = base + text->size();
  regmatch_t m[kGroups];
  int eflags = 0;
  bool changed = false;
  while ((p < end || !changed) && re_->exec(p, kGroups, m, eflags)) {
    if (m[0].rm_so == m[0].rm_eo) {
      *error = "substitution '" + pattern_ + "' matched an empty string";
      return false;
    }
    out.append(p, m[0].rm_so);
    for (std::size_t i = 0; i < replacement_.size(); ++i) {
      char c = replacement_[i];
      if (c != '\\' || i + 1 >= replacement_.size()) {
        out += c;
        continue;
      }
      char n = replacement_[++i];
      if (n >= '0' && n <= '9') {
        std::size_t g = static_cast<std::size_t>(n - '0');
        if (g <= re_->groups() && m[g].rm_so >= 0)
          out.append(p + m[g].rm_so, m[g].rm_eo - m[g].rm_so);
      } else {
        out += n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : n;
      }
    }
    if (out.size() > kMaxResult) {
      *error = "substitution result larger than 1 MiB";
      return false;
    }
    p += m[0].rm_eo;
    changed = true;
    eflags = (p[-1] == '\n' || p[-1] == '\r') ? 0 : REG_NOTBOL;
    if (!global_) break;
  }
  if (!changed) return false;
  out.append(p, end - p);
  *text = std::move(out);
  return true;
}

}  // namespace strowger::proxy::script
