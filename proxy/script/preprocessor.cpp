// Preprocessor: defines, #!ifdef branches, #!subst rules and includes, applied while lexing.
#include "proxy/script/preprocessor.h"

#include <sys/stat.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace strowger::proxy::script {
namespace {

constexpr std::size_t kMaxFileSize = 16u << 20;
constexpr int kMaxExpansionDepth = 32;
constexpr std::size_t kMaxSubstRules = 256;

bool valid_define_name(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
    return false;
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string canonical_path(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec) return std::filesystem::path(path).lexically_normal().string();
  return abs.lexically_normal().string();
}

std::string parent_dir(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? std::string() : path.substr(0, pos + 1);
}

}  // namespace

std::optional<std::string> read_file_from_disk(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (static_cast<std::size_t>(st.st_size) > kMaxFileSize) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Preprocessor::Preprocessor(SourceMap& sources, Diagnostics& diags, PreprocessOptions options)
    : sources_(sources), diags_(diags), options_(std::move(options)) {
  if (!options_.read_file) options_.read_file = read_file_from_disk;
}

void Preprocessor::add_command_line_defines() {
  std::uint32_t cli = sources_.add("<command line>");
  SourceLoc loc{cli, 0, 0};
  defines_["STROWGER"] = Define{"", false, loc};
  for (const auto& [name, value] : options_.defines) {
    if (!valid_define_name(name)) {
      diags_.error(loc, "invalid define name '" + name + "' (letters, digits and '_' only)");
      continue;
    }
    defines_[name] = Define{value, !value.empty(), loc};
  }
}

std::vector<Token> Preprocessor::run_file(const std::string& path) {
  add_command_line_defines();
  std::uint32_t id = sources_.add(path);
  auto text = options_.read_file(path);
  if (!text) {
    diags_.error({id, 0, 0}, "cannot read the script file");
  } else {
    stack_.push_back({path, canonical_path(path), {}});
    process(*text, id, 0);
    stack_.pop_back();
  }
  Token end;
  end.loc = end.end = last_end_.valid() ? last_end_ : SourceLoc{id, 1, 1};
  out_.push_back(end);
  return std::move(out_);
}

std::vector<Token> Preprocessor::run_text(std::string_view text, const std::string& name) {
  add_command_line_defines();
  std::uint32_t id = sources_.add(name);
  stack_.push_back({name, name, {}});
  process(text, id, 0);
  stack_.pop_back();
  Token end;
  end.loc = end.end = last_end_.valid() ? last_end_ : SourceLoc{id, 1, 1};
  out_.push_back(end);
  return std::move(out_);
}

void Preprocessor::process(std::string_view text, std::uint32_t file, int depth) {
  Lexer lexer(text, file, diags_);
  std::vector<IfLevel> ifs;
  std::optional<Directive> pending_subst;
  while (!stopped_) {
    bool active = ifs.empty() || (ifs.back().parent_active && ifs.back().condition);
    LexItem item = active ? lexer.next() : lexer.skip_inactive();
    if (pending_subst) {
      Directive d = std::move(*pending_subst);
      pending_subst.reset();
      if (!item.is_directive && item.token.kind == TokenKind::kString) {
        finish_string(item.token);
        subst(d, item.token);
        continue;
      }
      diags_.error(d.loc, "expected a string in double quotes after the #!subst directive");
    }
    if (item.is_directive) {
      const Directive& d = item.directive;
      if (d.kind == DirectiveKind::kSubst || d.kind == DirectiveKind::kSubstDef ||
          d.kind == DirectiveKind::kSubstDefs) {
        pending_subst = d;
      } else {
        directive(d, ifs, depth);
      }
      continue;
    }
    if (item.token.kind == TokenKind::kEnd) break;
    emit(std::move(item.token), 0);
    if (diags_.full()) stopped_ = true;
  }
  if (pending_subst) {
    diags_.error(pending_subst->loc,
                 "expected a string in double quotes after the #!subst directive");
  }
  SourceLoc eof = lexer.location();
  for (auto it = ifs.rbegin(); it != ifs.rend() && !stopped_; ++it) {
    diags_.error(eof, "unterminated #!ifdef (opened at " + sources_.format(it->loc) + ")");
  }
  if (depth == 0) last_end_ = eof;
}

void Preprocessor::directive(const Directive& d, std::vector<IfLevel>& ifs, int depth) {
  bool active = ifs.empty() || (ifs.back().parent_active && ifs.back().condition);
  switch (d.kind) {
    case DirectiveKind::kIfdef:
    case DirectiveKind::kIfndef: {
      bool defined = defines_.count(d.name) != 0;
      bool condition = d.kind == DirectiveKind::kIfdef ? defined : !defined;
      if (d.name.empty()) condition = false;
      ifs.push_back({active, condition, false, d.loc});
      return;
    }
    case DirectiveKind::kElse:
      if (ifs.empty()) {
        diags_.error(d.loc, "#!else without #!ifdef");
      } else if (ifs.back().seen_else) {
        diags_.error(d.loc, "second #!else for the #!ifdef at " + sources_.format(ifs.back().loc));
      } else {
        ifs.back().condition = !ifs.back().condition;
        ifs.back().seen_else = true;
      }
      return;
    case DirectiveKind::kEndif:
      if (ifs.empty()) {
        diags_.error(d.loc, "#!endif without #!ifdef");
      } else {
        ifs.pop_back();
      }
      return;
    case DirectiveKind::kDefine:
    case DirectiveKind::kTryDef:
    case DirectiveKind::kRedefine:
      define(d);
      return;
    case DirectiveKind::kIncludeFile:
    case DirectiveKind::kImportFile:
      include(d, depth);
      return;
    case DirectiveKind::kSubst:
    case DirectiveKind::kSubstDef:
    case DirectiveKind::kSubstDefs:
      return;  // handled by process(): the rule is the next token
  }
}

void Preprocessor::define(const Directive& d) {
  auto it = defines_.find(d.name);
  if (it != defines_.end()) {
    if (d.kind == DirectiveKind::kTryDef) return;
    if (d.kind == DirectiveKind::kRedefine) {
      it->second = Define{d.value, d.has_value, d.name_loc};
      return;
    }
    diags_.error(d.name_loc, "'" + d.name + "' is already defined (at " +
                                 sources_.format(it->second.loc) + "); use #!redefine or #!trydef");
    return;
  }
  defines_[d.name] = Define{d.value, d.has_value, d.name_loc};
}

void Preprocessor::subst(const Directive& d, const Token& rule_text) {
  std::string error;
  auto rule = SubstRule::parse(rule_text.text, &error);
  if (!rule) {
    diags_.error(rule_text.loc, "invalid #!subst expression: " + error);
    return;
  }
  if (rules_.size() >= kMaxSubstRules) {
    diags_.error(rule_text.loc, "more than " + std::to_string(kMaxSubstRules) + " #!subst rules");
    return;
  }
  if (d.kind != DirectiveKind::kSubst) {
    std::string value = rule->replacement();
    if (d.kind == DirectiveKind::kSubstDefs) value = "\"" + value + "\"";
    auto it = defines_.find(rule->pattern());
    if (rule->pattern().empty()) {
      diags_.error(rule_text.loc, "#!substdef needs a name before the replacement");
      return;
    }
    if (it != defines_.end()) {
      diags_.error(rule_text.loc, "'" + rule->pattern() + "' is already defined (at " +
                                      sources_.format(it->second.loc) + ")");
      return;
    }
    defines_[rule->pattern()] = Define{value, !value.empty(), rule_text.loc};
  }
  rules_.push_back(std::move(*rule));
}

void Preprocessor::include(const Directive& d, int depth) {
  Token name_token;
  name_token.loc = d.name_loc;
  name_token.text = d.name;
  finish_string(name_token);  // #!subst rules apply to include names too
  const std::string& name = name_token.text;
  const char* what = d.kind == DirectiveKind::kIncludeFile ? "include_file" : "import_file";
  if (depth + 1 > options_.max_include_depth) {
    diags_.error(d.loc, std::string(what) + " nested deeper than " +
                            std::to_string(options_.max_include_depth) + " files");
    return;
  }
  std::vector<std::string> candidates;
  if (!name.empty() && name[0] == '/') {
    candidates.push_back(name);
  } else {
    std::string dir = stack_.empty() ? std::string() : parent_dir(stack_.back().path);
    if (!dir.empty()) candidates.push_back(dir + name);
    candidates.push_back(name);
  }
  std::optional<std::string> content;
  std::string found;
  for (const auto& c : candidates) {
    content = options_.read_file(c);
    if (content) {
      found = c;
      break;
    }
  }
  if (!content) {
    if (d.kind == DirectiveKind::kIncludeFile) {
      std::string tried;
      for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c;
      diags_.error(d.name_loc, "cannot open included file '" + name + "' (tried " + tried + ")");
    }
    return;
  }
  std::string canonical = canonical_path(found);
  for (const auto& frame : stack_) {
    if (frame.canonical == canonical) {
      diags_.error(d.name_loc, "include cycle: '" + name + "' is already being read (" +
                                   frame.path + " includes it, directly or not)");
      return;
    }
  }
  if (++included_files_ > options_.max_included_files) {
    diags_.error(d.loc,
                 "more than " + std::to_string(options_.max_included_files) + " files included");
    stopped_ = true;
    return;
  }
  std::uint32_t id = sources_.add(found);
  stack_.push_back({found, canonical, d.loc});
  process(*content, id, depth + 1);
  stack_.pop_back();
}

void Preprocessor::finish_string(Token& token) {
  for (const auto& rule : rules_) {
    std::string error;
    rule.apply(&token.text, &error);
    if (!error.empty()) diags_.error(token.loc, error);
  }
}

bool Preprocessor::limit_reached() {
  if (out_.size() < options_.max_tokens) return false;
  if (!stopped_) {
    diags_.error(out_.empty() ? SourceLoc{} : out_.back().loc,
                 "script too large: more than " + std::to_string(options_.max_tokens) +
                     " tokens after define expansion");
    stopped_ = true;
  }
  return true;
}

void Preprocessor::emit(Token token, int expansion_depth) {
  if (stopped_ || limit_reached()) return;
  if (token.kind == TokenKind::kString || token.kind == TokenKind::kPVar) {
    finish_string(token);
  } else if (token.kind == TokenKind::kIdent) {
    auto it = defines_.find(token.text);
    if (it != defines_.end() && it->second.has_value) {
      const std::string& name = it->first;
      bool recursive = expansion_depth >= kMaxExpansionDepth;
      for (const auto& e : expanding_) recursive = recursive || e == name;
      if (recursive) {
        diags_.error(token.loc, "recursive expansion of define '" + name + "'");
        return;
      }
      // Copy: the value may be redefined while expanding (it cannot, but be safe).
      std::string value = it->second.value;
      Lexer sub(value, token.loc.file, diags_);
      sub.pin_location(
          token.loc, token.end,
          "in the value of define '" + name + "' defined at " + sources_.format(it->second.loc));
      expanding_.push_back(name);
      bool first = true;
      while (!stopped_) {
        LexItem item = sub.next();
        if (item.is_directive) {
          diags_.error(token.loc, "preprocessor directive in the value of define '" + name + "'");
          continue;
        }
        if (item.token.kind == TokenKind::kEnd) break;
        if (first) item.token.glued = token.glued;
        first = false;
        emit(std::move(item.token), expansion_depth + 1);
        if (diags_.full()) stopped_ = true;
      }
      expanding_.pop_back();
      return;
    }
  }
  out_.push_back(std::move(token));
}

}  // namespace strowger::proxy::script
