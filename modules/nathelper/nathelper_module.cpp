// The nathelper module: Kamailio's NAT traversal helpers (nat_uac_test, fix_nated_contact,
// fix_nated_register, contact aliases, add_rcv_param, is_rfc1918) and NAT keepalive pings over
// usrloc's bindings; RPC nathelper.enable_ping and nathelper.stats.
#include <cctype>
#include <memory>

#include "modules/nathelper/keepalive.h"
#include "modules/nathelper/nat_functions.h"
#include "sipproxy/module.h"

namespace strowger::modules::nathelper {
namespace {

using sipproxy::ArgKind;
using sipproxy::ArgValue;
using sipproxy::ScriptCall;

NatConfig g_config;                // set once by init_process, read by the workers
std::shared_ptr<Pinger> g_pinger;  // when natping_interval > 0
std::shared_ptr<void> g_location;  // keeps usrloc's table alive as long as the pinger

constexpr unsigned kReqReplyBranch =
    sipproxy::kRequestRoute | sipproxy::kOnReplyRoute | sipproxy::kBranchRoute;

sipproxy::FunctionSpec function(std::string name, std::vector<sipproxy::ArgSpec> args,
                                std::size_t min_args, unsigned routes,
                                std::function<int(ScriptCall&, const std::vector<ArgValue>&)> run) {
  sipproxy::FunctionSpec f;
  f.name = std::move(name);
  f.args = std::move(args);
  f.min_args = min_args;
  f.routes = routes;
  f.run = [run = std::move(run)](ScriptCall& call, const std::vector<ArgValue>& a, const void*) {
    return run(call, a);
  };
  return f;
}

std::optional<std::string> token_check(const sipproxy::ParamValue& v) {
  if (v.s.empty()) return "must not be empty";
  for (char c : v.s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return "must be a token (letters, digits, _ - .)";
  return std::nullopt;
}

std::vector<sipproxy::ParamSpec> params() {
  using sipproxy::int_param;
  using sipproxy::string_param;
  return {
      int_param("natping_interval", 0, 0, 86400, "seconds between NAT pings; 0: no pings"),
      int_param("ping_nated_only", 0, 0, 1, "1: ping only bindings flagged as behind NAT"),
      string_param("sipping_from", "", "From URI of SIP pings; empty: 4-byte UDP pings",
                   [](const sipproxy::ParamValue& v) -> std::optional<std::string> {
                     if (v.s.empty()) return std::nullopt;
                     auto u = sipproxy::Uri::parse(v.s);
                     if (!u || !u->is_sip() || v.s.find_first_of("\r\n<>") != std::string::npos)
                       return "must be a SIP URI";
                     return std::nullopt;
                   }),
      string_param("sipping_method", "OPTIONS", "method of SIP pings", token_check),
      int_param("sipping_bflag", -1, -1, 63,
                "kamailio.cfg compatibility: SIP pings follow sipping_from alone"),
      int_param("keepalive_timeout", 0, 0, 86400 * 7,
                "seconds without a reply to SIP pings before a binding is removed; 0: never"),
      int_param("natping_tcp", 0, 0, 1, "1: ping TCP/TLS/WS bindings over their connection too"),
      string_param("received_avp", "RECEIVED", "AVP fix_nated_register() sets",
                   [](const sipproxy::ParamValue& v) -> std::optional<std::string> {
                     if (!v.s.empty() && avp_name(v.s).empty())
                       return "must be an AVP name or $avp(name)";
                     return std::nullopt;
                   }),
      int_param("nat_addr_mode", 1, 0, 1, "1: 192.0.0.0/24 counts as private too"),
      string_param("alias_name", "alias", "name of the contact alias parameter", token_check),
  };
}

std::vector<sipproxy::FunctionSpec> functions() {
  std::vector<sipproxy::FunctionSpec> fs;
  fs.push_back(function("nat_uac_test", {{"flags", ArgKind::kInt, false}}, 1,
                        kReqReplyBranch | sipproxy::kFailureRoute,
                        [](ScriptCall& c, const std::vector<ArgValue>& a) {
                          return nat_uac_test(c, a[0].i, g_config);
                        }));
  fs.push_back(function(
      "is_rfc1918", {{"address", ArgKind::kString, false}}, 1, sipproxy::kAnyRoute,
      [](ScriptCall&, const std::vector<ArgValue>& a) { return is_rfc1918(a[0].s, g_config); }));
  fs.push_back(
      function("fix_nated_contact", {}, 0, kReqReplyBranch,
               [](ScriptCall& c, const std::vector<ArgValue>&) { return fix_nated_contact(c); }));
  fs.push_back(function(
      "fix_nated_register", {}, 0, sipproxy::kRequestRoute,
      [](ScriptCall& c, const std::vector<ArgValue>&) { return fix_nated_register(c, g_config); }));
  fs.push_back(function("add_rcv_param", {{"flag", ArgKind::kInt, false}}, 0,
                        sipproxy::kRequestRoute, [](ScriptCall& c, const std::vector<ArgValue>& a) {
                          return add_rcv_param(c, a.empty() ? 0 : a[0].i);
                        }));
  sipproxy::FunctionSpec alias =
      function("add_contact_alias",
               {{"ip", ArgKind::kString, false},
                {"port", ArgKind::kString, false},
                {"proto", ArgKind::kString, false}},
               0, kReqReplyBranch, [](ScriptCall& c, const std::vector<ArgValue>& a) {
                 if (a.size() < 3) return add_contact_alias(c, g_config);
                 return add_contact_alias(c, a[0].s, a[1].s, a[2].s, g_config);
               });
  alias.fixup = [](const std::vector<sipproxy::ConstArg>& args,
                   std::shared_ptr<const void>*) -> std::optional<std::string> {
    if (!args.empty() && args.size() != 3) return "takes no arguments or (ip, port, proto)";
    return std::nullopt;
  };
  fs.push_back(std::move(alias));
  fs.push_back(function("set_contact_alias", {{"trim", ArgKind::kInt, false}}, 0,
                        kReqReplyBranch | sipproxy::kFailureRoute,
                        [](ScriptCall& c, const std::vector<ArgValue>& a) {
                          return set_contact_alias(c, !a.empty() && a[0].i == 1, g_config);
                        }));
  fs.push_back(function("handle_ruri_alias", {{"mode", ArgKind::kInt, false}}, 0,
                        sipproxy::kRequestRoute | sipproxy::kBranchRoute,
                        [](ScriptCall& c, const std::vector<ArgValue>& a) {
                          return handle_ruri_alias(c, a.empty() ? 0 : a[0].i, g_config);
                        }));
  return fs;
}

std::vector<sipproxy::RpcSpec> rpcs() {
  sipproxy::RpcSpec enable;
  enable.name = "nathelper.enable_ping";
  enable.help = "value=1 turns NAT pings on, value=0 off";
  enable.handler = [](const common::Json& p) {
    if (!g_pinger)
      throw common::ControlError(common::kRpcInvalidParams,
                                 "NAT pings are off (natping_interval 0)");
    common::Json v;
    if (p.is_array() && !p.empty()) v = p[0];
    if (p.is_object() && p.contains("value")) v = p["value"];
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (s == "0" || s == "1") v = s == "1" ? 1 : 0;
    }
    if (!v.is_number_integer())
      throw common::ControlError(common::kRpcInvalidParams, "value must be 0 or 1");
    g_pinger->set_enabled(v.get<std::int64_t>() != 0);
    return common::Json{{"enabled", g_pinger->enabled()}};
  };
  sipproxy::RpcSpec stats;
  stats.name = "nathelper.stats";
  stats.help = "NAT ping counters: rounds, pings sent by kind, replies, bindings removed";
  stats.handler = [](const common::Json&) {
    if (!g_pinger) return common::Json{{"enabled", false}, {"natping_interval", 0}};
    const PingStats s = g_pinger->stats();
    return common::Json{{"enabled", g_pinger->enabled()},
                        {"natping_interval", g_pinger->config().interval_s},
                        {"rounds", s.rounds},
                        {"udp_pings", s.udp_pings},
                        {"crlf_pings", s.crlf_pings},
                        {"sip_pings", s.sip_pings},
                        {"replies", s.replies},
                        {"removed", s.removed},
                        {"send_failures", s.send_failures}};
  };
  return {std::move(enable), std::move(stats)};
}

std::optional<std::string> init(sipproxy::ModuleHost& host, const sipproxy::Params& p) {
  g_config.addr_mode = p.get_int("nat_addr_mode") ? NatAddrMode::kReserved : NatAddrMode::kDefault;
  g_config.received_avp = avp_name(p.get_string("received_avp"));
  g_config.alias_name = p.get_string("alias_name");
  PingConfig ping;
  ping.interval_s = p.get_int("natping_interval");
  ping.nated_only = p.get_int("ping_nated_only") != 0;
  ping.sipping_from = p.get_string("sipping_from");
  ping.sipping_method = p.get_string("sipping_method");
  ping.keepalive_timeout_s = p.get_int("keepalive_timeout");
  ping.natping_tcp = p.get_int("natping_tcp") != 0;
  if (ping.interval_s == 0) return std::nullopt;
  if (ping.keepalive_timeout_s > 0 && ping.sipping_from.empty())
    return std::string("keepalive_timeout needs sipping_from (only SIP pings are answered)");
  g_location = host.find(sipproxy::usrloc::kUsrlocService);
  if (!g_location)
    return std::string("natping_interval needs usrloc: loadmodule \"usrloc.so\" first");
  auto* loc = static_cast<sipproxy::usrloc::Location*>(g_location.get());
  sipproxy::ModuleHost* h = &host;  // the host outlives the modules
  g_pinger = std::make_shared<Pinger>(
      ping, *loc,
      [h](const sipproxy::Peer& to, std::uint64_t conn, std::string bytes) {
        return h->send(to, conn, std::move(bytes));
      },
      [h](std::string_view proto) { return h->listen_address(proto); });
  if (!ping.sipping_from.empty()) {
    std::weak_ptr<Pinger> weak = g_pinger;
    host.on_reply(std::string(Pinger::kBranchPrefix),
                  [weak](sipproxy::Message& reply, const sipproxy::Peer&) {
                    if (auto pinger = weak.lock()) pinger->on_reply(reply);
                  });
  }
  std::weak_ptr<Pinger> weak = g_pinger;
  host.add_timer(ping.interval_s * 1000, [weak] {
    if (auto pinger = weak.lock()) pinger->run_round();
  });
  return std::nullopt;
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "nathelper";
  d.params = params();
  d.functions = functions();
  d.rpcs = rpcs();
  d.init_process = init;
  d.shutdown = [] {
    g_pinger.reset();
    g_location.reset();
  };
  return d;
}

}  // namespace
}  // namespace strowger::modules::nathelper

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::nathelper::make_descriptor();
  return &descriptor;
}
