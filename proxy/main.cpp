// sipproxy: loads the config, starts one worker thread per core and waits for a signal.
#include <event2/thread.h>
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/control_server.h"
#include "common/crash_report.h"
#include "common/fd_limit.h"
#include "common/log.h"
#include "common/yaml_config.h"
#include "proxy/config/config.h"
#include "proxy/core/control.h"
#include "proxy/core/local_addresses.h"
#include "proxy/core/module_host.h"
#include "proxy/module/registry.h"
#include "proxy/core/routing_script.h"
#include "proxy/core/worker.h"
#include "proxy/script/engine/compiler.h"
#include "proxy/script/engine/dry_run.h"

namespace {

constexpr const char* kVersion = "0.1.0";

void usage(FILE* out) {
  fprintf(out,
          "usage: sipproxy [-c FILE]\n"
          "       sipproxy --check [-c FILE] [-D NAME[=VALUE]]... [SCRIPT.cfg]\n"
          "       sipproxy --dry-run MSG.sip --script SCRIPT.cfg [--from IP:PORT/PROTO] [-D ...]\n"
          "  -c, --config FILE   deployment config (default: built-in, as deploy/sipproxy.yaml)\n"
          "      --check-config  read and validate the config, then exit (0 = valid, 2 = invalid)\n"
          "      --check         compile a routing script and print every error as file:line:col\n"
          "      --dry-run MSG   run the script on one message without any network; print the trace\n"
          "  -V, --version       print the version\n"
          "  -h, --help          this text\n");
}

}  // namespace

// Strowger's module directories: the build's lib/modules next to bin/, then the install paths.
std::vector<std::string> module_paths() {
  std::vector<std::string> paths;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<std::size_t>(n));
    dir.resize(dir.rfind('/'));
    paths.push_back(dir + "/../lib/modules");
  }
  paths.push_back("/usr/local/lib/strowger/modules");
  paths.push_back("/usr/lib/strowger/modules");
  return paths;
}

int main(int argc, char** argv) {
  using namespace strowger;
  proxy::module::ModuleRegistry::instance().set_default_paths(module_paths());
  std::string config_path;
  bool check_only = false;
  bool check_script = false;
  std::string dry_run_message;
  std::string script_path;
  std::string dry_run_from;
  std::vector<std::pair<std::string, std::string>> defines;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check") {
      check_script = true;
    } else if (arg == "--dry-run" && i + 1 < argc) {
      dry_run_message = argv[++i];
    } else if (arg == "--script" && i + 1 < argc) {
      script_path = argv[++i];
    } else if (arg == "--from" && i + 1 < argc) {
      dry_run_from = argv[++i];
    } else if ((arg == "-D" && i + 1 < argc) || (arg.size() > 2 && arg.rfind("-D", 0) == 0)) {
      std::string def = arg == "-D" ? argv[++i] : arg.substr(2);
      std::size_t eq = def.find('=');
      defines.emplace_back(def.substr(0, eq), eq == std::string::npos ? "" : def.substr(eq + 1));
    } else if (arg[0] != '-' && (check_script || !dry_run_message.empty()) && script_path.empty()) {
      script_path = arg;
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "-V" || arg == "--version") {
      printf("sipproxy %s (strowger)\n", kVersion);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "sipproxy: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }

  if (check_script || !dry_run_message.empty()) {
    proxy::config::ProxyConfig yaml;
    if (!config_path.empty()) {  // the deployment config is checked too
      try {
        yaml = proxy::config::load_config(config_path);
      } catch (const common::ConfigError& e) {
        fprintf(stderr, "%s\n", e.what());
        return 1;
      }
      if (script_path.empty()) {  // the script the YAML names, with its defines
        script_path = yaml.script.file;
        defines.insert(defines.begin(), yaml.script.defines.begin(), yaml.script.defines.end());
      }
    }
    if (script_path.empty()) {
      fprintf(stderr, "sipproxy: which routing script? (e.g. routing-scripts/default.cfg)\n");
      return 2;
    }
    if (check_script) {
      proxy::script::engine::CheckOptions options;
      options.script_path = script_path;
      options.defines = defines;
      int rc = proxy::script::engine::run_check(options);
      if (rc != 0 || config_path.empty()) return rc;
      // Settings that have their home in the YAML must agree with it.
      auto compiled = proxy::script::engine::compile_file(script_path, defines);
      if (!compiled.ok()) return 1;
      auto conflicts = proxy::core::check_script_settings(*compiled.program, *compiled.sources, yaml);
      for (const std::string& e : conflicts) fprintf(stderr, "%s\n", e.c_str());
      return conflicts.empty() ? 0 : 1;
    }
    proxy::script::engine::DryRunOptions options;
    options.script_path = script_path;
    options.defines = defines;
    options.message_path = dry_run_message;
    if (!dry_run_from.empty()) options.from = dry_run_from;
    return proxy::script::engine::run_dry_run(options);
  }

  proxy::config::ProxyConfig cfg;
  try {
    cfg = config_path.empty() ? proxy::config::default_config() : proxy::config::load_config(config_path);
  } catch (const common::ConfigError& e) {
    fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  if (check_only) {
    printf("%s: ok\n", cfg.file.c_str());
    return 0;
  }
  proxy::core::WorkerGroup group;
  proxy::core::RoutingScript routing(cfg, group);
  common::log_setup(cfg.log_level, cfg.log_format, "sipproxy");
  common::install_crash_report("sipproxy");
  // Each connection is a descriptor: take what the system allows, and say when the configured
  // connection limit cannot be reached with it.
  const std::uint64_t fds = common::raise_fd_limit();
  if (cfg.tcp.max_connections > 0 &&
      fds < static_cast<std::uint64_t>(cfg.tcp.max_connections) + 256) {
    LOG_WARN("open files limit %llu is below tcp.max_connections %d (+256 for sockets and "
             "files): raise LimitNOFILE / ulimit -n",
             static_cast<unsigned long long>(fds), cfg.tcp.max_connections);
  }
  // Per-message allocations otherwise make glibc grow and trim the worker arenas all the time
  // (measured: ~4 mprotect calls per call at 1000 calls/s). Keep some slack instead.
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);

  // Signals are taken by sigwait in this thread only; workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  evthread_use_pthreads();

  const int n = cfg.workers > 0 ? cfg.workers
                                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  proxy::core::LocalAddresses local(cfg);
  group.size_hint = n;
  for (int i = 0; i < n; ++i)
    group.workers.push_back(std::make_unique<proxy::core::Worker>(i, cfg, local, group));
  if (!cfg.script.file.empty()) {
    proxy::core::ScriptLoad loaded = routing.load(false);
    if (!loaded.diagnostics.empty()) fprintf(stderr, "%s", loaded.diagnostics.c_str());
    if (!loaded.ok) {
      fprintf(stderr, "%s:%d: the routing script %s does not compile\n", cfg.file.c_str(),
              cfg.script.line, cfg.script.file.c_str());
      return 2;
    }
  }
  // Modules: process init now (after their parameters), worker init on each worker's thread.
  auto& modules = proxy::module::ModuleRegistry::instance();
  proxy::core::ModuleHostImpl module_host(cfg, group);
  if (auto err = modules.init_all(module_host)) {
    fprintf(stderr, "%s\n", err->c_str());
    return 2;
  }
  module_host.hand_to_workers();
  module_host.start_timers();
  group.on_start = [&modules](int index, event_base* loop) { modules.init_worker({index, loop}); };
  group.on_stop = [&modules](int index, event_base* loop) { modules.stop_worker({index, loop}); };
  for (auto& w : group.workers) {
    if (auto err = w->open_listeners()) {
      fprintf(stderr, "%s\n", err->c_str());
      return 1;
    }
  }
  std::vector<std::thread> threads;
  for (auto& w : group.workers) threads.emplace_back([&w] { w->run(); });
  std::unique_ptr<common::ControlServer> control;
  if (!cfg.control_socket.empty()) {
    common::ControlServerOptions options;
    options.socket_path = cfg.control_socket;
    control = std::make_unique<common::ControlServer>(options);
    proxy::core::register_core_methods(*control, group, kVersion);
    proxy::core::register_reload_method(*control, routing, !cfg.script.file.empty());
    for (const proxy::module::LoadedModule* m : modules.modules()) {
      for (const sipproxy::RpcSpec& rpc : m->descriptor->rpcs) control->add_method(rpc.name, rpc.handler);
    }
    if (auto err = control->start()) {
      // The proxy still serves SIP; only sipctl is unavailable.
      LOG_ERROR("control socket %s: %s", cfg.control_socket.c_str(), err->c_str());
      control.reset();
    }
  }
  std::string where;
  for (const auto& l : local.listeners()) {
    if (!where.empty()) where += ", ";
    where += std::string(proxy::transport::protocol_name(l.proto)) + " " + l.local.to_string();
  }
  LOG_INFO("sipproxy %s started: %d workers, listening on %s", kVersion, n, where.c_str());

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (cfg.script.file.empty()) {
        LOG_NOTICE("SIGHUP: no routing script configured, nothing to reload");
        continue;
      }
      proxy::core::ScriptLoad loaded = routing.load(true);
      if (loaded.ok) {
        LOG_NOTICE("SIGHUP: routing script %s reloaded (generation %llu)", cfg.script.file.c_str(),
                   static_cast<unsigned long long>(loaded.generation));
      } else {
        LOG_ERROR("SIGHUP: routing script %s refused, the running one stays:\n%s",
                  cfg.script.file.c_str(), loaded.diagnostics.c_str());
      }
      continue;
    }
    LOG_INFO("signal %d (%s): shutting down", sig, strsignal(sig));
    break;
  }
  if (control) control->stop();  // before the workers its handlers post to
  for (auto& w : group.workers) w->stop();
  for (auto& t : threads) t.join();
  module_host.stop_timers();
  modules.shutdown();
  group.workers.clear();
  LOG_INFO("sipproxy stopped");
  return 0;
}
