// Compatibility tests: Debian's kamailio.cfg (with many -D combinations), the seed WebRTC config
// and Kamailio's own example configs parse with zero errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "proxy/script/parser.h"

namespace strowger::proxy::script {
namespace {

using Defines = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kDebianCfg = "/etc/kamailio/kamailio.cfg";
constexpr const char* kExamples = "/usr/share/doc/kamailio/examples";

Defines defines(std::initializer_list<const char*> names) {
  Defines out;
  for (const char* n : names) out.emplace_back(n, "");
  return out;
}

std::string describe(const Defines& d) {
  std::string out;
  for (const auto& [name, value] : d) out += " -D " + name;
  return out.empty() ? " (no defines)" : out;
}

// Every WITH_* switch the file mentions.
std::set<std::string> switches(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::set<std::string> out;
  std::regex re("WITH_[A-Z0-9_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.insert(it->str());
  }
  return out;
}

TEST(Compat, DebianKamailioCfgParsesWithoutErrors) {
  if (!std::filesystem::exists(kDebianCfg)) GTEST_SKIP() << kDebianCfg << " not installed";
  std::set<std::string> all = switches(kDebianCfg);
  ASSERT_GT(all.size(), 10u);
  std::vector<Defines> combos = {
      {},
      defines({"WITH_MYSQL", "WITH_AUTH", "WITH_USRLOCDB", "WITH_NAT", "WITH_TLS", "WITH_DEBUG"}),
      defines({"WITH_NAT", "WITH_RTPENGINE", "WITH_NATSIPPING", "WITH_ANTIFLOOD"}),
      defines({"WITH_MYSQL", "WITH_AUTH", "WITH_IPAUTH", "WITH_PRESENCE", "WITH_MSGREBUILD",
               "WITH_JSONRPC", "WITH_PSTN", "WITH_VOICEMAIL", "WITH_BLOCK3XX", "WITH_BLOCK401407"}),
  };
  Defines every;
  for (const auto& s : all) every.emplace_back(s, "");
  combos.push_back(every);
  for (const auto& s : all) {  // each switch alone (with the database most of them need)
    combos.push_back({{s, ""}, {"WITH_MYSQL", ""}});
  }
  for (const auto& combo : combos) {
    auto r = parse_script(kDebianCfg, combo);
    EXPECT_TRUE(r.ok()) << describe(combo) << ":\n" << r.format_diagnostics();
    EXPECT_NE(r.script.find_route(RouteKind::kRequest), nullptr) << describe(combo);
    for (const char* name : {"RELAY", "REQINIT", "WITHINDLG", "REGISTRAR", "LOCATION", "AUTH",
                             "NATDETECT", "NATMANAGE", "SIPOUT", "PSTN", "TOVOICEMAIL"}) {
      EXPECT_NE(r.script.find_route(RouteKind::kRoute, name), nullptr) << name << describe(combo);
    }
    EXPECT_NE(r.script.find_route(RouteKind::kFailure, "MANAGE_FAILURE"), nullptr);
    EXPECT_NE(r.script.find_route(RouteKind::kOnReply, "MANAGE_REPLY"), nullptr);
    EXPECT_NE(r.script.find_route(RouteKind::kBranch, "MANAGE_BRANCH"), nullptr);
    EXPECT_NE(r.script.find_route(RouteKind::kReply), nullptr);
    EXPECT_GE(r.script.modules.size(), 20u);
  }
}

TEST(Compat, DebianKamailioCfgContent) {
  if (!std::filesystem::exists(kDebianCfg)) GTEST_SKIP() << kDebianCfg << " not installed";
  auto r = parse_script(kDebianCfg, defines({"WITH_MYSQL", "WITH_AUTH", "WITH_NAT"}));
  ASSERT_TRUE(r.ok()) << r.format_diagnostics();
  const GlobalParam* debug = r.script.find_global("debug");
  ASSERT_NE(debug, nullptr);
  EXPECT_EQ(debug->values[0].int_value, 2);  // DBGLEVEL without WITH_DEBUG
  bool found_db_url = false;
  bool found_log_extra = false;
  for (const auto& m : r.script.modparams) {
    if (m.module == "auth_db" && m.param == "db_url") {
      found_db_url = m.str_value == "mysql://kamailio:kamailiorw@localhost/kamailio";
    }
    if (m.module == "acc" && m.param == "log_extra") {
      found_log_extra = m.str_value ==
                        "src_user=$fU;src_domain=$fd;src_ip=$si;"
                        "dst_ouser=$tU;dst_user=$rU;dst_domain=$rd";
    }
  }
  EXPECT_TRUE(found_db_url);
  EXPECT_TRUE(found_log_extra);
  const Route* reqinit = r.script.find_route(RouteKind::kRoute, "REQINIT");
  ASSERT_NE(reqinit, nullptr);
  EXPECT_EQ(r.where(reqinit->loc), std::string(kDebianCfg) + ":596:1");
}

TEST(Compat, DebianKamailioCfgWithCrLfLineEnds) {
  if (!std::filesystem::exists(kDebianCfg)) GTEST_SKIP() << kDebianCfg << " not installed";
  ParseOptions options;
  options.defines = defines({"WITH_MYSQL", "WITH_AUTH", "WITH_NAT", "WITH_PSTN"});
  options.read_file = [](const std::string& path) -> std::optional<std::string> {
    auto text = read_file_from_disk(path);
    if (!text) return text;
    std::string crlf;
    for (char c : *text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return crlf;
  };
  auto r = parse_script_file(kDebianCfg, options);
  EXPECT_TRUE(r.ok()) << r.format_diagnostics();
  const Route* reqinit = r.script.find_route(RouteKind::kRoute, "REQINIT");
  ASSERT_NE(reqinit, nullptr);
  EXPECT_EQ(r.where(reqinit->loc), std::string(kDebianCfg) + ":596:1");
}

std::string data(const char* name) {
  return std::string(STROWGER_SCRIPT_TEST_DATA) + "/" + name;
}

TEST(Compat, WebRtcSeedConfig) {
  std::vector<Defines> combos = {{},
                                 defines({"WITH_TLS"}),
                                 defines({"WITH_TLS", "WITH_RTPENGINE"}),
                                 defines({"WITH_RTPENGINE"})};
  for (const auto& combo : combos) {
    auto r = parse_script(data("webrtc_seed.cfg"), combo);
    EXPECT_TRUE(r.ok()) << describe(combo) << ":\n" << r.format_diagnostics();
    EXPECT_NE(r.script.find_route(RouteKind::kEvent, "xhttp:request"), nullptr);
    EXPECT_NE(r.script.find_route(RouteKind::kReply), nullptr);
  }
  auto r = parse_script(data("webrtc_seed.cfg"), defines({"WITH_TLS"}));
  std::vector<std::string> listen;
  for (const auto& g : r.script.globals) {
    if (g.name == "listen") listen.push_back(g.values.at(0).text);
  }
  EXPECT_EQ(listen,
            (std::vector<std::string>{"127.0.0.1", "tcp:127.0.0.1:8080", "tls:127.0.0.1:4443"}));
  // MY_WS_PORT came from #!substdef: the comparison holds the number.
  const Route* main = r.script.find_route(RouteKind::kRequest);
  ASSERT_NE(main, nullptr);
  ASSERT_GE(main->body.size(), 2u);
  EXPECT_EQ(to_string(*main->body[1]->expr),
            "(&& (|| (== $Rp 8080) (== $Rp 4443)) (! (|| (== (field proto) (ident WS)) (== "
            "(field proto) (ident WSS)))))");
}

// Example configurations shipped with Kamailio 5.6 that are valid for it.
TEST(Compat, KamailioExampleConfigs) {
  const char* files[] = {"pkg/kamailio-basic.cfg",
                         "pkg/kamailio-oob.cfg",
                         "mixed/kamailio-minimal-proxy.cfg",
                         "mixed/kamailio-minimal-anycast.cfg",
                         "webrtc/kamailio-default-websocket.cfg",
                         "webrtc/websocket.cfg",
                         "outbound/edge_websocket.cfg",
                         "outbound/registrar.cfg",
                         "kamailio/logging.cfg",
                         "exec/exec.cfg"};
  int seen = 0;
  for (const char* f : files) {
    std::string path = std::string(kExamples) + "/" + f;
    if (!std::filesystem::exists(path)) continue;
    ++seen;
    auto r = parse_script(path, {});
    EXPECT_TRUE(r.ok()) << path << ":\n" << r.format_diagnostics();
    EXPECT_FALSE(r.script.routes.empty()) << path;
  }
  if (seen == 0) GTEST_SKIP() << "Kamailio example configs not installed";
  std::string ws = std::string(kExamples) + "/webrtc/kamailio-default-websocket.cfg";
  if (std::filesystem::exists(ws)) {
    // It defines WITH_NAT, WITH_TLS and WITH_WEBSOCKET itself.
    for (const auto& combo : {defines({"WITH_MYSQL", "WITH_AUTH"}),
                              defines({"WITH_MYSQL", "WITH_AUTH", "WITH_USRLOCDB", "WITH_PRESENCE",
                                       "WITH_ANTIFLOOD", "WITH_DEBUG", "WITH_XMLRPC"})}) {
      auto r = parse_script(ws, combo);
      EXPECT_TRUE(r.ok()) << ws << describe(combo) << ":\n" << r.format_diagnostics();
    }
  }
}

}  // namespace
}  // namespace strowger::proxy::script
