// rtp_relay_harness: runs MediaEngine alone (no ng control) with N pairs for rtp_load, writes
// the streams file, and reports the engine's forwarded packets and CPU per packet as JSON.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "rtprelay/media/media_engine.h"
#include "rtprelay/media/port_pool.h"

using namespace strowger::rtprelay::media;

int main(int argc, char** argv) {
  int streams = 1000, workers = 2;
  double seconds = 15;
  std::string out = "rtp_streams.txt", relay_ip = "127.0.0.1", phone_ip = "127.0.0.2";
  int port_min = 30000, phone_base = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--streams")
      streams = std::atoi(v.c_str());
    else if (a == "--workers")
      workers = std::atoi(v.c_str());
    else if (a == "--seconds")
      seconds = std::atof(v.c_str());
    else if (a == "--out")
      out = v;
    else if (a == "--relay-ip")
      relay_ip = v;
    else if (a == "--phone-ip")
      phone_ip = v;
    else if (a == "--port-min")
      port_min = std::atoi(v.c_str());
    else if (a == "--phone-port-base")
      phone_base = std::atoi(v.c_str());
    else {
      std::fprintf(stderr,
                   "usage: rtp_relay_harness [--streams 1000] [--workers 2] [--seconds 15] "
                   "[--out FILE] [--relay-ip 127.0.0.1] [--phone-ip 127.0.0.2] "
                   "[--port-min 30000] [--phone-port-base 20000]\n");
      return 2;
    }
  }
  PortPoolConfig pc;
  auto local = Endpoint::parse(relay_ip, 0);
  if (!local || streams < 1 || phone_base + 4 * streams > 65535) {
    std::fprintf(stderr, "rtp_relay_harness: bad address or too many streams\n");
    return 2;
  }
  pc.local = *local;
  pc.port_min = static_cast<std::uint16_t>(port_min);
  pc.port_max = static_cast<std::uint16_t>(std::min(65535, port_min + 4 * streams + 1000));
  pc.rcvbuf_bytes = 1 << 20;
  auto pool = PortPool::create(pc);
  if (!pool.ok()) {
    std::fprintf(stderr, "rtp_relay_harness: %s\n", pool.error().message.c_str());
    return 1;
  }
  EngineConfig ec;
  ec.workers = workers;
  auto engine = MediaEngine::create(ec, nullptr);
  if (!engine.ok()) {
    std::fprintf(stderr, "rtp_relay_harness: %s\n", engine.error().message.c_str());
    return 1;
  }
  std::vector<PairId> ids;
  std::ofstream f(out);
  for (int i = 0; i < streams; ++i) {
    auto a = pool.value()->allocate();
    auto b = pool.value()->allocate();
    if (!a.ok() || !b.ok()) {
      std::fprintf(stderr, "rtp_relay_harness: %s\n", (a.ok() ? b : a).error().message.c_str());
      return 1;
    }
    Endpoint pa = *Endpoint::parse(phone_ip, static_cast<std::uint16_t>(phone_base + 4 * i));
    Endpoint pb = pa.with_port(static_cast<std::uint16_t>(phone_base + 4 * i + 2));
    f << pa.to_string() << ' ' << a->local_rtp().to_string() << ' ' << pb.to_string() << ' '
      << b->local_rtp().to_string() << '\n';
    SideParams sa, sb;
    sa.expected_rtp = pa;
    sb.expected_rtp = pb;
    PairOptions o;
    o.timeout_ms = 0;
    ids.push_back(
        engine.value()->create_pair(std::move(a.value()), std::move(b.value()), sa, sb, o));
  }
  f.close();
  std::fprintf(stderr, "rtp_relay_harness: %d pairs on %d workers, streams in %s\n", streams,
               workers, out.c_str());
  rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  usleep(static_cast<useconds_t>(seconds * 1e6));
  getrusage(RUSAGE_SELF, &r1);

  MediaEngine& e = *engine.value();
  std::uint64_t received = 0, forwarded = 0, errors = 0, no_peer = 0;
  std::size_t answers = 0;
  for (PairId id : ids)
    e.query(id, [&](std::optional<PairStats> st) {
      ++answers;
      if (!st) return;
      for (const SideStats* s : {&st->a, &st->b}) {
        received += s->counters.rtp_packets + s->counters.rtcp_packets;
        forwarded += s->counters.sent_packets;
        errors += s->counters.errors;
        no_peer += s->counters.dropped_no_peer;
      }
    });
  while (answers < ids.size()) {
    e.drain();
    usleep(1000);
  }
  auto secs = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) +
           static_cast<double>(b.tv_usec - a.tv_usec) / 1e6;
  };
  double user = secs(r0.ru_utime, r1.ru_utime), sys = secs(r0.ru_stime, r1.ru_stime);
  std::printf(
      "{\"tool\":\"rtp_relay_harness\",\"pairs\":%d,\"workers\":%d,\"received\":%llu,"
      "\"forwarded\":%llu,\"errors\":%llu,\"dropped_no_peer\":%llu,\"cpu_user_s\":%.3f,"
      "\"cpu_sys_s\":%.3f,\"cpu_us_per_packet\":%.3f}\n",
      streams, workers, static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(forwarded), static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(no_peer), user, sys,
      forwarded ? (user + sys) * 1e6 / static_cast<double>(forwarded) : 0.0);
  return 0;
}
