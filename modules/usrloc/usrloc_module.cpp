// The usrloc module: the location table as a service for registrar (and later nathelper and
// websocket), its expiry timer, the optional Redis backend, and RPC ul.show/rm/add/dump.
#include <memory>

#include "modules/usrloc/location_table.h"
#include "modules/usrloc/redis_store.h"
#include "modules/usrloc/rpc.h"
#include "sipproxy/module.h"

namespace strowger::modules::usrloc {
namespace {

// Set once by init_process, read by workers, the timer and RPC; released at shutdown.
std::shared_ptr<LocationTable> g_table;
std::unique_ptr<RedisStore> g_redis;

using sipproxy::int_param;
using sipproxy::string_param;

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "usrloc";
  d.params = {
      int_param("db_mode", 0, 0, 1, "0: memory only; 1: write-through to redis_url"),
      string_param("redis_url", "", "redis://host:port/db; empty: no Redis",
                   [](const sipproxy::ParamValue& v) -> std::optional<std::string> {
                     if (!v.s.empty() && !parse_redis_url(v.s))
                       return std::string("expected redis://host:port/db");
                     return std::nullopt;
                   }),
      int_param("timer_interval", 60, 1, 86400, "seconds between expiry runs"),
      int_param("max_contacts", 0, 0, 10000, "bindings per AOR, 0: unlimited"),
      string_param("max_contacts_action", "drop_oldest",
                   "drop_oldest or reject (503) when a REGISTER exceeds max_contacts",
                   [](const sipproxy::ParamValue& v) -> std::optional<std::string> {
                     if (v.s != "drop_oldest" && v.s != "reject")
                       return std::string("expected drop_oldest or reject");
                     return std::nullopt;
                   }),
  };
  d.rpcs = make_rpcs([] { return g_table; });
  d.init_process = [](sipproxy::ModuleHost& host,
                      const sipproxy::Params& params) -> std::optional<std::string> {
    TableLimits limits;
    limits.max_contacts = static_cast<std::size_t>(params.get_int("max_contacts"));
    limits.drop_oldest = params.get_string("max_contacts_action") == "drop_oldest";
    g_table = std::make_shared<LocationTable>(limits);
    const std::string& url = params.get_string("redis_url");
    if (params.get_int("db_mode") == 1) {
      if (url.empty()) return std::string("db_mode 1 needs redis_url");
      g_redis = std::make_unique<RedisStore>(
          *parse_redis_url(url), *g_table,
          [&host](int w, std::function<void()> fn) { host.post_to_worker(w, std::move(fn)); },
          host.worker_count());
      if (auto n = g_redis->load()) {
        LOG_INFO("usrloc: loaded %zu AOR(s) from %s", *n, url.c_str());
      }
      g_table->set_store(g_redis.get());
    }
    std::weak_ptr<LocationTable> table = g_table;
    host.add_timer(params.get_int("timer_interval") * 1000, [table] {
      if (auto t = table.lock()) t->expire();
    });
    host.provide(sipproxy::usrloc::kUsrlocService,
                 std::static_pointer_cast<sipproxy::usrloc::Location>(g_table));
    return std::nullopt;
  };
  d.init_worker = [](const sipproxy::WorkerInfo& w) {
    if (g_redis) g_redis->start_worker(w.index, w.loop);
  };
  d.stop_worker = [](const sipproxy::WorkerInfo& w) {
    if (g_redis) g_redis->stop_worker(w.index);
  };
  d.shutdown = [] {
    if (g_table) g_table->set_store(nullptr);
    g_redis.reset();
    g_table.reset();
  };
  return d;
}

}  // namespace
}  // namespace strowger::modules::usrloc

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::usrloc::make_descriptor();
  return &descriptor;
}
