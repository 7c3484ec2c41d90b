// Pseudo-variable and format-string parsing tests: names, inner names, indexes, transformations.
#include "proxy/script/pv.h"

#include <gtest/gtest.h>

namespace strowger::proxy::script {
namespace {

PvRef pv(std::string_view text) {
  PvRef out;
  std::string error;
  std::size_t used = parse_pv(text, &out, &error);
  EXPECT_EQ(used, text.size()) << text << ": " << error;
  return out;
}

std::string pv_error(std::string_view text) {
  PvRef out;
  std::string error;
  std::size_t used = parse_pv(text, &out, &error);
  return used == text.size() ? std::string("no error") : error;
}

TEST(Pv, PlainNames) {
  auto p = pv("$ru");
  EXPECT_EQ(p.name, "ru");
  EXPECT_FALSE(p.has_inner);
  EXPECT_EQ(pv("$T_reply_code").name, "T_reply_code");
  EXPECT_EQ(pv("$?").name, "?");
  EXPECT_EQ(pv("$null").name, "null");
}

TEST(Pv, InnerNames) {
  auto p = pv("$var(x)");
  EXPECT_EQ(p.name, "var");
  EXPECT_TRUE(p.has_inner);
  EXPECT_EQ(p.inner, "x");
  EXPECT_EQ(pv("$hdr(X-Foo)").inner, "X-Foo");
  EXPECT_EQ(pv("$avp(i:1)").inner, "i:1");
  EXPECT_EQ(pv("$avp(s:rcv)").inner, "s:rcv");
  auto sht = pv("$sht(ipban=>$si)");
  EXPECT_EQ(sht.inner, "ipban=>$si");
  EXPECT_EQ(sht.inner_pv, nullptr);  // not a pvar as a whole
  auto dyn = pv("$hdr($var(h))");
  ASSERT_NE(dyn.inner_pv, nullptr);
  EXPECT_EQ(dyn.inner_pv->name, "var");
  EXPECT_EQ(dyn.inner_pv->inner, "h");
}

TEST(Pv, ParenthesizedWithTransformations) {
  auto p = pv("$(ru{uri.user})");
  EXPECT_EQ(p.name, "ru");
  ASSERT_EQ(p.transforms.size(), 1u);
  EXPECT_EQ(p.transforms[0].name, "uri.user");
  EXPECT_TRUE(p.transforms[0].params.empty());

  auto q = pv("$(var(a){s.substr,1,2}{s.toupper})");
  EXPECT_EQ(q.inner, "a");
  ASSERT_EQ(q.transforms.size(), 2u);
  EXPECT_EQ(q.transforms[0].name, "s.substr");
  ASSERT_EQ(q.transforms[0].params.size(), 2u);
  EXPECT_EQ(q.transforms[0].params[0].text, "1");
  EXPECT_EQ(q.transforms[0].params[1].text, "2");
  EXPECT_EQ(q.transforms[1].name, "s.toupper");
}

TEST(Pv, TransformParametersCanBePvarsOrHoldBraces) {
  auto p = pv("$(ru{uri.param,$var(p)}{s.select,0,;})");
  ASSERT_EQ(p.transforms.size(), 2u);
  ASSERT_EQ(p.transforms[0].params.size(), 1u);
  ASSERT_NE(p.transforms[0].params[0].pv, nullptr);
  EXPECT_EQ(p.transforms[0].params[0].pv->inner, "p");
  EXPECT_EQ(p.transforms[1].params[1].text, ";");
  auto re = pv("$(rb{re.subst,/(.*)CallID:([0-9A-Za-z@-]{5,120})(.*)$/\\2/s})");
  ASSERT_EQ(re.transforms.size(), 1u);
  ASSERT_EQ(re.transforms[0].params.size(), 1u);
  EXPECT_EQ(re.transforms[0].params[0].text, "/(.*)CallID:([0-9A-Za-z@-]{5,120})(.*)$/\\2/s");
  auto nested = pv("$(hdr(From){nameaddr.uri}{uri.param,$(var(n){s.tolower})})");
  ASSERT_EQ(nested.transforms.size(), 2u);
  ASSERT_NE(nested.transforms[1].params[0].pv, nullptr);
  EXPECT_EQ(nested.transforms[1].params[0].pv->transforms[0].name, "s.tolower");
}

TEST(Pv, Indexes) {
  auto a = pv("$(hdr(Via)[0])");
  EXPECT_EQ(a.index_kind, PvIndexKind::kInt);
  EXPECT_EQ(a.index_value, 0);
  auto b = pv("$(avp(x)[-1]{s.len})");
  EXPECT_EQ(b.index_kind, PvIndexKind::kInt);
  EXPECT_EQ(b.index_value, -1);
  EXPECT_EQ(b.transforms.size(), 1u);
  EXPECT_EQ(pv("$(avp(x)[*])").index_kind, PvIndexKind::kAll);
  EXPECT_EQ(pv("$(avp(x)[+])").index_kind, PvIndexKind::kAppend);
  auto d = pv("$(avp(x)[$var(i)])");
  EXPECT_EQ(d.index_kind, PvIndexKind::kPv);
  ASSERT_NE(d.index_pv, nullptr);
  EXPECT_EQ(d.index_pv->inner, "i");
}

TEST(Pv, Errors) {
  EXPECT_EQ(pv_error("$(ru"), "missing ')' at the end of the pseudo-variable");
  EXPECT_EQ(pv_error("$(ru{s.len)"), "missing '}' after transformation {s.len)");
  EXPECT_EQ(pv_error("$var()"), "empty name in $var()");
  EXPECT_EQ(pv_error("$(avp(x)[a])"), "invalid index [a]");
  EXPECT_EQ(pv_error("$ "), "missing pseudo-variable name after '$'");
  EXPECT_EQ(pv_error("$({s.len})"), "missing pseudo-variable name after '$'");
  EXPECT_EQ(pv_error("$(ru{})"), "empty transformation name in '{...}'");
  EXPECT_EQ(pv_error("$(ru x)"), "unexpected ' ' in pseudo-variable");
}

TEST(Pv, DeepNestingIsRefused) {
  std::string text = "$(a{t,";
  for (int i = 0; i < 40; ++i) text += "$(a{t,";
  EXPECT_EQ(pv_error(text), "pseudo-variable nested too deeply");
}

TEST(Pv, RoundTrip) {
  for (const char* text : {"$ru", "$var(x)", "$(ru{uri.user})", "$(hdr(Via)[0]{s.len})",
                           "$(var(a){s.substr,1,2}{s.toupper})", "$(avp(x)[*])"}) {
    EXPECT_EQ(pv_to_string(pv(text)), text);
  }
}

TEST(Format, SplitsTextAndReferences) {
  std::vector<FormatPart> parts;
  std::string error;
  std::size_t offset = 0;
  ASSERT_TRUE(parse_format("from $fu to $(ru{uri.user}) at $si:$sp!", &parts, &error, &offset));
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[0].text, "from ");
  EXPECT_EQ(parts[0].pv->name, "fu");
  EXPECT_EQ(parts[1].text, " to ");
  EXPECT_EQ(parts[1].pv->transforms[0].name, "uri.user");
  EXPECT_EQ(parts[2].pv->name, "si");
  EXPECT_EQ(parts[3].text, ":");
  EXPECT_EQ(parts[3].pv->name, "sp");
  EXPECT_EQ(parts[4].text, "!");
  EXPECT_EQ(parts[4].pv, nullptr);
}

TEST(Format, DollarDollarIsALiteralDollar) {
  std::vector<FormatPart> parts;
  std::string error;
  std::size_t offset = 0;
  ASSERT_TRUE(parse_format("cost: 5$$", &parts, &error, &offset));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].pv->name, "$");
}

TEST(Format, StrayDollarIsAnError) {
  std::vector<FormatPart> parts;
  std::string error;
  std::size_t offset = 0;
  EXPECT_FALSE(parse_format("cost: 5$ each", &parts, &error, &offset));
  EXPECT_EQ(offset, 7u);
  EXPECT_EQ(error, "missing pseudo-variable name after '$'");
}

}  // namespace
}  // namespace strowger::proxy::script
