// rtprelay: loads rtprelay.yaml, opens the interfaces' port pools, the media workers, the ng
// control sockets and the sipctl socket, and runs the call layer until SIGTERM/SIGINT.
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "common/control_server.h"
#include "common/crash_report.h"
#include "common/fd_limit.h"
#include "common/log.h"
#include "common/timer_heap.h"
#include "common/yaml_config.h"
#include "rtprelay/calls/call_table.h"
#include "rtprelay/calls/control_rpc.h"
#include "rtprelay/calls/interfaces.h"
#include "rtprelay/calls/relay_config.h"
#include "rtprelay/control/ng_server.h"
#include "rtprelay/media/media_engine.h"

namespace {

constexpr const char* kVersion = "0.1.0";

void usage(FILE* out) {
  fprintf(
      out,
      "usage: rtprelay -c FILE [--check-config]\n"
      "  -c, --config FILE   relay config (e.g. deploy/rtprelay.yaml); runs in the foreground,\n"
      "                      logging to stderr\n"
      "      --check-config  read and validate the config, then exit (0 = valid, 2 = invalid)\n"
      "  -V, --version       print the version\n"
      "  -h, --help          this text\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace strowger;
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "-V" || arg == "--version") {
      printf("rtprelay %s (strowger)\n", kVersion);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "rtprelay: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (config_path.empty()) {
    fprintf(stderr, "rtprelay: which config? (-c deploy/rtprelay.yaml)\n");
    usage(stderr);
    return 2;
  }
  rtprelay::calls::RelayConfig cfg;
  try {
    cfg = rtprelay::calls::load_config(config_path);
  } catch (const common::ConfigError& e) {
    fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  if (check_only) {
    printf("%s: ok\n", cfg.file.c_str());
    return 0;
  }
  common::log_setup(cfg.log_level, cfg.log_format, "rtprelay");
  common::install_crash_report("rtprelay");
  common::raise_fd_limit();  // media sockets: two per stream

  // Signals are taken by sigwait in this thread only; the loop and the workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  evthread_use_pthreads();  // before the base: sipctl's thread posts to it

  auto interfaces =
      rtprelay::calls::InterfaceSet::create(cfg.interfaces, cfg.port_min, cfg.port_max);
  if (!interfaces.ok()) {
    LOG_ERROR("%s", interfaces.error().message.c_str());
    return 1;
  }
  event_base* base = event_base_new();
  if (base == nullptr) {
    LOG_ERROR("cannot create the event loop");
    return 1;
  }
  int rc = 0;
  {
    rtprelay::media::EngineConfig ec;
    ec.workers = cfg.workers > 0
                     ? cfg.workers
                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    ec.backend = cfg.media_backend;
    ec.batch_wait_us = cfg.media_batch_wait_us;
    auto engine = rtprelay::media::MediaEngine::create(ec, base);
    if (!engine.ok()) {
      LOG_ERROR("%s", engine.error().message.c_str());
      event_base_free(base);
      return 1;
    }
    rtprelay::calls::CallOptions co;
    co.media_timeout_ms = static_cast<std::int64_t>(cfg.media_timeout_s) * 1000;
    co.silent_timeout_ms = static_cast<std::int64_t>(cfg.silent_timeout_s) * 1000;
    co.delete_delay_ms = static_cast<std::int64_t>(cfg.delete_delay_s) * 1000;
    auto calls =
        std::make_unique<rtprelay::calls::CallTable>(**interfaces, *engine.value(), base, co);

    common::SteadyClock clock;
    rtprelay::control::NgServerOptions no;
    no.udp = cfg.ng_udp;
    no.tcp = cfg.ng_tcp;
    no.dispatcher.cookie_cache.ttl_ms = static_cast<std::int64_t>(cfg.cookie_cache_s) * 1000;
    auto ng = std::make_unique<rtprelay::control::NgServer>(base, no, clock);
    calls->register_commands(ng->dispatcher());
    calls->set_ng_stats(&ng->stats());
    if (auto err = ng->start()) {
      LOG_ERROR("ng control: %s", err->c_str());
      calls.reset();
      ng.reset();
      engine.value().reset();
      event_base_free(base);
      return 1;
    }
    rtprelay::calls::LoopRunner runner(base);
    std::unique_ptr<common::ControlServer> control;
    if (!cfg.control_socket.empty()) {
      common::ControlServerOptions options;
      options.socket_path = cfg.control_socket;
      control = std::make_unique<common::ControlServer>(options);
      rtprelay::calls::register_relay_methods(*control, runner, *calls, kVersion);
      if (auto err = control->start()) {
        // The relay still relays; only sipctl is unavailable.
        LOG_ERROR("control socket %s: %s", cfg.control_socket.c_str(), err->c_str());
        control.reset();
      }
    }
    std::string where;
    for (const auto& a : cfg.ng_udp) where += (where.empty() ? "udp " : ", udp ") + a;
    for (const auto& a : cfg.ng_tcp) where += (where.empty() ? "tcp " : ", tcp ") + a;
    std::string ifaces;
    for (const auto& i : (*interfaces)->all())
      ifaces += (ifaces.empty() ? "" : ", ") + i->name + "=" + i->local.ip_string() +
                (i->advertise != i->local.ip_string() ? "!" + i->advertise : "");
    LOG_INFO("rtprelay %s started: %d media workers (%s), ports %u-%u on %s, ng on %s", kVersion,
             ec.workers, rtprelay::media::media_backend_name(engine.value()->backend()),
             cfg.port_min, cfg.port_max, ifaces.c_str(), where.c_str());

    std::thread loop([base] { event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY); });
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        LOG_NOTICE("SIGHUP: nothing to reload (restart rtprelay to apply config changes)");
        continue;
      }
      LOG_INFO("signal %d (%s): shutting down", sig, strsignal(sig));
      break;
    }
    if (control) control->stop();  // before the loop its handlers post to
    event_base_loopbreak(base);
    loop.join();
    const std::size_t open = calls->size();
    calls.reset();  // closes every call: ports go back before the pools go
    ng.reset();
    engine.value().reset();
    LOG_INFO("rtprelay stopped (%zu calls closed)", open);
  }
  interfaces.value().reset();
  event_base_free(base);
  return rc;
}
