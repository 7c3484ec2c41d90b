// Pseudo-variables (get and set) and transformations.
#include <gtest/gtest.h>

#include "tests/unit/script_engine/engine_test_util.h"

namespace strowger::proxy::script::engine::test {
namespace {

TEST(Pv, MessageValues) {
  EXPECT_EQ(eval("$ru"), "\"sip:bob@example.com\"");
  EXPECT_EQ(eval("$rU"), "\"bob\"");
  EXPECT_EQ(eval("$rd"), "\"example.com\"");
  EXPECT_EQ(eval("$rz"), "\"sip\"");
  EXPECT_EQ(eval("$fu"), "\"sip:alice@example.org\"");
  EXPECT_EQ(eval("$fU"), "\"alice\"");
  EXPECT_EQ(eval("$fd"), "\"example.org\"");
  EXPECT_EQ(eval("$fn"), "\"Alice A\"");
  EXPECT_EQ(eval("$ft"), "\"ft1\"");
  EXPECT_EQ(eval("$tt"), "$null");
  EXPECT_EQ(eval("$tU"), "\"bob\"");
  EXPECT_EQ(eval("$si"), "\"192.0.2.10\"");
  EXPECT_EQ(eval("$sp"), "5060");
  EXPECT_EQ(eval("$Ri"), "\"127.0.0.1\"");
  EXPECT_EQ(eval("$Rp"), "5060");
  EXPECT_EQ(eval("$proto"), "\"udp\"");
  EXPECT_EQ(eval("$rm"), "\"INVITE\"");
  EXPECT_EQ(eval("$rs"), "$null");
  EXPECT_EQ(eval("$ci"), "\"call-1@192.0.2.10\"");
  EXPECT_EQ(eval("$cs"), "7");
  EXPECT_EQ(eval("$ua"), "\"TestUA/1.0\"");
  EXPECT_EQ(eval("$hdr(User-Agent)"), "\"TestUA/1.0\"");
  EXPECT_EQ(eval("$hdr(X-Multi)"), "\"one\"");
  EXPECT_EQ(eval("$(hdr(X-Multi)[1])"), "\"two\"");
  EXPECT_EQ(eval("$(hdr(X-Multi)[-1])"), "\"two\"");
  EXPECT_EQ(eval("$hdrc(X-Multi)"), "2");
  EXPECT_EQ(eval("$hdrc(X-None)"), "0");
  EXPECT_EQ(eval("$hdr(X-None)"), "$null");
  EXPECT_EQ(eval("$T_reply_code"), "0");
  EXPECT_EQ(eval("$du"), "$null");
  EXPECT_EQ(eval("$au"), "$null");
}

TEST(Pv, ResponseValues) {
  const char* reply =
      "SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-3\n"
      "From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c\nCSeq: 1 INVITE\n\n";
  EXPECT_EQ(eval("$rs", reply), "486");
  EXPECT_EQ(eval("$rr", reply), "\"Busy Here\"");
  EXPECT_EQ(eval("$rm", reply), "\"INVITE\"");
  EXPECT_EQ(eval("$ru", reply), "$null");
}

TEST(Pv, Credentials) {
  std::string msg = std::string(kInvite);
  msg.insert(msg.find("User-Agent"),
             "Authorization: Digest username=\"alice\", realm=\"example.org\", nonce=\"n\", "
             "uri=\"sip:bob@example.com\", response=\"00\"\n");
  EXPECT_EQ(eval("$au", msg), "\"alice\"");
  EXPECT_EQ(eval("$ar", msg), "\"example.org\"");
}

TEST(Pv, Assignments) {
  auto r =
      run("$rU = \"carol\"; $rd = \"example.net\"; $rp = 5080; $var(a) = $ru; "
          "$du = \"sip:10.0.0.1:5062\"; $var(d) = $du; "
          "$avp(x) = 1; $avp(x) = 2; $var(top) = $avp(x); $var(old) = $(avp(x)[1]); "
          "$shv(counter) = 5; $var(s) = $shv(counter); $var(n) = 1; $var(n) += 2;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["a"].repr(), "\"sip:carol@example.net:5080\"");
  EXPECT_EQ(r->ctx->vars["d"].repr(), "\"sip:10.0.0.1:5062\"");
  EXPECT_EQ(r->ctx->dst_uri, "sip:10.0.0.1:5062");
  EXPECT_EQ(r->ctx->vars["top"].repr(), "2");
  EXPECT_EQ(r->ctx->vars["old"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["s"].repr(), "5");
  EXPECT_EQ(r->ctx->vars["n"].repr(), "3");
  EXPECT_EQ(r->program->shared_vars->get("counter").repr(), "5");
  EXPECT_EQ(r->host->message().request_uri().to_string(), "sip:carol@example.net:5080");
  r = run("$avp(x) = 1; $avp(x) = 2; $(avp(x)[*]) = $null; $var(v) = $avp(x);");
  EXPECT_EQ(r->ctx->vars["v"].repr(), "$null");
}

TEST(Pv, BadAssignmentIsLoggedNotFatal) {
  auto r = run("$ru = \"not a uri\"; $var(after) = 1;");
  ASSERT_EQ(r->error, "");
  EXPECT_NE(r->trace.out.find("cannot assign"), std::string::npos);
  EXPECT_EQ(r->ctx->vars["after"].repr(), "1");
}

TEST(Transform, Strings) {
  EXPECT_EQ(eval("$(fU{s.len})"), "5");
  EXPECT_EQ(eval("$(fU{s.toupper})"), "\"ALICE\"");
  EXPECT_EQ(eval("$(ua{s.tolower})"), "\"testua/1.0\"");
  EXPECT_EQ(eval("$(fU{s.substr,1,3})"), "\"lic\"");
  EXPECT_EQ(eval("$(fU{s.substr,1,0})"), "\"lice\"");
  EXPECT_EQ(eval("$(fU{s.substr,-2,0})"), "\"ce\"");
  EXPECT_EQ(eval("$(ci{s.select,0,@})"), "\"call-1\"");
  EXPECT_EQ(eval("$(ci{s.select,-1,@})"), "\"192.0.2.10\"");
  EXPECT_EQ(eval("$(ci{s.select,5,@})"), "$null");
  EXPECT_EQ(eval("$(var(none){s.len})"), "0");
  EXPECT_EQ(eval("$(fU{s.toupper}{s.substr,0,2})"), "\"AL\"");
}

TEST(Transform, UrisAndParams) {
  EXPECT_EQ(eval("$(ru{uri.user})"), "\"bob\"");
  EXPECT_EQ(eval("$(ru{uri.host})"), "\"example.com\"");
  EXPECT_EQ(eval("$(ct{nameaddr.uri})"), "\"sip:alice@192.0.2.10:5060\"");
  EXPECT_EQ(eval("$(ct{nameaddr.uri}{uri.port})"), "5060");
  EXPECT_EQ(eval("$(hdr(From){nameaddr.name})"), "\"Alice A\"");
  EXPECT_EQ(eval("$(hdr(From){tobody.tag})"), "\"ft1\"");
  auto r =
      run("$var(u) = \"sip:a@h;transport=tcp;lr\"; $var(t) = $(var(u){uri.param,transport}); "
          "$var(p) = \"a=1;b=two;c\"; $var(b) = $(var(p){param.value,b}); "
          "$var(c) = $(var(p){param.count}); $var(n) = \"b\"; "
          "$var(dyn) = $(var(p){param.value,$var(n)});");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["t"].repr(), "\"tcp\"");
  EXPECT_EQ(r->ctx->vars["b"].repr(), "\"two\"");
  EXPECT_EQ(r->ctx->vars["c"].repr(), "3");
  EXPECT_EQ(r->ctx->vars["dyn"].repr(), "\"two\"");
}

TEST(Pv, Selects) {
  EXPECT_EQ(eval("@ruri.user"), "\"bob\"");
  EXPECT_EQ(eval("@from.tag"), "\"ft1\"");
  EXPECT_EQ(eval("@from.uri.host"), "\"example.org\"");
  EXPECT_EQ(eval("@cseq.method"), "\"INVITE\"");
  EXPECT_EQ(eval("@via[1].branch"), "\"z9hG4bK-1\"");
  EXPECT_EQ(eval("$sel(via[1].branch)"), "\"z9hG4bK-1\"");
  EXPECT_EQ(eval("$(sel(ruri.user){s.toupper})"), "\"BOB\"");
  EXPECT_EQ(eval("@call_id"), "\"call-1@192.0.2.10\"");
  // Unknown selects and writes to them are compile errors naming the select.
  EXPECT_NE(errors("request_route { $var(x) = @msg.body; }").find("select @msg.body is not supported"),
            std::string::npos);
  EXPECT_NE(errors("request_route { $var(x) = @via[0]; }").find("start at 1"), std::string::npos);
  EXPECT_NE(errors("request_route { $sel(ruri) = \"x\"; }"), "");
}

}  // namespace
}  // namespace strowger::proxy::script::engine::test
