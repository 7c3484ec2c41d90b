// Lexer core: blanks, comments, operators, and dispatch to the literal and directive lexers.
#include "proxy/script/lexer.h"

#include <cctype>
#include <cstdio>

#include "proxy/script/char_class.h"

namespace strowger::proxy::script {
namespace {

std::string printable(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, c);
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
  return buf;
}

}  // namespace

Lexer::Lexer(std::string_view text, std::uint32_t file, Diagnostics& diags)
    : text_(text), file_(file), diags_(diags) {}

void Lexer::pin_location(SourceLoc at, SourceLoc at_end, std::string context) {
  pinned_ = true;
  pin_at_ = at;
  pin_end_ = at_end;
  context_ = std::move(context);
}

void Lexer::advance(std::size_t n) {
  for (std::size_t i = 0; i < n && pos_ < text_.size(); ++i) {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }
}

void Lexer::error(SourceLoc loc, std::string message) {
  if (pinned_) {
    message += " (" + context_ + ")";
    loc = pin_at_;
  }
  diags_.error(loc, std::move(message));
}

Token Lexer::make(TokenKind kind, SourceLoc start) const {
  Token t;
  t.kind = kind;
  t.loc = pinned_ ? pin_at_ : start;
  t.end = pinned_ ? pin_end_ : here();
  t.glued = !had_space_;
  return t;
}

void Lexer::skip_to_eol() {
  while (!eof() && peek() != '\n') advance();
}

bool Lexer::skip_block_comment() {
  SourceLoc start = here();
  advance(2);
  int depth = 1;
  while (!eof()) {
    if (peek() == '/' && peek(1) == '*') {
      ++depth;
      advance(2);
    } else if (peek() == '*' && peek(1) == '/') {
      advance(2);
      if (--depth == 0) return true;
    } else {
      advance();
    }
  }
  error(start, "unterminated comment ('/*' without '*/')");
  return false;
}

bool Lexer::skip_blanks_and_comments() {
  for (;;) {
    if (eof()) return false;
    char c = peek();
    if (is_blank(c) || c == '\n') {
      advance();
      had_space_ = true;
    } else if (c == '\\' && (peek(1) == '\n' || (peek(1) == '\r' && peek(2) == '\n'))) {
      advance(peek(1) == '\n' ? 2 : 3);  // escaped line end: ignored, as in Kamailio
      had_space_ = true;
    } else if (c == '/' && peek(1) == '/') {
      skip_to_eol();
      had_space_ = true;
    } else if (c == '/' && peek(1) == '*') {
      skip_block_comment();
      had_space_ = true;
    } else {
      return true;
    }
  }
}

LexItem Lexer::next() {
  LexItem item;
  for (;;) {
    if (event_name_pending_) {
      event_name_pending_ = false;
      if (skip_blanks_and_comments() && peek() != ']') {
        item.token = lex_event_name();
        had_space_ = false;
        return item;
      }
    }
    if (!skip_blanks_and_comments()) {
      item.token = make(TokenKind::kEnd, here());
      return item;
    }
    char c = peek();
    if (c == '#' || (c == '!' && peek(1) == '!')) {
      bool produced = false;
      if (lex_directive(&item, &produced, false)) {
        had_space_ = true;
        if (produced) return item;
        continue;
      }
      if (c == '#') {  // a plain '#' comment
        skip_to_eol();
        had_space_ = true;
        continue;
      }
    }
    SourceLoc start = here();
    Token t;
    if (c == '"') {
      t = lex_string_double();
    } else if (c == '\'') {
      t = lex_string_single();
    } else if (c == '$') {
      t = lex_pvar();
    } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == ':' && peek(1) == ':') ||
               (is_hex(c) && ipv6_length() > 0)) {
      t = lex_number_or_ipv6();
    } else if (is_id_start(c)) {
      t = lex_word();
      if (t.kind == TokenKind::kIdent && (t.text == "include_file" || t.text == "import_file")) {
        if (lex_include(
                &item,
                t.text == "include_file" ? DirectiveKind::kIncludeFile : DirectiveKind::kImportFile,
                t.loc)) {
          had_space_ = true;
          return item;
        }
        had_space_ = true;
        continue;
      }
    } else {
      struct Op {
        std::string_view text;
        TokenKind kind;
      };
      static constexpr Op kOps[] = {
          {"(int)", TokenKind::kIntCast}, {"(str)", TokenKind::kStrCast},
          {"==", TokenKind::kEq},         {"=~", TokenKind::kMatch},
          {"!=", TokenKind::kNe},         {"+=", TokenKind::kPlusAssign},
          {"<<", TokenKind::kShl},        {">>", TokenKind::kShr},
          {"<=", TokenKind::kLe},         {">=", TokenKind::kGe},
          {"&&", TokenKind::kAndAnd},     {"||", TokenKind::kOrOr},
          {"=", TokenKind::kAssign},      {"<", TokenKind::kLt},
          {">", TokenKind::kGt},          {"!", TokenKind::kNot},
          {"~", TokenKind::kTilde},       {"&", TokenKind::kAmp},
          {"|", TokenKind::kPipe},        {"^", TokenKind::kCaret},
          {"+", TokenKind::kPlus},        {"-", TokenKind::kMinus},
          {"*", TokenKind::kStar},        {"/", TokenKind::kSlash},
          {"%", TokenKind::kPercent},     {"(", TokenKind::kLParen},
          {")", TokenKind::kRParen},      {"{", TokenKind::kLBrace},
          {"}", TokenKind::kRBrace},      {"[", TokenKind::kLBracket},
          {"]", TokenKind::kRBracket},    {",", TokenKind::kComma},
          {";", TokenKind::kSemicolon},   {":", TokenKind::kColon},
          {".", TokenKind::kDot},         {"@", TokenKind::kAt},
      };
      bool matched = false;
      for (const Op& op : kOps) {
        if (text_.substr(pos_, op.text.size()) == op.text) {
          advance(op.text.size());
          t = make(op.kind, start);
          t.text = op.text;
          matched = true;
          break;
        }
      }
      if (!matched) {
        error(start, "unexpected character '" + printable(c) + "'");
        advance();
        had_space_ = true;
        continue;
      }
      if (t.kind == TokenKind::kLBracket && after_event_route_) event_name_pending_ = true;
    }
    after_event_route_ = t.kind == TokenKind::kIdent && t.text == "event_route";
    had_space_ = false;
    item.token = std::move(t);
    return item;
  }
}

}  // namespace strowger::proxy::script
