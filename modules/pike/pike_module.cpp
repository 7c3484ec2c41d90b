// The pike module: pike_check_req() refuses sources that send more requests per sampling unit
// than allowed (Kamailio's pike: flood and scanner protection in REQINIT); RPC pike.top.
#include <chrono>
#include <memory>

#include "modules/pike/ip_rate.h"
#include "sipproxy/module.h"

namespace strowger::modules::pike {
namespace {

std::shared_ptr<IpRateTable> g_table;  // set once by init_process, read by the workers

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

sipproxy::ModuleDescriptor make_descriptor() {
  sipproxy::ModuleDescriptor d;
  d.name = "pike";
  d.params = {
      sipproxy::int_param("sampling_time_unit", 2, 1, 3600, "length of a sampling unit in seconds"),
      sipproxy::int_param("reqs_density_per_unit", 30, 1, 1'000'000,
                          "requests allowed per source and unit"),
      sipproxy::int_param("remove_latency", 120, 1, 86400,
                          "seconds after which an idle source is forgotten"),
  };
  sipproxy::FunctionSpec check;
  check.name = "pike_check_req";
  check.routes = sipproxy::kRequestRoute;
  check.run = [](sipproxy::ScriptCall& call, const std::vector<sipproxy::ArgValue>&, const void*) {
    if (!g_table) return 1;  // not initialized: never refuse (checked at start-up)
    if (g_table->hit(call.source().ip, now_ms())) return -1;
    return 1;
  };
  d.functions.push_back(std::move(check));
  sipproxy::RpcSpec top;
  top.name = "pike.top";
  top.help = "the busiest sources (limit=N, default 20); blocked ones first";
  top.handler = [](const common::Json& params) {
    std::size_t limit = 20;
    if (params.is_object() && params.contains("limit")) {
      if (!params["limit"].is_number_unsigned())
        throw common::ControlError(common::kRpcInvalidParams, "limit must be a positive number");
      limit = params["limit"].get<std::size_t>();
    }
    common::Json rows = common::Json::array();
    if (g_table) {
      for (const SourceRate& r : g_table->top(limit, now_ms())) {
        rows.push_back({{"ip", r.ip},
                        {"current_unit", r.current},
                        {"previous_unit", r.previous},
                        {"blocked", r.blocked}});
      }
    }
    return common::Json{{"sources", rows}};
  };
  d.rpcs.push_back(std::move(top));
  d.init_process = [](sipproxy::ModuleHost& host,
                      const sipproxy::Params& params) -> std::optional<std::string> {
    RateLimits limits;
    limits.unit_ms = params.get_int("sampling_time_unit") * 1000;
    limits.density = params.get_int("reqs_density_per_unit");
    limits.forget_ms = params.get_int("remove_latency") * 1000;
    g_table = std::make_shared<IpRateTable>(limits);
    std::weak_ptr<IpRateTable> table = g_table;
    host.add_timer(limits.unit_ms, [table] {
      if (auto t = table.lock()) t->expire(now_ms());
    });
    return std::nullopt;
  };
  d.shutdown = [] { g_table.reset(); };
  return d;
}

}  // namespace
}  // namespace strowger::modules::pike

STROWGER_MODULE_ENTRY {
  static const strowger::sipproxy::ModuleDescriptor descriptor =
      strowger::modules::pike::make_descriptor();
  return &descriptor;
}
