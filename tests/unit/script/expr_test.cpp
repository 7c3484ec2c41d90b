// Expression tests: Kamailio's precedence, message keywords (method, uri, src_ip, ...), calls.
#include <gtest/gtest.h>

#include "test_util.h"

namespace strowger::proxy::script {
namespace {

using test::cond;
using test::expr;

TEST(Expr, Literals) {
  EXPECT_EQ(expr("42"), "42");
  EXPECT_EQ(expr("-42"), "-42");
  EXPECT_EQ(expr("0x10"), "16");
  EXPECT_EQ(expr("\"a\\tb\""), "\"a\\tb\"");
  EXPECT_EQ(expr("'raw\\n'"), "\"raw\\\\n\"");
  EXPECT_EQ(expr("$null"), "$null");
  EXPECT_EQ(expr("yes"), "1");
  EXPECT_EQ(expr("$(ru{uri.user})"), "$(ru{uri.user})");
  EXPECT_EQ(expr("@ruri.user"), "@ruri.user");
  EXPECT_EQ(expr("@via[1].branch"), "@via[1].branch");
}

TEST(Expr, ArithmeticPrecedenceAndAssociativity) {
  EXPECT_EQ(expr("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(expr("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(expr("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(expr("8 / 4 / 2"), "(/ (/ 8 4) 2)");
  EXPECT_EQ(expr("7 % 3 + 1"), "(+ (% 7 3) 1)");
  EXPECT_EQ(expr("7 mod 3"), "(% 7 3)");
  EXPECT_EQ(expr("\"sip:\" + $rU + \"@\" + $rd"), "(+ (+ (+ \"sip:\" $rU) \"@\") $rd)");
}

TEST(Expr, UnaryOperators) {
  EXPECT_EQ(expr("-$var(a) * 2"), "(* (neg $var(a)) 2)");
  EXPECT_EQ(expr("!$var(a)"), "(! $var(a))");
  EXPECT_EQ(expr("not $var(a)"), "(! $var(a))");
  EXPECT_EQ(expr("~$var(a) & 3"), "(& (~ $var(a)) 3)");
  EXPECT_EQ(expr("(int)$var(a) + 1"), "(+ ((int) $var(a)) 1)");
  EXPECT_EQ(expr("(str)5"), "((str) 5)");
  EXPECT_EQ(expr("defined $avp(x)"), "(defined $avp(x))");
  EXPECT_EQ(expr("strlen($ru) > 3"), "(> (strlen $ru) 3)");
  EXPECT_EQ(expr("strempty($sel(cfg_get.a.b))"), "(strempty $sel(cfg_get.a.b))");
}

TEST(Expr, LogicalAndComparisonPrecedence) {
  EXPECT_EQ(expr("!$a && $b || $c"), "(|| (&& (! $a) $b) $c)");
  EXPECT_EQ(expr("$a || $b && $c"), "(|| $a (&& $b $c))");
  EXPECT_EQ(expr("$a == 1 && $b =~ \"x\""), "(&& (== $a 1) (=~ $b \"x\"))");
  EXPECT_EQ(expr("$a < $b == $c"), "(== (< $a $b) $c)");
  EXPECT_EQ(expr("$a + 1 > $b * 2"), "(> (+ $a 1) (* $b 2))");
  EXPECT_EQ(expr("$a and $b or $c"), "(|| (&& $a $b) $c)");
  EXPECT_EQ(expr("$a eq \"x\" && $b ne \"y\""), "(&& (eq $a \"x\") (ne $b \"y\"))");
  EXPECT_EQ(expr("$a ieq 1 || $a ine 2"), "(|| (ieq $a 1) (ine $a 2))");
}

TEST(Expr, BitwiseOperatorsFollowKamailio) {
  // cfg.y: | < & < ^ < << < >> < comparisons: the bit operators bind looser than ==.
  EXPECT_EQ(expr("$a & 4 == 4"), "(& $a (== 4 4))");
  EXPECT_EQ(expr("$a | $b & $c ^ $d"), "(| $a (& $b (^ $c $d)))");
  EXPECT_EQ(expr("1 << 2 >> 1"), "(<< 1 (>> 2 1))");
  EXPECT_EQ(expr("$a && $b | $c"), "(&& $a (| $b $c))");
}

TEST(Expr, NegatedMatchExtension) {
  EXPECT_EQ(expr("$ru !~ \"^sip:\""), "(!~ $ru \"^sip:\")");
  EXPECT_EQ(expr("$a !~ \"x\" || $b"), "(|| (!~ $a \"x\") $b)");
}

TEST(Expr, FunctionCallsAsValues) {
  EXPECT_EQ(cond("t_check_trans() && $var(x)"), "(&& (call t_check_trans) $var(x))");
  EXPECT_EQ(cond("!is_method(\"ACK\")"), "(! (call is_method \"ACK\"))");
  EXPECT_EQ(cond("is_myself(\"sip:\" + $hdr(Host))"), "(call is_myself (+ \"sip:\" $hdr(Host)))");
  EXPECT_EQ(cond("nat_uac_test(64)"), "(call nat_uac_test 64)");
}

TEST(Expr, MessageKeywords) {
  EXPECT_EQ(cond("method == \"INVITE\""), "(== (field method) \"INVITE\")");
  EXPECT_EQ(cond("method == INVITE"), "(== (field method) (ident INVITE))");
  EXPECT_EQ(cond("method=~\"^(INVITE|ACK)$\""), "(=~ (field method) \"^(INVITE|ACK)$\")");
  EXPECT_EQ(cond("uri == myself"), "(== (field uri) myself)");
  EXPECT_EQ(cond("from_uri != myself && uri != myself"),
            "(&& (!= (field from_uri) myself) (!= (field uri) myself))");
  EXPECT_EQ(cond("myself != to_uri"), "(!= myself (field to_uri))");
  EXPECT_EQ(cond("status =~ \"[12][0-9][0-9]\""), "(=~ (field status) \"[12][0-9][0-9]\")");
  EXPECT_EQ(cond("src_ip == myself"), "(== (field src_ip) myself)");
  EXPECT_EQ(cond("src_ip != 127.0.0.1"), "(!= (field src_ip) (ip 127.0.0.1))");
  EXPECT_EQ(cond("src_ip == 10.0.0.0/8"), "(== (field src_ip) (ip 10.0.0.0/8))");
  EXPECT_EQ(cond("dst_ip == 10.0.0.0/255.0.0.0"), "(== (field dst_ip) (ip 10.0.0.0/255.0.0.0))");
  EXPECT_EQ(cond("src_ip == ::1"), "(== (field src_ip) (ip ::1))");
  EXPECT_EQ(cond("src_ip == [2001:db8::1]/64"), "(== (field src_ip) (ip 2001:db8::1/64))");
  EXPECT_EQ(cond("src_ip == gw-1.example.com"), "(== (field src_ip) (ident gw-1.example.com))");
  EXPECT_EQ(cond("src_ip == $var(ip)"), "(== (field src_ip) $var(ip))");
  EXPECT_EQ(cond("proto == WS || proto == WSS"),
            "(|| (== (field proto) (ident WS)) (== (field proto) (ident WSS)))");
  EXPECT_EQ(cond("proto == TLS && af == INET6"),
            "(&& (== (field proto) (ident TLS)) (== (field af) 10))");
  EXPECT_EQ(cond("src_port >= 1024 && dst_port == 5060"),
            "(&& (>= (field src_port) 1024) (== (field dst_port) 5060))");
  EXPECT_EQ(cond("msg:len > 4096"), "(> (field msg:len) 4096)");
  EXPECT_EQ(cond("snd_proto == UDP"), "(== (field snd_proto) (ident UDP))");
  // !uri == myself is !(uri == myself), as in Kamailio where the comparison is one operand.
  EXPECT_EQ(cond("!uri == myself"), "(! (== (field uri) myself))");
  EXPECT_EQ(cond("uri == \"sip:a@\" + $fd"), "(== (field uri) (+ \"sip:a@\" $fd))");
}

TEST(Expr, KeywordMisuseIsAnError) {
  EXPECT_NE(cond("method").find("'method' must be compared with ==, != or =~"), std::string::npos);
  EXPECT_NE(cond("uri > 3").find("'uri' must be compared"), std::string::npos);
  EXPECT_NE(cond("proto =~ \"t\"").find("'proto' must be compared with == or !="),
            std::string::npos);
  EXPECT_NE(cond("src_port =~ \"5\"").find("'src_port' must be compared with ==, !=, <"),
            std::string::npos);
  EXPECT_NE(cond("$var(x) == myself").find("'myself' must be compared"), std::string::npos);
  EXPECT_NE(cond("myself == $ru").find("expected uri, from_uri"), std::string::npos);
}

TEST(Expr, AddressesAndNamesOnlyWhereKamailioTakesThem) {
  EXPECT_NE(expr("1.2.3.4").find("an IP address is only valid after src_ip"), std::string::npos);
  EXPECT_NE(cond("$si == 127.0.0.1").find("an IP address is only valid"), std::string::npos);
  EXPECT_NE(expr("FOO").find("'FOO' is not a value: use a string (\"FOO\")"), std::string::npos);
  EXPECT_NE(cond("src_ip == 300.1.1.1").find("invalid IPv4 address"), std::string::npos);
  EXPECT_NE(cond("src_ip == 10.0.0.0/33").find("invalid network prefix length /33"),
            std::string::npos);
  EXPECT_NE(cond("src_ip == (10.0.0.1)").find("an IP address is only valid"), std::string::npos);
}

TEST(Expr, ErrorsPointAtTheProblem) {
  auto r = test::parse("request_route {\n  $var(x) = 1 + ;\n}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.format_diagnostics(), "test.cfg:2:17: expected an expression, found ';'\n");
  auto p = test::parse("request_route {\n  if ((1 + 2) exit;\n}\n");
  EXPECT_EQ(
      p.format_diagnostics(),
      "test.cfg:2:14: expected ')' to close the '(' at test.cfg:2:6, found identifier 'exit'\n");
  auto k = test::parse("request_route {\n  if (return) exit;\n}\n");
  EXPECT_EQ(k.format_diagnostics(),
            "test.cfg:2:7: expected an expression, found the keyword 'return'\n");
}

TEST(Expr, InvalidPseudoVariableIsReportedAtItsToken) {
  auto r = test::parse("request_route {\n  $var(x) = $(ru{s.len);\n}\n");
  EXPECT_EQ(r.format_diagnostics(),
            "test.cfg:2:13: invalid pseudo-variable $(ru{s.len): missing '}' after "
            "transformation {s.len)\n");
}

TEST(Expr, DeepParenthesesHitTheNestingLimit) {
  std::string deep(5000, '(');
  auto r = test::parse("request_route {\n $var(x) = " + deep + "1;\n}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.format_diagnostics().find("nesting too deep (more than 100 levels)"),
            std::string::npos);
  std::string nots(5000, '!');
  EXPECT_FALSE(test::parse("request_route { if (" + nots + "$x) exit; }").ok());
}

}  // namespace
}  // namespace strowger::proxy::script
