// Lexer: turns one buffer of routing-script text into tokens and preprocessor directives.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/script/diagnostics.h"
#include "proxy/script/token.h"

namespace strowger::proxy::script {

enum class DirectiveKind : std::uint8_t {
  kDefine,    // #!define / #!def
  kTryDef,    // #!trydef / #!trydefine
  kRedefine,  // #!redefine / #!redef
  kIfdef,
  kIfndef,
  kElse,
  kEndif,
  kSubst,        // #!subst "..."  (the string is the next token)
  kSubstDef,     // #!substdef "..."
  kSubstDefs,    // #!substdefs "..."
  kIncludeFile,  // include_file "path" / #!include_file
  kImportFile,   // import_file "path" (a missing file is not an error)
};

struct Directive {
  DirectiveKind kind = DirectiveKind::kDefine;
  SourceLoc loc;     // of the directive keyword
  std::string name;  // define/ifdef name, or the include path (quotes and escapes removed)
  SourceLoc name_loc;
  std::string value;  // define value as written (continuation lines joined)
  bool has_value = false;
};

struct LexItem {
  bool is_directive = false;
  Token token;
  Directive directive;
};

// Kamailio's lexical rules: '#', '//' and nested '/* */' comments, "..." strings with C escapes
// (adjacent ones joined), raw '...' strings, $pvars with balanced parentheses, and the
// preprocessor directives. Define substitution and #!ifdef state live in the Preprocessor.
class Lexer {
 public:
  Lexer(std::string_view text, std::uint32_t file, Diagnostics& diags);

  // Expanding a define: every token and diagnostic is placed at `at`, and messages name
  // `context` (e.g. "in the value of define FOO").
  void pin_location(SourceLoc at, SourceLoc at_end, std::string context);

  LexItem next();
  // Inside a false #!ifdef branch: skips text up to the next #!ifdef, #!ifndef, #!else or
  // #!endif and returns it (a token of kind kEnd at the end of the buffer).
  LexItem skip_inactive();
  SourceLoc location() const { return pinned_ ? pin_at_ : here(); }

 private:
  SourceLoc here() const { return {file_, line_, col_}; }
  char peek(std::size_t k = 0) const { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; }
  bool eof(std::size_t k = 0) const { return pos_ + k >= text_.size(); }
  void advance(std::size_t n = 1);
  void error(SourceLoc loc, std::string message);
  Token make(TokenKind kind, SourceLoc start) const;

  bool skip_blanks_and_comments();  // false at end of text
  bool skip_block_comment();
  void skip_to_eol();
  // A directive after "#!" or "!!" at pos_; returns true when it produced `out` or was consumed.
  bool lex_directive(LexItem* out, bool* produced, bool skipping);
  bool lex_define(LexItem* out, DirectiveKind kind, SourceLoc loc, std::string_view word);
  bool lex_ifdef(LexItem* out, DirectiveKind kind, SourceLoc loc, std::string_view word);
  bool expect_eol(std::string_view what);
  bool lex_include(LexItem* out, DirectiveKind kind, SourceLoc loc);
  Token lex_string_double();
  Token lex_string_single();
  Token lex_pvar();
  Token lex_number_or_ipv6();
  Token lex_word();
  Token lex_event_name();
  std::size_t ipv6_length() const;

  std::string_view text_;
  std::uint32_t file_;
  Diagnostics& diags_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  std::uint32_t col_ = 1;
  bool had_space_ = true;
  bool after_event_route_ = false;   // last token was the identifier event_route
  bool event_name_pending_ = false;  // last tokens were event_route [
  bool pinned_ = false;
  SourceLoc pin_at_;
  SourceLoc pin_end_;
  std::string context_;
};

}  // namespace strowger::proxy::script
