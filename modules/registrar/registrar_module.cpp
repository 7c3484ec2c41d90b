// The registrar module: save(), lookup(), registered(), unregister(), lookup_branches() over
// the location service usrloc provides (load usrloc.so first, as in Kamailio).
#include <memory>

#include "modules/registrar/registrar.h"
#include "sipproxy/module.h"

namespace strowger::modules::registrar {
namespace {

// Kamailio configs write the AVP as "$avp(RECEIVED)" or "$avp(s:RECEIVED)" in both nathelper
// and registrar: the name is what is inside.
std::string avp_name(std::string value) {
  if (value.starts_with("$avp(") && value.ends_with(")")) value = value.substr(5, value.size() - 6);
  if (value.starts_with("s:")) value = value.substr(2);
  return value;
}

using sipproxy::usrloc::Location;

std::shared_ptr<Location> g_location;  // from usrloc at init_process
RegistrarConfig g_config;

sipproxy::ParamSpec int_param(std::string name, std::int64_t def, std::int64_t min,
                              std::int64_t max, std::string help) {
  sipproxy::ParamSpec p;
  p.name = std::move(name);
  p.type = sipproxy::ParamType::kInt;
  p.default_value.type = sipproxy::ParamType::kInt;
  p.default_value.i = def;
  p.validate = [min, max](const sipproxy::ParamValue& v) -> std::optional<std::string> {
    if (v.i < min || v.i > max)
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    return std::nullopt;
  };
  p.help = std::move(help);
  return p;
}

std::optional<std::string> table_fixup(const std::vector<sipproxy::ConstArg>& args,
                                       std::shared_ptr<const void>*) {
  if (!args.empty() && args[0].text != "location")
    return "unknown table '" + args[0].text + "' (usrloc has one table: \"location\")";
  return std::nullopt;
}

sipproxy::FunctionSpec function(
    std::string name, std::vector<sipproxy::ArgSpec> args, std::size_t min_args, unsigned routes,
    std::function<int(sipproxy::ScriptCall&, const std::vector<sipproxy::ArgValue>&)> run) {
  sipproxy::FunctionSpec f;
  f.name = std::move(name);
  f.args = std::move(args);
  f.min_args = min_args;
  f.routes = routes;
  f.fixup = table_fixup;
  f.run = [run = std::move(run)](sipproxy::ScriptCall& call,
                                 const std::vector<sipproxy::ArgValue>& a, const void*) {
    if (!g_location) return -3;  // usrloc missing: refused at start-up, never reached
    return run(call, a);
  };
  return f;
}

std::string arg_s(const std::vector<sipproxy::ArgValue>& a, std::size_t i) {
  return i < a.size() ? a[i].s : std::string();
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "registrar";
  d.params = {
      int_param("default_expires", 3600, 1, 0x7fffffff, "expires when the REGISTER has none"),
      int_param("min_expires", 60, 0, 0x7fffffff, "shorter: 423 with Min-Expires; 0: none"),
      int_param("max_expires", 0, 0, 0x7fffffff, "longer ones are cut to it; 0: no limit"),
      int_param("use_domain", 0, 0, 1, "1: AOR is user@domain, 0: user"),
      int_param("use_path", 0, 0, 1, "1: store Path headers and route through them"),
      int_param("path_mode", 2, 0, 2,
                "0: Path never in the 200; 1: when Supported: path; 2: require it (420)"),
      int_param("gruu_enabled", 1, 0, 1, "pub-gruu/temp-gruu in the 200 and on lookup"),
      int_param("nat_flag", -1, -1, 63, "message flag meaning the contact is behind NAT"),
      int_param("method_filtering", 0, 0, 1,
                "1: lookup skips contacts whose Allow lacks the method (-2 when none left)"),
  };
  sipproxy::ParamSpec avp;
  avp.name = "received_avp";
  avp.default_value.s = "RECEIVED";
  avp.help = "AVP name holding the received URI (set by fix_nated_register)";
  d.params.push_back(std::move(avp));

  using sipproxy::ArgKind;
  const sipproxy::ArgSpec table{"table", ArgKind::kString, true};
  d.functions.push_back(
      function("save", {table, {"flags", ArgKind::kInt, false}}, 1, sipproxy::kRequestRoute,
               [](sipproxy::ScriptCall& c, const std::vector<sipproxy::ArgValue>& a) {
                 return save(c, *g_location, g_config, a.size() > 1 ? a[1].i : 0);
               }));
  d.functions.push_back(
      function("lookup", {table, {"uri", ArgKind::kString, false}}, 1,
               sipproxy::kRequestRoute | sipproxy::kFailureRoute | sipproxy::kBranchRoute,
               [](sipproxy::ScriptCall& c, const std::vector<sipproxy::ArgValue>& a) {
                 return lookup(c, *g_location, g_config, arg_s(a, 1));
               }));
  d.functions.push_back(
      function("lookup_branches", {table}, 1, sipproxy::kRequestRoute | sipproxy::kFailureRoute,
               [](sipproxy::ScriptCall& c, const std::vector<sipproxy::ArgValue>&) {
                 return lookup_branches(c, *g_location, g_config);
               }));
  d.functions.push_back(
      function("registered", {table, {"uri", ArgKind::kString, false}}, 1, sipproxy::kAnyRoute,
               [](sipproxy::ScriptCall& c, const std::vector<sipproxy::ArgValue>& a) {
                 return registered(c, *g_location, g_config, arg_s(a, 1));
               }));
  d.functions.push_back(function(
      "unregister", {table, {"uri", ArgKind::kString, false}, {"ruid", ArgKind::kString, false}}, 2,
      sipproxy::kAnyRoute, [](sipproxy::ScriptCall& c, const std::vector<sipproxy::ArgValue>& a) {
        return unregister(c, *g_location, g_config, arg_s(a, 1), arg_s(a, 2));
      }));
  sipproxy::PvSpec ruid;
  ruid.name = "ruid";  // the R-URI contact's ruid after lookup (Kamailio sets it per branch)
  ruid.get = [](sipproxy::ScriptCall& c) { return c.avp(kRuidAvp); };
  d.pvs.push_back(std::move(ruid));
  d.init_process = [](sipproxy::ModuleHost& host,
                      const sipproxy::Params& p) -> std::optional<std::string> {
    g_location = std::static_pointer_cast<Location>(host.find(sipproxy::usrloc::kUsrlocService));
    if (!g_location) return std::string("registrar needs usrloc: loadmodule \"usrloc.so\" first");
    g_config.default_expires = p.get_int("default_expires");
    g_config.min_expires = p.get_int("min_expires");
    g_config.max_expires = p.get_int("max_expires");
    g_config.use_domain = p.get_int("use_domain") != 0;
    g_config.use_path = p.get_int("use_path") != 0;
    g_config.path_mode = static_cast<int>(p.get_int("path_mode"));
    g_config.gruu_enabled = p.get_int("gruu_enabled") != 0;
    g_config.nat_flag = static_cast<int>(p.get_int("nat_flag"));
    g_config.received_avp = avp_name(p.get_string("received_avp"));
    g_config.method_filtering = p.get_int("method_filtering") != 0;
    return std::nullopt;
  };
  d.shutdown = [] { g_location.reset(); };
  return d;
}

}  // namespace
}  // namespace strowger::modules::registrar

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::registrar::make_descriptor();
  return &descriptor;
}
