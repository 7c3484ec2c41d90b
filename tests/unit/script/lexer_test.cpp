// Lexer tests: token kinds and values, strings, comments, pvars, numbers, positions, errors.
#include "proxy/script/lexer.h"

#include <gtest/gtest.h>

#include <vector>

namespace strowger::proxy::script {
namespace {

struct Lexed {
  std::vector<Token> tokens;  // without the final kEnd
  std::vector<Directive> directives;
  std::vector<Diagnostic> diags;
};

Lexed lex(std::string_view text) {
  Diagnostics diags;
  Lexer lexer(text, 0, diags);
  Lexed out;
  for (int guard = 0; guard < 10000; ++guard) {
    LexItem item = lexer.next();
    if (item.is_directive) {
      out.directives.push_back(item.directive);
      continue;
    }
    if (item.token.kind == TokenKind::kEnd) break;
    out.tokens.push_back(item.token);
  }
  out.diags = diags.take();
  return out;
}

std::vector<TokenKind> kinds(const Lexed& l) {
  std::vector<TokenKind> out;
  for (const auto& t : l.tokens) out.push_back(t.kind);
  return out;
}

TEST(Lexer, OperatorsAndPunctuation) {
  auto l = lex("== != =~ = += < > <= >= << >> && || ! ~ & | ^ + - * / % ( ) { } [ ] , ; : . @");
  std::vector<TokenKind> want = {
      TokenKind::kEq,         TokenKind::kNe,     TokenKind::kMatch,     TokenKind::kAssign,
      TokenKind::kPlusAssign, TokenKind::kLt,     TokenKind::kGt,        TokenKind::kLe,
      TokenKind::kGe,         TokenKind::kShl,    TokenKind::kShr,       TokenKind::kAndAnd,
      TokenKind::kOrOr,       TokenKind::kNot,    TokenKind::kTilde,     TokenKind::kAmp,
      TokenKind::kPipe,       TokenKind::kCaret,  TokenKind::kPlus,      TokenKind::kMinus,
      TokenKind::kStar,       TokenKind::kSlash,  TokenKind::kPercent,   TokenKind::kLParen,
      TokenKind::kRParen,     TokenKind::kLBrace, TokenKind::kRBrace,    TokenKind::kLBracket,
      TokenKind::kRBracket,   TokenKind::kComma,  TokenKind::kSemicolon, TokenKind::kColon,
      TokenKind::kDot,        TokenKind::kAt};
  EXPECT_EQ(kinds(l), want);
  EXPECT_TRUE(l.diags.empty());
}

TEST(Lexer, NumbersInKamailioForms) {
  auto l = lex("0 42 0x1F 010 101b 3com 08 yes no on off true false enable disable INET inet6");
  ASSERT_EQ(l.tokens.size(), 17u);
  std::vector<std::int64_t> values = {0, 42, 31, 8, 5};
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(l.tokens[i].kind, TokenKind::kInt) << i;
    EXPECT_EQ(l.tokens[i].int_value, values[i]) << i;
  }
  EXPECT_EQ(l.tokens[5].kind, TokenKind::kIdent);  // NUM_ID
  EXPECT_EQ(l.tokens[5].text, "3com");
  EXPECT_EQ(l.tokens[6].kind, TokenKind::kIdent);  // "08" is not octal
  for (std::size_t i = 7; i < 15; ++i) {
    EXPECT_EQ(l.tokens[i].kind, TokenKind::kInt) << l.tokens[i].text;
    EXPECT_EQ(l.tokens[i].int_value, i % 2 == 1 ? 1 : 0) << l.tokens[i].text;
  }
  EXPECT_EQ(l.tokens[15].int_value, 2);   // AF_INET
  EXPECT_EQ(l.tokens[16].int_value, 10);  // AF_INET6
  EXPECT_EQ(l.tokens[16].text, "inet6");
}

TEST(Lexer, IntegerOverflowIsAnError) {
  auto l = lex("99999999999999999999999");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_NE(l.diags[0].message.find("out of range"), std::string::npos);
}

TEST(Lexer, DoubleQuotedEscapes) {
  auto l = lex(R"("a\nb\tc\"d\\e\x41\101\+\q")");
  ASSERT_EQ(l.tokens.size(), 1u);
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kString);
  EXPECT_EQ(l.tokens[0].text, "a\nb\tc\"d\\eAA\\+\\q");
}

TEST(Lexer, AdjacentDoubleQuotedStringsJoin) {
  auto l = lex("\"src_user=$fU;\"\n\t\"dst_user=$rU\" 'x' 'y'");
  ASSERT_EQ(l.tokens.size(), 3u);
  EXPECT_EQ(l.tokens[0].text, "src_user=$fU;dst_user=$rU");
  EXPECT_EQ(l.tokens[0].loc.line, 1u);
  EXPECT_EQ(l.tokens[1].text, "x");  // single-quoted strings are never joined
  EXPECT_EQ(l.tokens[2].text, "y");
}

TEST(Lexer, CommentBetweenStringsStopsTheJoin) {
  auto l = lex("\"a\" /* c */ \"b\"");
  ASSERT_EQ(l.tokens.size(), 2u);
}

TEST(Lexer, SingleQuotedStringsAreRaw) {
  auto l = lex(R"('a\nb')");
  ASSERT_EQ(l.tokens.size(), 1u);
  EXPECT_EQ(l.tokens[0].text, "a\\nb");
}

TEST(Lexer, MultilineStringKeepsLinesForLaterTokens) {
  auto l = lex("\"a\nb\"\nx");
  ASSERT_EQ(l.tokens.size(), 2u);
  EXPECT_EQ(l.tokens[0].text, "a\nb");
  EXPECT_EQ(l.tokens[1].loc.line, 3u);
  EXPECT_EQ(l.tokens[1].loc.col, 1u);
}

TEST(Lexer, UnterminatedStringReportsTheOpeningQuote) {
  auto l = lex("x = \"abc");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.line, 1u);
  EXPECT_EQ(l.diags[0].loc.col, 5u);
  EXPECT_NE(l.diags[0].message.find("unterminated string"), std::string::npos);
}

TEST(Lexer, Comments) {
  auto l = lex("a # line\nb // line\nc /* block /* nested */ still */ d\n#!KAMAILIO\ne");
  ASSERT_EQ(l.tokens.size(), 5u);
  EXPECT_EQ(l.tokens[3].text, "d");
  EXPECT_EQ(l.tokens[4].text, "e");
  EXPECT_EQ(l.tokens[4].loc.line, 5u);
  EXPECT_TRUE(l.diags.empty());
}

TEST(Lexer, UnterminatedBlockComment) {
  auto l = lex("a /* b");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.col, 3u);
  EXPECT_NE(l.diags[0].message.find("unterminated comment"), std::string::npos);
}

TEST(Lexer, PseudoVariables) {
  auto l = lex("$ru $var(x) $(ru{uri.user}) $hdr(X-Foo) $? $T_reply_code $sht(a=>$si) $(a(b)(c))");
  ASSERT_EQ(l.tokens.size(), 8u);
  for (const auto& t : l.tokens) EXPECT_EQ(t.kind, TokenKind::kPVar) << t.text;
  EXPECT_EQ(l.tokens[2].text, "$(ru{uri.user})");
  EXPECT_EQ(l.tokens[3].text, "$hdr(X-Foo)");
  EXPECT_EQ(l.tokens[6].text, "$sht(a=>$si)");
  EXPECT_EQ(l.tokens[7].text, "$(a(b)(c))");
}

TEST(Lexer, PseudoVariableErrors) {
  auto l = lex("$ + $(ru\n)");
  ASSERT_EQ(l.diags.size(), 2u);
  EXPECT_NE(l.diags[0].message.find("pseudo-variable name"), std::string::npos);
  EXPECT_NE(l.diags[1].message.find("unterminated pseudo-variable"), std::string::npos);
  EXPECT_EQ(l.diags[1].loc.col, 5u);
}

TEST(Lexer, IPv6NeedsDoubleColonOrSevenColons) {
  auto l = lex("::1 2001:db8::1 fe80::1 1:2:3:4:5:6:7:8 udp:10.0.0.1:5060 a:b");
  std::vector<TokenKind> want = {
      TokenKind::kIPv6,  TokenKind::kIPv6,  TokenKind::kIPv6, TokenKind::kIPv6,  TokenKind::kIdent,
      TokenKind::kColon, TokenKind::kInt,   TokenKind::kDot,  TokenKind::kInt,   TokenKind::kDot,
      TokenKind::kInt,   TokenKind::kDot,   TokenKind::kInt,  TokenKind::kColon, TokenKind::kInt,
      TokenKind::kIdent, TokenKind::kColon, TokenKind::kIdent};
  EXPECT_EQ(kinds(l), want);
  EXPECT_EQ(l.tokens[1].text, "2001:db8::1");
}

TEST(Lexer, CastsAreSingleTokens) {
  auto l = lex("(int)$x (str)1 ( int)");
  ASSERT_GE(l.tokens.size(), 4u);
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kIntCast);
  EXPECT_EQ(l.tokens[2].kind, TokenKind::kStrCast);
  EXPECT_EQ(l.tokens[4].kind, TokenKind::kLParen);
}

TEST(Lexer, EventRouteNameIsOneToken) {
  auto l = lex("event_route[tm:local-request] { }");
  ASSERT_GE(l.tokens.size(), 4u);
  EXPECT_EQ(l.tokens[2].kind, TokenKind::kEventName);
  EXPECT_EQ(l.tokens[2].text, "tm:local-request");
  EXPECT_EQ(l.tokens[3].kind, TokenKind::kRBracket);
}

TEST(Lexer, PositionsAndGlue) {
  auto l = lex("ab  cd\n\tef(gh)");
  ASSERT_EQ(l.tokens.size(), 6u);
  EXPECT_EQ(l.tokens[1].loc.line, 1u);
  EXPECT_EQ(l.tokens[1].loc.col, 5u);
  EXPECT_EQ(l.tokens[1].end.col, 7u);
  EXPECT_EQ(l.tokens[2].loc.line, 2u);
  EXPECT_EQ(l.tokens[2].loc.col, 2u);  // a tab is one column
  EXPECT_FALSE(l.tokens[1].glued);
  EXPECT_TRUE(l.tokens[3].glued);  // '(' right after "ef"
}

TEST(Lexer, EscapedLineEndIsIgnored) {
  auto l = lex("a \\\n b");
  ASSERT_EQ(l.tokens.size(), 2u);
  EXPECT_TRUE(l.diags.empty());
}

TEST(Lexer, UnexpectedCharacter) {
  auto l = lex("a ` b");
  ASSERT_EQ(l.tokens.size(), 2u);
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].message, "unexpected character '`'");
  EXPECT_EQ(l.diags[0].loc.col, 3u);
}

TEST(Lexer, Directives) {
  auto l =
      lex("#!define A 1\n#!define B \"x\" \\\n  \"y\"\n#!ifdef A\n#!ifndef "
          "C\n#!else\n#!endif\n#!endif\n"
          "#!trydef D\n#!redefine A 2\n#!subst \"/a/b/\"\ninclude_file \"x.cfg\"\n#!import_file "
          "\"y.cfg\"\n");
  ASSERT_EQ(l.directives.size(), 12u);
  EXPECT_EQ(l.directives[0].kind, DirectiveKind::kDefine);
  EXPECT_EQ(l.directives[0].name, "A");
  EXPECT_EQ(l.directives[0].value, "1");
  EXPECT_EQ(l.directives[1].value, "\"x\"   \"y\"");
  EXPECT_EQ(l.directives[2].kind, DirectiveKind::kIfdef);
  EXPECT_EQ(l.directives[3].kind, DirectiveKind::kIfndef);
  EXPECT_EQ(l.directives[4].kind, DirectiveKind::kElse);
  EXPECT_EQ(l.directives[6].kind, DirectiveKind::kEndif);
  EXPECT_EQ(l.directives[7].kind, DirectiveKind::kTryDef);
  EXPECT_FALSE(l.directives[7].has_value);
  EXPECT_EQ(l.directives[8].kind, DirectiveKind::kRedefine);
  EXPECT_EQ(l.directives[9].kind, DirectiveKind::kSubst);
  EXPECT_EQ(l.directives[10].kind, DirectiveKind::kIncludeFile);
  EXPECT_EQ(l.directives[10].name, "x.cfg");
  EXPECT_EQ(l.directives[11].kind, DirectiveKind::kImportFile);
  ASSERT_EQ(l.tokens.size(), 1u);  // the #!subst string
  EXPECT_EQ(l.tokens[0].text, "/a/b/");
  EXPECT_TRUE(l.diags.empty());
}

TEST(Lexer, DirectiveErrors) {
  auto l = lex("#!foo\n#!define X-Y 1\n#!endif // x\n#!define\n#!/bin/sh\n");
  ASSERT_EQ(l.diags.size(), 4u);
  EXPECT_EQ(l.diags[0].message, "unknown preprocessor directive '#!foo'");
  EXPECT_NE(l.diags[1].message.find("'-' is not allowed"), std::string::npos);
  EXPECT_NE(l.diags[2].message.find("unexpected text after #!endif"), std::string::npos);
  EXPECT_NE(l.diags[3].message.find("expected a name after #!define"), std::string::npos);
  // "#!/" (not a word) is a plain comment, as in Kamailio.
}

TEST(Lexer, IncludeNeedsQuotes) {
  auto l = lex("include_file x.cfg\n");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_NE(l.diags[0].message.find("double quotes"), std::string::npos);
}

TEST(Lexer, DoubleBangIsNegationUnlessDirective) {
  auto l = lex("!!x !!ifdef A\n");
  ASSERT_EQ(l.tokens.size(), 3u);
  EXPECT_EQ(l.tokens[0].kind, TokenKind::kNot);
  EXPECT_EQ(l.tokens[1].kind, TokenKind::kNot);
  ASSERT_EQ(l.directives.size(), 1u);
  EXPECT_EQ(l.directives[0].kind, DirectiveKind::kIfdef);
}

TEST(Lexer, SkipInactiveFindsOnlyConditionals) {
  Diagnostics diags;
  Lexer lexer("garbage \" ` #!define X\n/* #!else\n*/ x\n#!endif\nafter", 0, diags);
  LexItem item = lexer.skip_inactive();
  ASSERT_TRUE(item.is_directive);
  EXPECT_EQ(item.directive.kind, DirectiveKind::kElse);  // comments are not seen when skipping
  item = lexer.skip_inactive();
  ASSERT_TRUE(item.is_directive);
  EXPECT_EQ(item.directive.kind, DirectiveKind::kEndif);
  item = lexer.next();
  EXPECT_EQ(item.token.text, "after");
  EXPECT_TRUE(diags.list().empty());
}

}  // namespace
}  // namespace strowger::proxy::script
