// Tests for RFC 3263 NAPTR selection and RFC 2782 SRV ordering.
#include "proxy/dns/selection.h"

#include <gtest/gtest.h>

#include <map>

namespace strowger::proxy::dns {
namespace {

using transport::Protocol;

NaptrRecord naptr(std::uint16_t order, std::uint16_t pref, std::string flags, std::string service,
                  std::string replacement) {
  return NaptrRecord{order, pref, std::move(flags), std::move(service), "", std::move(replacement)};
}

TEST(SelectNaptr, OrderPreferenceAndSupportedServices) {
  std::vector<NaptrRecord> in = {
      naptr(50, 50, "s", "SIP+D2U", "_sip._udp.x"),
      naptr(10, 20, "S", "sip+d2t", "_sip._tcp.x"),
      naptr(10, 10, "s", "SIPS+D2T", "_sips._tcp.x"),
      naptr(1, 1, "s", "SIP+D2S", "_sip._sctp.x"),  // SCTP: not ours
      naptr(1, 1, "u", "SIP+D2U", "_sip._udp.x"),   // not a terminal SRV record
      naptr(2, 1, "s", "SIP+D2U", ""),              // no replacement
      naptr(60, 1, "s", "SIP+D2U", "_sip._udp.x"),  // duplicate
      naptr(5, 5, "s", "SIPS+D2W", "_sips._ws.x"),  // WebSocket: not selected by DNS here
  };
  auto out = select_naptr(in, false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "_sips._tcp.x");
  EXPECT_EQ(out[0].proto, Protocol::kTls);
  EXPECT_EQ(out[1].name, "_sip._tcp.x");
  EXPECT_EQ(out[1].proto, Protocol::kTcp);
  EXPECT_EQ(out[2].name, "_sip._udp.x");
  EXPECT_EQ(out[2].proto, Protocol::kUdp);

  auto sips = select_naptr(in, true);
  ASSERT_EQ(sips.size(), 1u);
  EXPECT_EQ(sips[0].proto, Protocol::kTls);
}

TEST(DefaultServices, SipAndSips) {
  auto sip = default_srv_services("d.test", false);
  ASSERT_EQ(sip.size(), 3u);
  EXPECT_EQ(sip[0].name, "_sip._udp.d.test");
  EXPECT_EQ(sip[1].name, "_sip._tcp.d.test");
  EXPECT_EQ(sip[2].name, "_sips._tcp.d.test");
  EXPECT_EQ(sip[2].proto, Protocol::kTls);
  auto sips = default_srv_services("d.test", true);
  ASSERT_EQ(sips.size(), 1u);
  EXPECT_EQ(sips[0].name, "_sips._tcp.d.test");
}

TEST(SrvServiceFor, TransportParam) {
  EXPECT_EQ(srv_service_for("d", Protocol::kUdp, false)->name, "_sip._udp.d");
  EXPECT_EQ(srv_service_for("d", Protocol::kTcp, false)->name, "_sip._tcp.d");
  EXPECT_EQ(srv_service_for("d", Protocol::kTcp, true)->name, "_sips._tcp.d");
  EXPECT_EQ(srv_service_for("d", Protocol::kTls, false)->name, "_sips._tcp.d");
  EXPECT_FALSE(srv_service_for("d", Protocol::kWss, false));
}

TEST(OrderSrv, PriorityFirstAndRootTargetsDropped) {
  std::mt19937 rng(1);
  auto out = order_srv({{30, 5, 1, "c"}, {10, 5, 1, "a"}, {20, 5, 1, ""}, {20, 5, 1, "b"}}, rng);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].target, "a");
  EXPECT_EQ(out[1].target, "b");
  EXPECT_EQ(out[2].target, "c");
}

TEST(OrderSrv, AllZeroWeightsKeepEveryRecord) {
  std::mt19937 rng(1);
  auto out = order_srv({{1, 0, 1, "a"}, {1, 0, 1, "b"}, {1, 0, 1, "c"}}, rng);
  ASSERT_EQ(out.size(), 3u);
}

TEST(OrderSrv, WeightsGiveProportionalFirstPicks) {
  std::mt19937 rng(7);
  std::map<std::string, int> first;
  constexpr int kRuns = 10000;
  for (int i = 0; i < kRuns; ++i) {
    auto out = order_srv({{1, 60, 1, "a"}, {1, 30, 1, "b"}, {1, 10, 1, "c"}, {1, 0, 1, "z"}}, rng);
    ASSERT_EQ(out.size(), 4u);
    ++first[out[0].target];
  }
  // Expected about 6000/3000/1000 (and ~1 in 101 for weight 0); sd < 50.
  EXPECT_NEAR(first["a"], 5941, 250);
  EXPECT_NEAR(first["b"], 2970, 250);
  EXPECT_NEAR(first["c"], 990, 150);
  EXPECT_LT(first["z"], 250);
}

}  // namespace
}  // namespace strowger::proxy::dns
