// Backend choice (config names, auto-detection, what the suite runs on) and the io_uring
// loop's limits: receive buffers running out must only delay packets, never stop a socket.
#include <gtest/gtest.h>

#include "media_test_util.h"
#include "rtprelay/media/media_engine.h"
#include "rtprelay/media/media_worker.h"

namespace strowger::rtprelay::media {
namespace {

using test::Phone;
using test::rtp_packet;
using test::side_at;

TEST(Backend, ConfigNames) {
  EXPECT_EQ(parse_media_backend("auto"), MediaBackend::kAuto);
  EXPECT_EQ(parse_media_backend("io_uring"), MediaBackend::kIoUring);
  EXPECT_EQ(parse_media_backend("epoll"), MediaBackend::kEpoll);
  EXPECT_FALSE(parse_media_backend("uring"));
  EXPECT_FALSE(parse_media_backend(""));
  for (MediaBackend b : {MediaBackend::kAuto, MediaBackend::kIoUring, MediaBackend::kEpoll})
    EXPECT_EQ(parse_media_backend(media_backend_name(b)), b);
}

TEST(Backend, RunsTheBackendUnderTest) {
  const char* env = std::getenv("STROWGER_MEDIA_BACKEND");
  if (env && std::string(env) == "io_uring" && !MediaEngine::io_uring_supported())
    GTEST_SKIP() << "io_uring (multishot recvmsg) unavailable here: suite ran on auto/epoll";
  auto e = MediaEngine::create(test::engine_config(), nullptr);
  ASSERT_TRUE(e.ok()) << e.error().message;
  MediaBackend want = test::backend_under_test();
  if (want == MediaBackend::kAuto)
    want = MediaEngine::io_uring_supported() ? MediaBackend::kIoUring : MediaBackend::kEpoll;
  EXPECT_EQ(e.value()->backend(), want);
}

TEST(Backend, EpollAlwaysAvailable) {
  EngineConfig ec;
  ec.backend = MediaBackend::kEpoll;
  auto e = MediaEngine::create(ec, nullptr);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e.value()->backend(), MediaBackend::kEpoll);
}

// A worker with only 8 io_uring receive buffers gets bursts of 100 packets: receives end
// with ENOBUFS, are re-armed when buffers come back, and every packet is forwarded in order.
TEST(Backend, UringBufferExhaustionOnlyDelays) {
  if (!MediaEngine::io_uring_supported()) GTEST_SKIP() << "io_uring unavailable here";
  PortPoolConfig pc;
  pc.local = *Endpoint::parse("127.0.0.1", 0);
  pc.port_min = test::test_port_base(35);
  pc.port_max = static_cast<std::uint16_t>(pc.port_min + 99);
  auto pool = std::move(PortPool::create(pc).value());
  WorkerEventQueue events;
  WorkerConfig wc;
  wc.backend = MediaBackend::kIoUring;
  wc.uring_buffers = 8;
  wc.learning.confirm_delay_ms = 0;
  MediaWorker worker(0, wc, &events);
  ASSERT_TRUE(worker.start());
  ASSERT_EQ(worker.backend(), MediaBackend::kIoUring);

  Phone a, b;
  PortPair pa = std::move(pool->allocate().value()), pb = std::move(pool->allocate().value());
  Endpoint relay_a = pa.local_rtp();
  WorkerCommand create;
  create.kind = WorkerCommand::Kind::kCreate;
  create.id = 256;
  create.pair = std::make_unique<MediaPair>(256, std::move(pa), std::move(pb), side_at(a.local()),
                                            side_at(b.local()), PairOptions{}, monotonic_ms());
  worker.post(std::move(create));
  // Bursts small enough for the sockets' default receive buffers, 12 times the ring's buffers.
  constexpr int kBursts = 4, kBurst = 100, kPackets = kBursts * kBurst;
  for (int burst = 0; burst < kBursts; ++burst) {
    for (int i = burst * kBurst; i < (burst + 1) * kBurst; ++i)
      ASSERT_TRUE(a.send(relay_a, rtp_packet(static_cast<std::uint16_t>(i))));
    for (int i = burst * kBurst; i < (burst + 1) * kBurst; ++i) {
      auto got = b.recv(2000);
      ASSERT_TRUE(got) << "packet " << i << " lost";
      EXPECT_EQ(((*got)[2] << 8) | (*got)[3], i);
    }
  }
  ASSERT_TRUE(a.send(relay_a, rtp_packet(kPackets)));
  EXPECT_TRUE(b.recv()) << "socket not re-armed after the burst";
  WorkerCommand close;
  close.kind = WorkerCommand::Kind::kClose;
  close.id = 256;
  worker.post(std::move(close));
  for (int waited = 0; waited < 2000 && pool->pairs_in_use() != 0; waited += 5) usleep(5000);
  EXPECT_EQ(pool->pairs_in_use(), 0u) << "ports not released after close";
}

}  // namespace
}  // namespace strowger::rtprelay::media
