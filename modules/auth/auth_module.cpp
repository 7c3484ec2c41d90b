// The auth module (alias auth_db): Kamailio's www_authorize/proxy_authorize/auth_check,
// www_challenge/proxy_challenge/auth_challenge, consume_credentials, has_credentials; RPC
// auth.reload. The logic is in Authenticator and CredentialStore; this is the glue.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include "modules/auth/authenticator.h"
#include "modules/auth/credential_store.h"
#include "modules/auth/crypto.h"
#include "modules/auth/digest.h"
#include "modules/auth/subscriber_db.h"
#include "sipproxy/module.h"

namespace strowger::modules::auth {
namespace {

using sipproxy::ArgKind;
using sipproxy::ArgSpec;
using sipproxy::ArgValue;
using sipproxy::ConstArg;
using sipproxy::FunctionSpec;
using sipproxy::ParamSpec;
using sipproxy::ParamType;
using sipproxy::ParamValue;
using sipproxy::ScriptCall;

// Set once by init_process, read by the workers (the pointers never change afterwards).
std::shared_ptr<Authenticator> g_auth;
std::shared_ptr<CredentialStore> g_store;
// Tables named by the script, collected by the fixups (compile time, before init_process).
std::mutex g_tables_mutex;
std::set<std::string> g_tables;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What an authorize call left on the message it ran on, for consume_credentials and for the
// stale=true of the challenge that follows (the script runs a message on one thread).
struct LastAuth {
  const void* msg = nullptr;
  std::string call_id;
  std::uint32_t cseq = 0;
  bool stale = false;
  bool authorized = false;
  bool proxy = false;
  int header_index = -1;
};
thread_local LastAuth t_last;

bool same_message(ScriptCall& call) {
  sipproxy::Message& m = call.message();
  return t_last.msg == &m && t_last.cseq == m.cseq() && t_last.call_id == m.call_id();
}

Identity identity_of(const std::optional<sipproxy::Uri>& uri) {
  if (!uri) return {};
  return Identity{uri->user, uri->host};
}

int authorize(ScriptCall& call, bool proxy, std::string realm, const std::string& table,
              std::int64_t flags, bool check_ids) {
  if (!g_auth || !g_store) return kAuthError;
  sipproxy::Message& msg = call.message();
  if (!msg.is_request()) return kAuthError;
  std::optional<sipproxy::Uri> from = msg.from_uri(), to = msg.to_uri();
  if (realm.empty()) {  // Kamailio: generated from the request
    const auto& uri = proxy ? from : to;
    if (uri) realm = uri->host_bare();
  }
  std::vector<std::string> headers =
      msg.header_values(proxy ? "Proxy-Authorization" : "Authorization");
  AuthRequest req;
  req.method = msg.method_name();
  req.headers = &headers;
  req.realm = realm;
  std::string ip = call.source().ip;
  req.source_ip = ip;
  std::shared_ptr<const SubscriberSet> subscribers = g_store->get(table);
  AuthOutcome out = g_auth->authorize(req, subscribers.get(), wall_ms());
  if (out.code == kAuthOk && check_ids) {
    sipproxy::Uri ruri = msg.request_uri();
    out.code = check_identity(req.method, out.username, realm, identity_of(from), identity_of(to),
                              Identity{ruri.user, ruri.host}, flags, g_auth->config().use_domain);
  }
  if (!subscribers && out.code == kAuthError)
    call.log(sipproxy::LogLevel::kWarn, "auth: no subscribers loaded for table " + table);
  t_last.msg = &msg;
  t_last.call_id = std::string(msg.call_id());
  t_last.cseq = msg.cseq();
  t_last.stale = out.stale;
  t_last.authorized = out.code == kAuthOk;
  t_last.proxy = proxy;
  t_last.header_index = out.header_index;
  return out.code;
}

int challenge(ScriptCall& call, bool proxy, std::string realm, std::int64_t flags) {
  if (!g_auth) return kAuthError;
  sipproxy::Message& msg = call.message();
  if (!msg.is_request()) return kAuthError;
  if (realm.empty()) {
    std::optional<sipproxy::Uri> uri = proxy ? msg.from_uri() : msg.to_uri();
    if (uri) realm = uri->host_bare();
  }
  bool stale = (flags & 16) || (same_message(call) && t_last.stale);
  bool qop = flags & 3;  // 2 (auth-int) is answered with qop=auth: bodies are not hashed
  std::string headers = g_auth->challenge_headers(proxy, realm, qop, stale, wall_ms());
  int rc = proxy ? call.reply(407, "Proxy Authentication Required", headers)
                 : call.reply(401, "Unauthorized", headers);
  if (rc > 0) return 1;
  if (!(flags & 4)) call.reply(500, "Internal Server Error", "");
  return kAuthError;
}

// Fixup of (realm, table[, ...]): remembers the table (database mode preloads it).
std::optional<std::string> table_fixup(const std::vector<ConstArg>& args,
                                       std::shared_ptr<const void>*) {
  if (args.size() < 2) return std::nullopt;
  if (!valid_table_name(args[1].text))
    return "table name '" + args[1].text + "' must be letters, digits, '_' or '.'";
  std::lock_guard lock(g_tables_mutex);
  g_tables.insert(args[1].text);
  if (g_store) g_store->add_table(args[1].text);  // a script reload naming a new table
  return std::nullopt;
}

FunctionSpec authorize_fn(std::string name, int mode) {  // mode: 0 www, 1 proxy, 2 auth_check
  FunctionSpec f;
  f.name = std::move(name);
  f.args = {ArgSpec{"realm", ArgKind::kString, false}, ArgSpec{"table", ArgKind::kString, true}};
  if (mode == 2) f.args.push_back(ArgSpec{"flags", ArgKind::kInt, false});
  f.min_args = f.args.size();
  f.routes = sipproxy::kRequestRoute;
  f.fixup = table_fixup;
  f.run = [mode](ScriptCall& call, const std::vector<ArgValue>& a, const void*) {
    bool proxy =
        mode == 1 || (mode == 2 && call.message().method() != proxy::sip::Method::kRegister);
    return authorize(call, proxy, a[0].s, a[1].s, mode == 2 ? a[2].i : 0, mode == 2);
  };
  return f;
}

FunctionSpec challenge_fn(std::string name, int mode) {  // mode: 0 www, 1 proxy, 2 auth
  FunctionSpec f;
  f.name = std::move(name);
  f.args = {ArgSpec{"realm", ArgKind::kString, false}, ArgSpec{"flags", ArgKind::kInt, false}};
  f.min_args = 2;
  f.routes = sipproxy::kRequestRoute;
  f.run = [mode](ScriptCall& call, const std::vector<ArgValue>& a, const void*) {
    bool proxy =
        mode == 1 || (mode == 2 && call.message().method() != proxy::sip::Method::kRegister);
    return challenge(call, proxy, a[0].s, a[1].i);
  };
  return f;
}

// consume_credentials(): drops the credentials the last authorize accepted; the others (for
// another realm, e.g. the next proxy) stay, in their order.
int consume_credentials(ScriptCall& call) {
  if (!same_message(call) || !t_last.authorized || t_last.header_index < 0) return -1;
  sipproxy::Message& msg = call.message();
  const char* name = t_last.proxy ? "Proxy-Authorization" : "Authorization";
  std::vector<std::string> values = msg.header_values(name);
  if (t_last.header_index >= static_cast<int>(values.size())) return -1;
  msg.remove_headers(name);
  for (int i = 0; i < static_cast<int>(values.size()); ++i)
    if (i != t_last.header_index) msg.add_header(name, values[i]);
  t_last.authorized = false;
  return 1;
}

using sipproxy::int_param;
using sipproxy::string_param;

std::optional<std::vector<Algorithm>> parse_algorithms(const std::string& text) {
  std::vector<Algorithm> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    auto a = item.empty() ? std::nullopt : algorithm_from_name(item);
    if (!a) return std::nullopt;
    out.push_back(*a);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<std::string> init(sipproxy::ModuleHost& host, const sipproxy::Params& p) {
  AuthConfig cfg;
  cfg.algorithms = *parse_algorithms(p.get_string("algorithm"));
  cfg.qop_auth = p.get_string("qop") == "auth";
  cfg.nonce_expire_s = p.get_int("nonce_expire");
  cfg.max_drift_s = p.get_int("nonce_auth_max_drift");
  cfg.use_domain = p.get_int("use_domain") != 0;
  cfg.nc_order = static_cast<std::size_t>(p.get_int("nc_array_order"));
  cfg.failures.max_failures = p.get_int("max_failures");
  cfg.failures.window_ms = p.get_int("failure_window") * 1000;
  cfg.failures.block_ms = p.get_int("block_time") * 1000;
  std::string secret = p.get_string("secret");
  if (secret.empty()) {
    secret = random_bytes(32);
    if (secret.size() != 32) return std::string("cannot get random bytes for the nonce secret");
  }
  StoreOptions so;
  std::filesystem::path file = p.get_string("subscriber_file");
  if (file.is_relative()) file = std::filesystem::path(host.config_dir()) / file;
  so.file_path = file.string();
  so.db_url = p.get_string("db_url");
  so.db_timeout_s = static_cast<int>(p.get_int("db_timeout"));
  so.refresh_ms = p.get_int("cache_ttl") * 1000;
  auto store = std::make_shared<CredentialStore>(so);
  {
    std::lock_guard lock(g_tables_mutex);
    for (const std::string& t : g_tables) store->add_table(t);
  }
  if (!store->uses_db()) {
    if (auto err = store->load()) return *err;  // a bad subscriber file stops the start
    LOG_INFO("auth: %zu subscribers from %s", store->size(), so.file_path.c_str());
  } else {
    // The database may come up after us: start, answer -1 until the first read succeeds.
    store->tick(wall_ms());
  }
  g_auth = std::make_shared<Authenticator>(cfg, secret);
  g_store = store;
  std::weak_ptr<Authenticator> auth = g_auth;
  std::weak_ptr<CredentialStore> weak_store = g_store;
  host.add_timer(1000, [auth, weak_store] {
    std::int64_t now = wall_ms();
    if (auto s = weak_store.lock()) s->tick(now);
    if (auto a = auth.lock()) a->failures().expire(now);
  });
  return std::nullopt;
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "auth";
  d.aliases = {"auth_db"};
  d.params = {
      string_param("secret", "", "nonce signing secret; random at start when empty"),
      int_param("nonce_expire", 300, 1, 86400, "seconds a nonce stays valid"),
      int_param("nonce_auth_max_drift", 3, 0, 3600, "seconds a nonce may come from the future"),
      string_param("qop", "auth", "\"auth\": every challenge offers qop=auth; \"\": only flag 1",
                   [](const ParamValue& v) -> std::optional<std::string> {
                     if (v.s != "auth" && !v.s.empty()) return "must be \"auth\" or \"\"";
                     return std::nullopt;
                   }),
      string_param("algorithm", "MD5,SHA-256", "challenge algorithms in order: MD5, SHA-256",
                   [](const ParamValue& v) -> std::optional<std::string> {
                     if (!parse_algorithms(v.s))
                       return "must be MD5, SHA-256 or a comma-separated list of them";
                     return std::nullopt;
                   }),
      int_param("nc_array_order", 18, 8, 26, "2^N nonces tracked for nonce-count replay checks"),
      int_param("use_domain", 1, 0, 1, "look subscribers up by username and domain"),
      string_param("subscriber_file", "subscribers.yaml",
                   "YAML subscriber file, relative to the config directory"),
      string_param("db_url", "", "postgresql://... : read the subscriber table instead"),
      int_param("cache_ttl", 60, 1, 86400, "seconds between reads of the subscriber table"),
      int_param("db_timeout", 3, 1, 60, "seconds for connecting to and querying PostgreSQL"),
      int_param("max_failures", 10, 0, 1000000,
                "failed authentications per source and window; "
                "0: no limit"),
      int_param("failure_window", 60, 1, 86400, "seconds over which failures are counted"),
      int_param("block_time", 300, 1, 86400, "seconds a source over the limit is refused"),
  };
  d.functions = {
      authorize_fn("www_authorize", 0),   authorize_fn("www_authenticate", 0),
      authorize_fn("proxy_authorize", 1), authorize_fn("proxy_authenticate", 1),
      authorize_fn("auth_check", 2),      challenge_fn("www_challenge", 0),
      challenge_fn("proxy_challenge", 1), challenge_fn("auth_challenge", 2),
  };
  FunctionSpec consume;
  consume.name = "consume_credentials";
  consume.routes = sipproxy::kRequestRoute;
  consume.run = [](ScriptCall& call, const std::vector<ArgValue>&, const void*) {
    return consume_credentials(call);
  };
  d.functions.push_back(std::move(consume));
  FunctionSpec has;
  has.name = "has_credentials";
  has.args = {ArgSpec{"realm", ArgKind::kString, false}};
  has.min_args = 1;
  has.routes = sipproxy::kRequestRoute;
  has.run = [](ScriptCall& call, const std::vector<ArgValue>& a, const void*) {
    for (const char* name : {"Authorization", "Proxy-Authorization"})
      for (const std::string& v : call.message().header_values(name))
        if (auto c = parse_credentials(v); c && c->realm == a[0].s) return 1;
    return -1;
  };
  d.functions.push_back(std::move(has));
  sipproxy::RpcSpec reload;
  reload.name = "auth.reload";
  reload.help = "re-read the subscriber file (or table); on error the old data stays";
  reload.handler = [](const common::Json&) {
    if (!g_store) throw common::ControlError(common::kRpcInternalError, "auth is not running");
    if (auto err = g_store->load())
      throw common::ControlError(common::kRpcInternalError,
                                 *err + " (the previous subscribers stay in use)");
    const StoreOptions& o = g_store->options();
    return common::Json{{"subscribers", g_store->size()},
                        {"source", g_store->uses_db() ? std::string("postgresql") : o.file_path}};
  };
  d.rpcs.push_back(std::move(reload));
  d.init_process = init;
  d.shutdown = [] {
    g_auth.reset();
    g_store.reset();
  };
  return d;
}

}  // namespace
}  // namespace strowger::modules::auth

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::auth::make_descriptor();
  return &descriptor;
}
