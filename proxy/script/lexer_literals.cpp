// Lexer: literals and names (strings, pseudo-variables, numbers, IPv6, identifiers).
#include <arpa/inet.h>

#include <limits>

#include "proxy/script/char_class.h"
#include "proxy/script/lexer.h"

namespace strowger::proxy::script {
namespace {

// Decimal, 0x hex, 0-prefixed octal or [01]+b binary, as Kamailio's lexer; false otherwise.
bool parse_int_literal(std::string_view s, std::int64_t* out, bool* overflow) {
  *overflow = false;
  int base = 10;
  std::string_view digits = s;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    digits = s.substr(2);
  } else if (s.size() > 1 && s.back() == 'b' && s.find_first_not_of("01", 0) == s.size() - 1) {
    base = 2;
    digits = s.substr(0, s.size() - 1);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    digits = s.substr(1);
  }
  if (digits.empty()) return false;
  std::uint64_t v = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && is_hex(c)) {
      d = std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - d) / base) {
      *overflow = true;
      v = 0;
      continue;
    }
    v = v * base + d;
  }
  *out = static_cast<std::int64_t>(v);
  return true;
}

// Words Kamailio's lexer turns into numbers.
bool keyword_number(std::string_view w, std::int64_t* v) {
  if (w == "yes" || w == "true" || w == "on" || w == "enable") {
    *v = 1;
  } else if (w == "no" || w == "false" || w == "off" || w == "disable") {
    *v = 0;
  } else if (w == "inet" || w == "INET") {
    *v = AF_INET;
  } else if (w == "inet6" || w == "INET6") {
    *v = AF_INET6;
  } else {
    return false;
  }
  return true;
}

}  // namespace

Token Lexer::lex_string_double() {
  SourceLoc start = here();
  std::string value;
  bool closed = false;
  advance();  // opening quote
  for (;;) {
    while (!eof() && peek() != '"') {
      char c = peek();
      if (c != '\\') {
        value += c;
        advance();
        continue;
      }
      char n = peek(1);
      int consumed = 2;
      switch (n) {
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 'a':
          value += '\a';
          break;
        case 't':
          value += '\t';
          break;
        case '"':
          value += '"';
          break;
        case '\\':
          value += '\\';
          break;
        case '\n':
          break;  // escaped line end is dropped
        case 'x':
          if (is_hex(peek(2))) {
            int v = 0;
            consumed = 2;
            while (consumed < 4 && is_hex(peek(consumed))) {
              char h = static_cast<char>(std::tolower(static_cast<unsigned char>(peek(consumed))));
              v = v * 16 + (h <= '9' ? h - '0' : h - 'a' + 10);
              ++consumed;
            }
            value += static_cast<char>(v);
          } else {
            value += '\\';
            consumed = 1;
          }
          break;
        default:
          if (n >= '0' && n <= '7' && peek(2) >= '0' && peek(2) <= '7') {
            int v = (n - '0') * 8 + (peek(2) - '0');
            consumed = 3;
            if (peek(3) >= '0' && peek(3) <= '7') {
              v = v * 8 + (peek(3) - '0');
              consumed = 4;
            }
            value += static_cast<char>(v & 0xff);
          } else {
            value += '\\';  // unknown escapes keep the backslash, as in Kamailio
            consumed = 1;
          }
      }
      advance(consumed);
    }
    if (eof()) break;
    advance();  // closing quote
    // Kamailio joins "..." strings separated only by blanks and line ends.
    std::size_t k = 0;
    while (!eof(k) && (is_blank(peek(k)) || peek(k) == '\n')) ++k;
    if (peek(k) == '"') {
      advance(k + 1);
      continue;
    }
    closed = true;
    break;
  }
  if (!closed) error(start, "unterminated string (missing closing '\"')");
  Token t = make(TokenKind::kString, start);
  t.text = std::move(value);
  return t;
}

Token Lexer::lex_string_single() {
  SourceLoc start = here();
  advance();
  std::size_t begin = pos_;
  while (!eof() && peek() != '\'') advance();
  std::string value(text_.substr(begin, pos_ - begin));
  if (eof()) {
    error(start, "unterminated string (missing closing \"'\")");
  } else {
    advance();
  }
  Token t = make(TokenKind::kString, start);
  t.text = std::move(value);
  return t;
}

Token Lexer::lex_pvar() {
  SourceLoc start = here();
  std::size_t begin = pos_;
  advance();  // '$'
  bool ok = true;
  if (peek() == '?') {
    advance();
  } else if (peek() == '(' || is_id_start(peek())) {
    while (is_id_char(peek())) advance();
    if (peek() == '(') {
      // Kamailio takes everything up to the balancing ')' on the same line.
      int depth = 0;
      do {
        if (peek() == '(') ++depth;
        if (peek() == ')') --depth;
        advance();
      } while (depth > 0 && !eof() && peek() != '\n');
      if (depth > 0) {
        error(start, "unterminated pseudo-variable (missing ')')");
        ok = false;
      }
    }
  } else {
    error(start, "expected a pseudo-variable name after '$'");
    ok = false;
  }
  Token t = make(ok ? TokenKind::kPVar : TokenKind::kString, start);
  t.text = std::string(text_.substr(begin, pos_ - begin));
  return t;
}

std::size_t Lexer::ipv6_length() const {
  std::size_t n = 0;
  int colons = 0;
  bool double_colon = false;
  while (!eof(n) && (is_hex(peek(n)) || peek(n) == ':')) {
    if (peek(n) == ':') {
      ++colons;
      if (peek(n + 1) == ':') double_colon = true;
    }
    ++n;
  }
  if (!double_colon && colons != 7) return 0;
  std::string candidate(text_.substr(pos_, n));
  unsigned char buf[16];
  // Kamailio's pattern cannot end in a single ':' (":" is then the next token).
  while (!candidate.empty() && inet_pton(AF_INET6, candidate.c_str(), buf) != 1) {
    if (candidate.back() != ':') return 0;
    candidate.pop_back();
  }
  std::size_t word = 0;
  while (!eof(word) && is_id_char(peek(word))) ++word;
  return candidate.size() > word ? candidate.size() : 0;
}

Token Lexer::lex_number_or_ipv6() {
  SourceLoc start = here();
  if (std::size_t v6 = ipv6_length(); v6 > 0) {
    std::string text(text_.substr(pos_, v6));
    advance(v6);
    Token t = make(TokenKind::kIPv6, start);
    t.text = std::move(text);
    return t;
  }
  if (peek() == ':') {  // "::" that is not an address
    advance();
    Token t = make(TokenKind::kColon, start);
    t.text.assign(1, ':');  // (not = ":": GCC 12 -Wrestrict false positive)
    return t;
  }
  std::size_t begin = pos_;
  while (is_id_char(peek())) advance();
  Token t = make(TokenKind::kInt, start);
  t.text = std::string(text_.substr(begin, pos_ - begin));
  bool overflow = false;
  if (!parse_int_literal(t.text, &t.int_value, &overflow)) {
    t.kind = TokenKind::kIdent;  // Kamailio's NUM_ID, e.g. an interface or host label "3com"
  } else if (overflow) {
    error(start, "integer literal '" + t.text + "' is out of range");
  }
  return t;
}

Token Lexer::lex_word() {
  SourceLoc start = here();
  std::size_t begin = pos_;
  while (is_id_char(peek())) advance();
  Token t = make(TokenKind::kIdent, start);
  t.text = std::string(text_.substr(begin, pos_ - begin));
  if (keyword_number(t.text, &t.int_value)) t.kind = TokenKind::kInt;
  return t;
}

Token Lexer::lex_event_name() {
  SourceLoc start = here();
  std::size_t begin = pos_;
  while (!eof() && peek() != ']' && !is_blank(peek()) && peek() != '\n') advance();
  Token t = make(TokenKind::kEventName, start);
  t.text = std::string(text_.substr(begin, pos_ - begin));
  return t;
}

}  // namespace strowger::proxy::script
