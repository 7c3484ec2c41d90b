// SubstRule: a sed-like "/regex/replacement/flags" rule, as #!subst and #!substdef use it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/script/regex.h"

namespace strowger::proxy::script {

class SubstRule {
 public:
  // Parses Kamailio's subst syntax: the first character is the separator (any but '\'),
  // "\sep" escapes it; flags are i (ignore case), g (all matches), s (let '.' match '\n').
  // Replacement escapes: \0..\9 (groups), \n \r \t \\ and \<any> for the character itself.
  static std::optional<SubstRule> parse(std::string_view expr, std::string* error);

  // Applies the rule; returns true when `text` changed. An empty match is refused (as in
  // Kamailio) and reported through *error with `text` left unchanged.
  bool apply(std::string* text, std::string* error) const;

  const std::string& pattern() const { return pattern_; }
  const std::string& replacement() const { return replacement_; }
  bool global() const { return global_; }

 private:
  std::shared_ptr<Regex> re_;
  std::string pattern_;
  std::string replacement_;  // as written
  bool global_ = false;
};

}  // namespace strowger::proxy::script
