// Token names for diagnostics.
#include "proxy/script/token.h"

namespace strowger::proxy::script {

const char* token_kind_name(TokenKind kind) {
  // In the order of TokenKind.
  static constexpr const char* kNames[] = {"end of file",
                                           "identifier",
                                           "number",
                                           "string",
                                           "pseudo-variable",
                                           "IPv6 address",
                                           "event route name",
                                           "'('",
                                           "')'",
                                           "'{'",
                                           "'}'",
                                           "'['",
                                           "']'",
                                           "','",
                                           "';'",
                                           "':'",
                                           "'.'",
                                           "'='",
                                           "'+='",
                                           "'=='",
                                           "'!='",
                                           "'<'",
                                           "'>'",
                                           "'<='",
                                           "'>='",
                                           "'=~'",
                                           "'+'",
                                           "'-'",
                                           "'*'",
                                           "'/'",
                                           "'%'",
                                           "'!'",
                                           "'~'",
                                           "'&'",
                                           "'|'",
                                           "'^'",
                                           "'<<'",
                                           "'>>'",
                                           "'&&'",
                                           "'||'",
                                           "'(int)'",
                                           "'(str)'",
                                           "'@'"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(TokenKind::kAt) + 1);
  auto i = static_cast<std::size_t>(kind);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "token";
}

std::string describe_token(const Token& token) {
  std::string shown = token.text.size() > 40 ? token.text.substr(0, 40) + "..." : token.text;
  switch (token.kind) {
    case TokenKind::kIdent:
      return "identifier '" + shown + "'";
    case TokenKind::kInt:
      return "number " + shown;
    case TokenKind::kString:
      return "string \"" + shown + "\"";
    case TokenKind::kPVar:
      return "pseudo-variable " + shown;
    case TokenKind::kIPv6:
      return "IPv6 address " + shown;
    case TokenKind::kEventName:
      return "'" + shown + "'";
    default:
      return token_kind_name(token.kind);
  }
}

}  // namespace strowger::proxy::script
