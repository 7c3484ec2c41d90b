// Lexer: preprocessor directives (#!define, #!ifdef, #!subst, include_file) and skipping.
#include <array>

#include "proxy/script/char_class.h"
#include "proxy/script/lexer.h"

namespace strowger::proxy::script {
namespace {

struct WordDirective {
  std::string_view word;
  DirectiveKind kind;
};
constexpr std::array<WordDirective, 16> kDirectiveWords{{
    {"define", DirectiveKind::kDefine},
    {"def", DirectiveKind::kDefine},
    {"trydef", DirectiveKind::kTryDef},
    {"trydefine", DirectiveKind::kTryDef},
    {"redefine", DirectiveKind::kRedefine},
    {"redef", DirectiveKind::kRedefine},
    {"ifdef", DirectiveKind::kIfdef},
    {"ifndef", DirectiveKind::kIfndef},
    {"else", DirectiveKind::kElse},
    {"endif", DirectiveKind::kEndif},
    {"subst", DirectiveKind::kSubst},
    {"substdef", DirectiveKind::kSubstDef},
    {"substdefs", DirectiveKind::kSubstDefs},
    {"include_file", DirectiveKind::kIncludeFile},
    {"import_file", DirectiveKind::kImportFile},
    {"", DirectiveKind::kDefine},
}};

bool find_directive(std::string_view word, DirectiveKind* kind) {
  for (const auto& d : kDirectiveWords) {
    if (!d.word.empty() && d.word == word) {
      *kind = d.kind;
      return true;
    }
  }
  return false;
}

bool is_header_word(std::string_view w) {
  return w == "KAMAILIO" || w == "OPENSER" || w == "SER" || w == "MAXCOMPAT" || w == "ALL";
}

}  // namespace

bool Lexer::expect_eol(std::string_view what) {
  while (!eof() && is_blank(peek())) advance();
  if (eof() || peek() == '\n') return true;
  error(here(), "unexpected text after " + std::string(what) +
                    " (Kamailio would silently ignore this directive)");
  skip_to_eol();
  return false;
}

bool Lexer::lex_directive(LexItem* out, bool* produced, bool skipping) {
  SourceLoc loc = here();
  bool hash = peek() == '#';
  if (peek(1) != '!') return false;
  std::size_t w = 2;
  while (!eof(w) && (is_id_char(peek(w)))) ++w;
  std::string_view word = text_.substr(pos_ + 2, w - 2);
  if (hash && !skipping && is_header_word(word)) {
    skip_to_eol();  // #!KAMAILIO and friends select a compatibility mode we always use
    return true;
  }
  DirectiveKind kind;
  bool known = find_directive(word, &kind);
  bool needs_blank = kind == DirectiveKind::kDefine || kind == DirectiveKind::kTryDef ||
                     kind == DirectiveKind::kRedefine || kind == DirectiveKind::kIfdef ||
                     kind == DirectiveKind::kIfndef;
  if (known && !hash && needs_blank && !is_blank(peek(w))) known = false;  // "!!" is also '!' '!'
  if (skipping) {
    if (!known || (kind != DirectiveKind::kIfdef && kind != DirectiveKind::kIfndef &&
                   kind != DirectiveKind::kElse && kind != DirectiveKind::kEndif)) {
      return false;
    }
  } else if (!known) {
    if (!hash || word.empty() || !is_id_start(word[0])) return false;
    error(loc, "unknown preprocessor directive '#!" + std::string(word) + "'");
    skip_to_eol();
    return true;
  }
  advance(w);
  switch (kind) {
    case DirectiveKind::kDefine:
    case DirectiveKind::kTryDef:
    case DirectiveKind::kRedefine:
      *produced = lex_define(out, kind, loc, word);
      return true;
    case DirectiveKind::kIfdef:
    case DirectiveKind::kIfndef:
      *produced = lex_ifdef(out, kind, loc, word);
      return true;
    case DirectiveKind::kElse:
    case DirectiveKind::kEndif:
      expect_eol("#!" + std::string(word));
      out->is_directive = true;
      out->directive.kind = kind;
      out->directive.loc = pinned_ ? pin_at_ : loc;
      *produced = true;
      return true;
    case DirectiveKind::kSubst:
    case DirectiveKind::kSubstDef:
    case DirectiveKind::kSubstDefs:
      out->is_directive = true;
      out->directive.kind = kind;
      out->directive.loc = pinned_ ? pin_at_ : loc;
      *produced = true;
      return true;
    case DirectiveKind::kIncludeFile:
    case DirectiveKind::kImportFile:
      *produced = lex_include(out, kind, loc);
      return true;
  }
  return true;
}

bool Lexer::lex_define(LexItem* out, DirectiveKind kind, SourceLoc loc, std::string_view word) {
  std::string directive = "#!" + std::string(word);
  if (!is_blank(peek())) {
    error(loc, "expected a name after " + directive);
    skip_to_eol();
    return false;
  }
  while (is_blank(peek())) advance();
  SourceLoc name_loc = here();
  if (!is_id_start(peek())) {
    error(name_loc, "expected a name after " + directive);
    skip_to_eol();
    return false;
  }
  std::size_t begin = pos_;
  while (is_id_char(peek())) advance();
  std::string name(text_.substr(begin, pos_ - begin));
  if (peek() == '-') {
    error(name_loc, "'-' is not allowed in the name of " + directive);
    skip_to_eol();
    return false;
  }
  while (is_blank(peek())) advance();
  std::string value;
  bool has_value = false;
  while (!eof() && peek() != '\n') {
    if (peek() == '\\' && peek(1) == '\n') {
      advance(2);  // continuation line
      continue;
    }
    if (peek() == '\\' && peek(1) == '\r' && peek(2) == '\n') {
      advance(3);
      continue;
    }
    value += peek();
    advance();
  }
  while (!value.empty() && (is_blank(value.back()))) value.pop_back();
  has_value = !value.empty();
  out->is_directive = true;
  Directive& d = out->directive;
  d.kind = kind;
  d.loc = pinned_ ? pin_at_ : loc;
  d.name = std::move(name);
  d.name_loc = pinned_ ? pin_at_ : name_loc;
  d.value = std::move(value);
  d.has_value = has_value;
  return true;
}

bool Lexer::lex_ifdef(LexItem* out, DirectiveKind kind, SourceLoc loc, std::string_view word) {
  std::string directive = "#!" + std::string(word);
  while (is_blank(peek())) advance();
  SourceLoc name_loc = here();
  std::size_t begin = pos_;
  if (is_id_start(peek())) {
    while (is_id_char(peek())) advance();
  }
  std::string name(text_.substr(begin, pos_ - begin));
  out->is_directive = true;
  out->directive.kind = kind;
  out->directive.loc = pinned_ ? pin_at_ : loc;
  out->directive.name_loc = pinned_ ? pin_at_ : name_loc;
  if (name.empty()) {
    error(name_loc, "expected a name after " + directive);
    skip_to_eol();
  } else if (peek() == '-') {
    error(name_loc, "'-' is not allowed in the name of " + directive);
    skip_to_eol();
  } else {
    expect_eol(directive + " " + name);
  }
  // An #!ifdef with a bad name still opens a level so its #!endif pairs up.
  out->directive.name = std::move(name);
  return true;
}

bool Lexer::lex_include(LexItem* out, DirectiveKind kind, SourceLoc loc) {
  const char* what = kind == DirectiveKind::kIncludeFile ? "include_file" : "import_file";
  while (peek() == ' ' || peek() == '\t') advance();
  SourceLoc name_loc = here();
  std::size_t begin = pos_;
  while (!eof() && peek() != ' ' && peek() != '\t' && peek() != '\r' && peek() != '\n') advance();
  std::string_view raw = text_.substr(begin, pos_ - begin);
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') {
    error(raw.empty() ? name_loc : name_loc,
          std::string("expected a file name in double quotes after ") + what);
    return false;
  }
  std::string name;
  for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 2 < raw.size()) {
      char n = raw[++i];
      name += n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
    } else {
      name += c;
    }
  }
  if (name.empty()) {
    error(name_loc, std::string("empty file name after ") + what);
    return false;
  }
  out->is_directive = true;
  out->directive.kind = kind;
  out->directive.loc = pinned_ ? pin_at_ : loc;
  out->directive.name = std::move(name);
  out->directive.name_loc = pinned_ ? pin_at_ : name_loc;
  return true;
}

LexItem Lexer::skip_inactive() {
  LexItem item;
  while (!eof()) {
    if ((peek() == '#' || peek() == '!') && peek(1) == '!') {
      bool produced = false;
      if (lex_directive(&item, &produced, true)) {
        if (produced) return item;
        continue;
      }
    }
    advance();
  }
  had_space_ = true;
  item.token = make(TokenKind::kEnd, here());
  return item;
}

}  // namespace strowger::proxy::script
