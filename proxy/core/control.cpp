// core.* control commands: version, uptime and counters summed over the workers.
#include "proxy/core/control.h"

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>

namespace strowger::proxy::core {
namespace {

using common::Json;

std::vector<WorkerSnapshot> snapshots(WorkerGroup& group) {
  std::vector<std::future<WorkerSnapshot>> pending;
  for (auto& w : group.workers) {
    auto promise = std::make_shared<std::promise<WorkerSnapshot>>();
    pending.push_back(promise->get_future());
    Worker* worker = w.get();
    worker->post_task([promise, worker] { promise->set_value(worker->snapshot()); });
  }
  std::vector<WorkerSnapshot> out;
  for (auto& f : pending) {
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
      throw common::ControlError(common::kRpcInternalError, "a worker did not answer in 5 s");
    out.push_back(f.get());
  }
  return out;
}

Json snapshot_json(const WorkerSnapshot& s) {
  return Json{
      {"received", s.worker.received},
      {"parse_errors", s.worker.parse_errors},
      {"invalid", s.worker.invalid},
      {"handed_over", s.worker.handed_over},
      {"requests", s.proxy.requests},
      {"responses", s.proxy.responses},
      {"forwarded", s.proxy.forwarded},
      {"local_replies", s.proxy.local_replies},
      {"stateless_replies", s.proxy.stateless_replies},
      {"stateless_forwards", s.proxy.stateless_forwards},
      {"dropped", s.proxy.dropped},
      {"server_transactions", s.server_transactions},
      {"client_transactions", s.client_transactions},
      {"server_transactions_created", s.transactions.server_created},
      {"client_transactions_created", s.transactions.client_created},
      {"retransmissions_absorbed", s.transactions.retransmissions_absorbed},
      {"client_timeouts", s.transactions.client_timeouts},
      {"stray_responses", s.transactions.stray_responses},
      {"response_contexts", s.response_contexts},
      {"udp_received", s.udp.received},
      {"udp_sent", s.udp.sent},
      {"udp_send_dropped", s.udp.send_dropped},
      {"tcp_connections", s.tcp_connections},
      {"tcp_accepted", s.tcp.accepted},
      {"tcp_rejected", s.tcp.rejected},
      {"tcp_framing_errors", s.tcp.framing_errors},
      {"dns_queries", s.dns_queries},
      {"dns_cache_hits", s.dns_cache_hits},
  };
}

}  // namespace

void register_core_methods(common::ControlServer& server, WorkerGroup& group,
                           std::string_view version) {
  const auto started = std::chrono::steady_clock::now();
  const std::string v(version);
  server.add_method("core.version", [v](const Json&) {
    return Json{{"name", "sipproxy"}, {"version", v}};
  });
  server.add_method("core.uptime", [started](const Json&) {
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
    return Json{{"uptime_s", up.count()}};
  });
  server.add_method("core.stats", [&group](const Json&) {
    std::vector<WorkerSnapshot> all = snapshots(group);
    Json per_worker = Json::array();
    Json total = Json::object();
    for (const WorkerSnapshot& s : all) {
      Json j = snapshot_json(s);
      for (auto& [key, value] : j.items()) {
        total[key] = total.contains(key) ? total[key].get<std::uint64_t>() + value.get<std::uint64_t>()
                                         : value.get<std::uint64_t>();
      }
      per_worker.push_back(std::move(j));
    }
    return Json{{"workers", all.size()}, {"total", total}, {"per_worker", per_worker}};
  });
}

void register_reload_method(common::ControlServer& server, RoutingScript& routing,
                            bool has_script) {
  auto reload = [&routing, has_script](const Json&) -> Json {
    if (!has_script)
      throw common::ControlError(common::kRpcInvalidRequest,
                                 "no routing script is configured (script: in sipproxy.yaml)");
    ScriptLoad loaded = routing.load(true);
    if (!loaded.ok)
      throw common::ControlError(common::kRpcInternalError,
                                 "the routing script was refused; the running one stays:\n" +
                                     loaded.diagnostics);
    return Json{{"reloaded", true},
                {"generation", loaded.generation},
                {"warnings", loaded.diagnostics}};
  };
  server.add_method("reload", reload);
  server.add_method("core.reload", reload);
}

}  // namespace strowger::proxy::core
