// Token: one lexical unit of a routing script, with its original position.
#pragma once
#include <cstdint>
#include <string>

#include "proxy/script/source.h"

namespace strowger::proxy::script {

enum class TokenKind : std::uint8_t {
  kEnd,
  kIdent,      // identifier or keyword (keywords are recognised by the parser in context)
  kInt,        // decimal/hex/octal/binary literal, or yes/no/on/off/true/false/inet/inet6
  kString,     // "..." (escapes resolved, adjacent "..." joined) or '...' (raw)
  kPVar,       // $name, $name(inner), $(name(inner)[idx]{tr}), $? — text is the whole spec
  kIPv6,       // an IPv6 address literal (needs "::" or 7 colons, as in Kamailio)
  kEventName,  // the name inside event_route[...], e.g. "xhttp:request"
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma,
  kSemicolon,
  kColon,
  kDot,
  kAssign,      // =
  kPlusAssign,  // +=
  kEq,          // ==
  kNe,          // !=
  kLt,
  kGt,
  kLe,
  kGe,
  kMatch,  // =~
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kNot,    // !
  kTilde,  // ~
  kAmp,
  kPipe,
  kCaret,
  kShl,
  kShr,
  kAndAnd,
  kOrOr,
  kIntCast,  // (int)
  kStrCast,  // (str)
  kAt,       // @ (select)
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  bool glued = false;  // nothing (no blank, no comment) between the previous token and this one
  SourceLoc loc;       // first character
  SourceLoc end;       // just past the last character
  std::string text;    // identifier, string value, pvar spec, or the literal as written
  std::int64_t int_value = 0;
};

// Short name of a token kind for messages, e.g. "';'" or "identifier".
const char* token_kind_name(TokenKind kind);
// What a token is, for "expected X, found Y" messages: "identifier 'foo'", "';'", "end of file".
std::string describe_token(const Token& token);

}  // namespace strowger::proxy::script
