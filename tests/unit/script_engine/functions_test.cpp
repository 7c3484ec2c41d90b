// Built-in functions over a DryRunHost: replies, relay, headers, flags, maxfwd, loose_route.
#include <gtest/gtest.h>

#include "tests/unit/script_engine/engine_test_util.h"

namespace strowger::proxy::script::engine::test {
namespace {

std::string actions(const Run& r) {
  std::string out;
  for (const auto& a : r.host->actions()) out += a + "\n";
  return out;
}

TEST(Functions, RepliesAndRelay) {
  auto r = run("sl_send_reply(\"404\", \"No $rU here\");");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(actions(*r), "reply 404 No bob here (stateless)\n");
  r = run("t_on_failure(\"F\"); $du = \"sip:10.0.0.1\"; t_relay();", kInvite,
          "failure_route[F] { exit; }");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(actions(*r), "relay (stateful) to sip:10.0.0.1, failure route failure_route[F]\n");
  EXPECT_EQ(r->ctx->failure_route, r->program->find(RouteKind::kFailure, "F"));
  r = run("t_newtran(); send_reply(\"180\", \"Ringing\");");
  EXPECT_EQ(actions(*r), "reply 180 Ringing (stateful)\n");
}

TEST(Functions, Headers) {
  auto r =
      run("append_hf(\"X-App: $fU\\r\\n\"); insert_hf(\"X-First: 1\\r\\n\"); "
          "if (is_present_hf(\"X-App\")) $var(a) = 1; $var(n) = remove_hf(\"X-Multi\"); "
          "if (!is_present_hf(\"X-Multi\")) $var(gone) = 1;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["a"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["n"].repr(), "2");
  EXPECT_EQ(r->ctx->vars["gone"].repr(), "1");
  std::string wire(r->host->message().wire());
  EXPECT_NE(wire.find("X-App: alice\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("INVITE sip:bob@example.com SIP/2.0\r\nX-First: 1\r\n"), 0u);
}

TEST(Functions, SearchAndSubst) {
  auto r =
      run("if (search(\"^user-agent: testua\")) $var(s) = 1; "
          "subst(\"/TestUA/OtherUA/\"); $var(ua) = $ua;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["s"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["ua"].repr(), "\"OtherUA/1.0\"");
}

TEST(Functions, Flags) {
  auto r =
      run("setflag(3); if (isflagset(3)) $var(a) = 1; resetflag(3); if (!isflagset(3)) "
          "$var(b) = 1; setbflag(7); if (isbflagset(\"7\")) $var(c) = 1; setflag(NAMED); "
          "if (isflagset(NAMED)) $var(d) = 1;",
          kInvite, "flags NAMED:9;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["a"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["b"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["c"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["d"].repr(), "1");
  EXPECT_EQ(r->ctx->bflags, 1u << 7);
  EXPECT_EQ(r->ctx->flags, 1u << 9);
}

TEST(Functions, MaxForwards) {
  auto r = run("$var(r) = mf_process_maxfwd_header(\"10\");");
  EXPECT_EQ(r->ctx->vars["r"].repr(), "1");
  EXPECT_EQ(r->host->message().max_forwards(), 69u);
  std::string zero = kInvite;
  zero.replace(zero.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  r = run("if (!mf_process_maxfwd_header(\"10\")) sl_send_reply(\"483\", \"Too Many Hops\");",
          zero);
  EXPECT_EQ(actions(*r), "reply 483 Too Many Hops (stateless)\n");
  std::string none = kInvite;
  none.erase(none.find("Max-Forwards: 70\n"), 17);
  r = run("$var(r) = mf_process_maxfwd_header(\"10\");", none);
  EXPECT_EQ(r->ctx->vars["r"].repr(), "2");
  EXPECT_EQ(r->host->message().max_forwards(), 10u);
}

TEST(Functions, LooseRoute) {
  std::string msg = kInvite;
  msg.insert(msg.find("From:"), "Route: <sip:127.0.0.1;lr>, <sip:10.9.9.9;lr>\n");
  msg.replace(msg.find("To: <sip:bob@example.com>"), 25, "To: <sip:bob@example.com>;tag=t");
  auto r = run("$var(r) = loose_route();", msg);
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["r"].repr(), "1");
  EXPECT_EQ(r->ctx->dst_uri, "sip:10.9.9.9;lr");
  EXPECT_EQ(r->host->message().routes().size(), 1u);
  r = run("$var(r) = loose_route();");
  EXPECT_EQ(r->ctx->vars["r"].repr(), "-1");
}

TEST(Functions, LooseRouteTakesBothOfOurDoubleRecordRoutes) {
  // record_route on a transport change (WSS in, UDP out) leaves two of ours with r2=on.
  std::string msg = kInvite;
  msg.insert(msg.find("From:"),
             "Route: <sip:127.0.0.1:5060;transport=ws;lr;r2=on;nat=yes>, "
             "<sip:127.0.0.1;lr;r2=on;nat=yes>, <sip:10.9.9.9;lr>\n");
  msg.replace(msg.find("To: <sip:bob@example.com>"), 25, "To: <sip:bob@example.com>;tag=t");
  auto r = run("loose_route(); if (check_route_param(\"nat=yes\")) $var(n) = 1;", msg);
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->dst_uri, "sip:10.9.9.9;lr");
  EXPECT_EQ(r->host->message().routes().size(), 1u);
  EXPECT_EQ(r->ctx->vars["n"].repr(), "1");
  // The last of ours: the Request-URI is the target.
  msg = kInvite;
  msg.insert(msg.find("From:"), "Route: <sip:127.0.0.1;lr;r2=on>, <sip:127.0.0.1:5060;transport=tcp;lr;r2=on>\n");
  r = run("$var(r) = loose_route();", msg);
  EXPECT_EQ(r->ctx->vars["r"].repr(), "1");
  EXPECT_EQ(r->ctx->dst_uri, "");
  EXPECT_EQ(r->host->message().routes().size(), 0u);
}

TEST(Functions, XlogAndMethods) {
  auto r =
      run("xlog(\"L_INFO\", \"call from $fU to $rU\\n\"); xerr(\"e\"); "
          "if (is_method(\"REGISTER|INVITE\")) $var(m) = 1; if (has_totag()) $var(t) = 1;");
  ASSERT_EQ(r->error, "");
  EXPECT_NE(r->trace.out.find("log INFO: call from alice to bob\n"), std::string::npos);
  EXPECT_NE(r->trace.out.find("log ERROR: e\n"), std::string::npos);
  EXPECT_EQ(r->ctx->vars["m"].repr(), "1");
  EXPECT_EQ(r->ctx->vars.count("t"), 0u);
}

TEST(Functions, ForceRport) {
  auto r = run("force_rport();");
  ASSERT_EQ(r->error, "");
  EXPECT_TRUE(r->host->message().via(0)->has_rport);
  EXPECT_EQ(r->host->message().via(0)->branch, "z9hG4bK-1");
}

TEST(Functions, RequestUriRewrites) {
  auto ruri = [](std::string_view body) {
    auto r = run(std::string(body) + " $var(u) = $ru;");
    return r->error.empty() ? r->ctx->vars["u"].to_str() : "ERR " + r->error;
  };
  EXPECT_EQ(ruri("prefix(\"+49\");"), "sip:+49bob@example.com");
  EXPECT_EQ(ruri("strip(1);"), "sip:ob@example.com");
  EXPECT_EQ(ruri("strip(10);"), "sip:example.com");
  EXPECT_EQ(ruri("strip_tail(2);"), "sip:b@example.com");
  EXPECT_EQ(ruri("rewriteuser(\"carol\");"), "sip:carol@example.com");
  EXPECT_EQ(ruri("rewritehost(\"10.0.0.9\");"), "sip:bob@10.0.0.9");
  EXPECT_EQ(ruri("rewritehostport(\"10.0.0.9:5070\");"), "sip:bob@10.0.0.9:5070");
  EXPECT_EQ(ruri("sethostport(\"[2001:db8::1]:5070\");"), "sip:bob@[2001:db8::1]:5070");
  EXPECT_EQ(ruri("rewriteport(\"5080\");"), "sip:bob@example.com:5080");
  EXPECT_EQ(ruri("rewriteuri(\"sip:x@y.org;transport=tcp\");"), "sip:x@y.org;transport=tcp");
  // Bad values are refused (false) and leave the Request-URI alone.
  auto r = run("if (!rewriteport(\"99999\")) $var(bad) = 1; if (!rewriteuri(\"::\")) "
               "$var(bad2) = 1; $var(u) = $ru;");
  ASSERT_EQ(r->error, "");
  EXPECT_EQ(r->ctx->vars["bad"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["bad2"].repr(), "1");
  EXPECT_EQ(r->ctx->vars["u"].to_str(), "sip:bob@example.com");
  EXPECT_NE(errors("request_route { strip(-1); }"), "");
  EXPECT_NE(errors("request_route { prefix(); }"), "");
}

}  // namespace
}  // namespace strowger::proxy::script::engine::test
