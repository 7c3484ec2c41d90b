// auth.so loaded through a script (dlopen): REGISTER challenged with 401, answered with the
// credentials a UA computes from that challenge, consume_credentials, 407 for INVITE, stale,
// and the auth.reload RPC.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "modules/auth/digest.h"
#include "tests/unit/support/script_runner.h"
#include "tests/unit/support/test_module_host.h"

namespace strowger::proxy {
namespace {

namespace auth = modules::auth;

class TestHost final : public test_support::TestModuleHost {
 public:
  TestHost() { dir = ::testing::TempDir(); }
};

std::string request(const std::string& method, const std::string& auth_header) {
  std::string m = method +
                  " sip:example.com SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" +
                  method +
                  "\r\n"
                  "Max-Forwards: 70\r\n"
                  "From: <sip:alice@example.com>;tag=1\r\n"
                  "To: <sip:alice@example.com>\r\n"
                  "Call-ID: c1\r\n"
                  "CSeq: 1 " +
                  method + "\r\n";
  if (!auth_header.empty()) m += auth_header + "\r\n";
  return m + "Content-Length: 0\r\n\r\n";
}

struct RouteRun {
  std::string r;
  std::string actions;
  bool has_authorization = false;
};

TEST(AuthModule, ChallengeAuthenticateConsume) {
  std::string subs = ::testing::TempDir() + "auth_module_subs.yaml";
  std::ofstream(subs) << "- {username: alice, domain: example.com, password: wonderland}\n";
  TestHost host;
  auto program = test_support::load_script(
      "loadmodule \"auth_db.so\"\n"
      "modparam(\"auth\", \"subscriber_file\", \"auth_module_subs.yaml\")\n"
      "modparam(\"auth\", \"nonce_expire\", 60)\n"
      "request_route {\n"
      "  route(CHECK);\n"  // $retcode is set by route returns (not by function calls yet)
      "  $var(code) = $retcode;\n"
      "  if ($var(code) < 0) {\n"
      "    $var(r) = \"fail \" + $var(code);\n"
      "    auth_challenge(\"$fd\", \"0\");\n"
      "    exit;\n"
      "  }\n"
      "  if (!is_method(\"REGISTER\")) consume_credentials();\n"
      "  $var(r) = \"ok\";\n"
      "}\n"
      "route[CHECK] { return auth_check(\"$fd\", \"subscriber\", \"1\"); }\n",
      "a.cfg", host);
  ASSERT_NE(program, nullptr);

  auto run = [&](const std::string& text) {
    test_support::RouteRun route(*program, text);
    RouteRun out;
    out.r = route.var("r");
    for (const auto& a : route.host().actions()) out.actions += a + "\n";
    out.has_authorization = route.host().message().has_header("Authorization") ||
                            route.host().message().has_header("Proxy-Authorization");
    return out;
  };
  auto nonce_of = [](const std::string& actions) {
    std::size_t at = actions.find("nonce=\"");
    if (at == std::string::npos) return std::string();
    return actions.substr(at + 7, actions.find('"', at + 7) - at - 7);
  };
  auto credentials = [](const std::string& name, const std::string& method,
                        const std::string& nonce, const std::string& password) {
    std::string ha1 = auth::compute_ha1(auth::Algorithm::kMd5, "alice", "example.com", password);
    std::string resp = auth::compute_response(auth::Algorithm::kMd5, ha1, method, "sip:example.com",
                                              nonce, "00000001", "abc", "auth");
    return name + ": Digest username=\"alice\", realm=\"example.com\", nonce=\"" + nonce +
           "\", uri=\"sip:example.com\", response=\"" + resp +
           "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\"";
  };

  RouteRun first = run(request("REGISTER", ""));
  EXPECT_EQ(first.r, "fail -5");
  EXPECT_NE(first.actions.find("reply 401 Unauthorized (stateless)\n  + WWW-Authenticate: Digest "
                               "realm=\"example.com\""),
            std::string::npos)
      << first.actions;
  EXPECT_NE(first.actions.find("algorithm=SHA-256"), std::string::npos);
  std::string nonce = nonce_of(first.actions);
  ASSERT_FALSE(nonce.empty());

  RouteRun ok =
      run(request("REGISTER", credentials("Authorization", "REGISTER", nonce, "wonderland")));
  EXPECT_EQ(ok.r, "ok") << ok.actions;
  EXPECT_TRUE(ok.has_authorization);  // REGISTER keeps them (the script skips consume)
  RouteRun again =
      run(request("REGISTER", credentials("Authorization", "REGISTER", nonce, "wonderland")));
  EXPECT_EQ(again.r, "fail -6");  // same nc: replay
  RouteRun wrong =
      run(request("REGISTER", credentials("Authorization", "REGISTER", nonce, "guess")));
  EXPECT_EQ(wrong.r, "fail -2");
  EXPECT_NE(wrong.actions.find("reply 401"), std::string::npos);
  EXPECT_EQ(wrong.actions.find("stale"), std::string::npos);
  // A nonce that is not ours (garbage, another secret): re-challenged with stale=true.
  RouteRun stale = run(request(
      "REGISTER", credentials("Authorization", "REGISTER", std::string(72, 'a'), "wonderland")));
  EXPECT_EQ(stale.r, "fail -4");
  EXPECT_NE(stale.actions.find("stale=true"), std::string::npos) << stale.actions;

  RouteRun invite = run(request("INVITE", ""));
  EXPECT_NE(invite.actions.find("reply 407 Proxy Authentication Required (stateless)\n"
                                "  + Proxy-Authenticate: Digest realm=\"example.com\""),
            std::string::npos)
      << invite.actions;
  std::string inonce = nonce_of(invite.actions);
  RouteRun authed =
      run(request("INVITE", credentials("Proxy-Authorization", "INVITE", inonce, "wonderland")));
  EXPECT_EQ(authed.r, "ok") << authed.actions;
  EXPECT_FALSE(authed.has_authorization);  // consume_credentials removed them

  // auth.reload: a broken file is an error for sipctl and the old subscribers stay.
  const module::LoadedModule* m = module::ModuleRegistry::instance().find("auth");
  ASSERT_NE(m, nullptr);
  const sipproxy::RpcSpec* reload = nullptr;
  for (const auto& r : m->descriptor->rpcs)
    if (r.name == "auth.reload") reload = &r;
  ASSERT_NE(reload, nullptr);
  std::ofstream(subs) << "- {username: alice, domain: example.com}\n";
  try {
    reload->handler(common::Json::object());
    ADD_FAILURE() << "reload of a broken file succeeded";
  } catch (const common::ControlError& e) {
    EXPECT_NE(std::string(e.what()).find("auth_module_subs.yaml:1: subscriber alice@example.com "
                                         "needs password"),
              std::string::npos)
        << e.what();
  }
  RouteRun still = run(request("INVITE", ""));
  RouteRun still_ok = run(request("INVITE", credentials("Proxy-Authorization", "INVITE",
                                                        nonce_of(still.actions), "wonderland")));
  EXPECT_EQ(still_ok.r, "ok");
  std::ofstream(subs) << "- {username: alice, domain: example.com, password: changed}\n";
  common::Json res = reload->handler(common::Json::object());
  EXPECT_EQ(res["subscribers"], 1);
  RouteRun old_pw = run(request("INVITE", ""));
  RouteRun refused = run(request("INVITE", credentials("Proxy-Authorization", "INVITE",
                                                       nonce_of(old_pw.actions), "wonderland")));
  EXPECT_EQ(refused.r, "fail -2");
  std::remove(subs.c_str());
}

}  // namespace
}  // namespace strowger::proxy
