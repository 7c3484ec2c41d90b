// rtp_load: RTP load generator for relay benchmarks. N streams of fixed-size RTP packets from
// local sockets to relay addresses, received on the far-side sockets; one JSON line of results.
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rtprelay/media/endpoint.h"

using strowger::rtprelay::media::Endpoint;

namespace {

struct Flow {  // one direction of one stream
  int send_fd;
  int recv_fd;
  Endpoint to;
  std::uint16_t seq = 0;
  std::uint64_t sent = 0;
  std::atomic<std::uint64_t> received{0};
};

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int bind_udp(const Endpoint& at, int bufsize) {
  int fd = socket(at.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (at.is_v6()) {
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
  if (bind(fd, at.sa(), at.len()) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void usage() {
  std::fprintf(
      stderr,
      "usage: rtp_load (--streams-file FILE | --stream A_LOCAL,RELAY_A,B_LOCAL,RELAY_B)...\n"
      "  [--pps-per-stream 50 | --total-pps N] [--size 172] [--duration 10]\n"
      "  [--one-way] [--send-threads 1] [--drain-ms 500] [--sockbuf 4194304]\n"
      "A stream line/arg: the A phone's local address, the relay address A sends to, the\n"
      "B phone's local address, the relay address B sends to (ip:port, [v6]:port).\n"
      "Each direction is one flow; A's packets must come out at B and vice versa.\n");
}

bool parse_stream(const std::string& line, std::vector<Endpoint>* out) {
  std::string s = line;
  for (char& c : s)
    if (c == ',') c = ' ';
  std::istringstream in(s);
  std::string parts[4];
  for (auto& p : parts)
    if (!(in >> p)) return false;
  for (auto& p : parts) {
    auto e = Endpoint::parse_hostport(p);
    if (!e) return false;
    out->push_back(*e);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Endpoint> eps;  // 4 per stream
  double pps_per_stream = 50, total_pps = 0, duration = 10;
  std::size_t size = 172;
  bool one_way = false;
  int drain_ms = 500, sockbuf = 4 << 20, send_threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--streams-file") {
      std::ifstream f(next());
      if (!f) {
        std::fprintf(stderr, "rtp_load: cannot read streams file\n");
        return 2;
      }
      std::string line;
      int n = 0;
      while (std::getline(f, line)) {
        ++n;
        if (line.empty() || line[0] == '#') continue;
        if (!parse_stream(line, &eps)) {
          std::fprintf(stderr, "rtp_load: streams file line %d: bad stream\n", n);
          return 2;
        }
      }
    } else if (a == "--stream") {
      if (!parse_stream(next(), &eps)) {
        std::fprintf(stderr, "rtp_load: bad --stream\n");
        return 2;
      }
    } else if (a == "--pps-per-stream") {
      pps_per_stream = std::atof(next().c_str());
    } else if (a == "--total-pps") {
      total_pps = std::atof(next().c_str());
    } else if (a == "--size") {
      size = static_cast<std::size_t>(std::atoi(next().c_str()));
    } else if (a == "--duration") {
      duration = std::atof(next().c_str());
    } else if (a == "--send-threads") {
      send_threads = std::atoi(next().c_str());
    } else if (a == "--one-way") {
      one_way = true;
    } else if (a == "--drain-ms") {
      drain_ms = std::atoi(next().c_str());
    } else if (a == "--sockbuf") {
      sockbuf = std::atoi(next().c_str());
    } else {
      usage();
      return 2;
    }
  }
  std::size_t streams = eps.size() / 4;
  if (streams == 0 || send_threads < 1 || send_threads > 16 || size < 24 || size > 1400 ||
      duration <= 0) {
    usage();
    return 2;
  }

  std::vector<int> fds;
  std::vector<Flow> flows(one_way ? streams : 2 * streams);
  for (std::size_t s = 0; s < streams; ++s) {
    int fa = bind_udp(eps[4 * s], sockbuf), fb = bind_udp(eps[4 * s + 2], sockbuf);
    if (fa < 0 || fb < 0) {
      std::fprintf(stderr, "rtp_load: bind %s / %s: %s\n", eps[4 * s].to_string().c_str(),
                   eps[4 * s + 2].to_string().c_str(), std::strerror(errno));
      return 1;
    }
    fds.push_back(fa);
    fds.push_back(fb);
    Flow& ab = flows[one_way ? s : 2 * s];
    ab.send_fd = fa;
    ab.recv_fd = fb;
    ab.to = eps[4 * s + 1];
    if (!one_way) {
      Flow& ba = flows[2 * s + 1];
      ba.send_fd = fb;
      ba.recv_fd = fa;
      ba.to = eps[4 * s + 3];
    }
  }
  double rate = total_pps > 0 ? total_pps : pps_per_stream * static_cast<double>(flows.size());

  // Receiver: one thread, epoll over every phone socket, recvmmsg batches.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> misrouted{0};
  std::atomic<std::int64_t> lat_sum_ns{0}, lat_max_ns{0};
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int fd : fds) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  std::thread receiver([&] {
    constexpr int kBatch = 64;
    std::vector<std::uint8_t> bufs(kBatch * 2048);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    epoll_event evs[256];
    std::int64_t lsum = 0, lmax = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      int n = epoll_wait(ep, evs, 256, 20);
      for (int e = 0; e < n; ++e) {
        int fd = evs[e].data.fd;
        for (;;) {
          for (int i = 0; i < kBatch; ++i) {
            iov[i] = {&bufs[i * 2048], 2048};
            std::memset(&msgs[i], 0, sizeof(msgs[i]));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
          }
          int got = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
          if (got <= 0) break;
          std::int64_t t = now_ns();
          for (int i = 0; i < got; ++i) {
            const std::uint8_t* p = &bufs[i * 2048];
            if (msgs[i].msg_len < 24) {
              misrouted.fetch_add(1, std::memory_order_relaxed);
              continue;
            }
            std::uint32_t ssrc;
            std::int64_t sent_at;
            std::memcpy(&ssrc, p + 8, 4);
            std::memcpy(&sent_at, p + 12, 8);
            if (ssrc >= flows.size() || flows[ssrc].recv_fd != fd) {
              misrouted.fetch_add(1, std::memory_order_relaxed);
              continue;
            }
            flows[ssrc].received.fetch_add(1, std::memory_order_relaxed);
            std::int64_t lat = t - sent_at;
            lsum += lat;
            if (lat > lmax) lmax = lat;
          }
          if (got < kBatch) break;
        }
      }
    }
    lat_sum_ns = lsum;
    lat_max_ns = lmax;
  });

  // Sender: packet g goes to flow g % F at t0 + g / rate, so flows are spread evenly in time.
  rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  // Sender threads: thread t owns flows t, t+T, ...; within a thread, packet g goes to its
  // flow g % F_t at t0 + g / rate_t, so flows are spread evenly in time.
  std::atomic<std::uint64_t> send_errors{0};
  std::int64_t t0 = now_ns();
  auto send_loop = [&](int t) {
    std::vector<Flow*> mine;
    for (std::size_t k = static_cast<std::size_t>(t); k < flows.size();
         k += static_cast<std::size_t>(send_threads))
      mine.push_back(&flows[k]);
    if (mine.empty()) return;
    double my_rate = rate * static_cast<double>(mine.size()) / static_cast<double>(flows.size());
    std::vector<std::uint8_t> pkt(size, 0);
    pkt[0] = 0x80;
    pkt[1] = 0;  // PT 0 (PCMU)
    std::uint64_t errors = 0, g = 0;
    const auto total = static_cast<std::uint64_t>(my_rate * duration);
    while (g < total) {
      std::int64_t elapsed = now_ns() - t0;
      auto due = static_cast<std::uint64_t>(static_cast<double>(elapsed) * my_rate / 1e9);
      if (due > total) due = total;
      for (; g < due; ++g) {
        Flow& f = *mine[g % mine.size()];
        ++f.seq;
        pkt[2] = static_cast<std::uint8_t>(f.seq >> 8);
        pkt[3] = static_cast<std::uint8_t>(f.seq);
        auto ssrc = static_cast<std::uint32_t>(&f - flows.data());
        std::memcpy(&pkt[8], &ssrc, 4);
        std::int64_t ts = now_ns();
        std::memcpy(&pkt[12], &ts, 8);
        iovec v{pkt.data(), size};
        mmsghdr m{};
        m.msg_hdr.msg_iov = &v;
        m.msg_hdr.msg_iovlen = 1;
        m.msg_hdr.msg_name = const_cast<sockaddr*>(f.to.sa());
        m.msg_hdr.msg_namelen = f.to.len();
        // One packet per syscall: each stream has its own socket and sends every 20 ms, as
        // phones do; bunching a stream's packets would flatter the relay's batching.
        if (sendmmsg(f.send_fd, &m, 1, 0) == 1)
          ++f.sent;
        else
          ++errors;
      }
      timespec nap{0, 100'000};
      nanosleep(&nap, nullptr);
    }
    send_errors += errors;
  };
  std::vector<std::thread> senders;
  for (int t = 1; t < send_threads; ++t) senders.emplace_back(send_loop, t);
  send_loop(0);
  for (auto& th : senders) th.join();
  double send_s = static_cast<double>(now_ns() - t0) / 1e9;
  usleep(static_cast<useconds_t>(drain_ms) * 1000);
  stop = true;
  receiver.join();
  rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);

  std::uint64_t sent = 0, received = 0;
  for (const Flow& f : flows) {
    sent += f.sent;
    received += f.received.load();
  }
  auto secs = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) +
           static_cast<double>(b.tv_usec - a.tv_usec) / 1e6;
  };
  double loss = sent ? 100.0 * static_cast<double>(sent - std::min(sent, received)) /
                           static_cast<double>(sent)
                     : 0;
  std::printf(
      "{\"tool\":\"rtp_load\",\"streams\":%zu,\"flows\":%zu,\"size\":%zu,\"target_pps\":%.0f,"
      "\"duration_s\":%.3f,\"sent\":%llu,\"send_errors\":%llu,\"received\":%llu,"
      "\"loss_pct\":%.4f,\"sent_pps\":%.0f,\"recv_pps\":%.0f,\"misrouted\":%llu,"
      "\"latency_avg_us\":%.1f,\"latency_max_us\":%.1f,\"gen_cpu_user_s\":%.3f,"
      "\"gen_cpu_sys_s\":%.3f}\n",
      streams, flows.size(), size, rate, send_s, static_cast<unsigned long long>(sent),
      static_cast<unsigned long long>(send_errors.load()),
      static_cast<unsigned long long>(received), loss, static_cast<double>(sent) / send_s,
      static_cast<double>(received) / send_s, static_cast<unsigned long long>(misrouted.load()),
      received ? static_cast<double>(lat_sum_ns.load()) / static_cast<double>(received) / 1e3 : 0,
      static_cast<double>(lat_max_ns.load()) / 1e3, secs(ru0.ru_utime, ru1.ru_utime),
      secs(ru0.ru_stime, ru1.ru_stime));
  for (int fd : fds) close(fd);
  close(ep);
  return 0;
}
