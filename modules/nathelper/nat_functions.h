// nathelper's script functions (Kamailio's semantics and return codes): NAT detection, Contact
// fixing, contact aliases and the received URI for the registrar.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "modules/nathelper/nat_address.h"
#include "sipproxy/script.h"

namespace strowger::modules::nathelper {

// nat_uac_test() flag bits (Kamailio 5.6).
enum NatTest : unsigned {
  kTestContact1918 = 1,    // Contact host is a private address
  kTestReceived = 2,       // source IP differs from the top Via host
  kTestVia1918 = 4,        // top Via host is a private address
  kTestSdp1918 = 8,        // an SDP c= address (IPv4) is private
  kTestRport = 16,         // source port differs from the top Via port (5060 when none)
  kTestSource1918 = 32,    // the source IP itself is private
  kTestWebSocket = 64,     // the message came over WS/WSS
  kTestContactPort = 128,  // Contact port (5060 when none) differs from the source port
  kTestSdpCline = 256,     // the SDP session c= address differs from the source IP
  kTestTarget = 512,       // request: $du host:port differs from the R-URI's; reply: 2nd Via
                           // has received/rport different from its host/port; or over WS
  kTestAll = 1023,
};

struct NatConfig {
  NatAddrMode addr_mode = NatAddrMode::kReserved;
  std::string received_avp = "RECEIVED";  // AVP name (the part inside $avp(...)); "" disabled
  std::string alias_name = "alias";       // Contact/R-URI parameter of the alias
};

// "$avp(NAME)", "$avp(s:NAME)" or "NAME" -> "NAME"; "" when the text is not one of those.
std::string avp_name(std::string_view param);

int nat_uac_test(sipproxy::ScriptCall& call, std::int64_t flags, const NatConfig& cfg);
int is_rfc1918(std::string_view address, const NatConfig& cfg);
int fix_nated_contact(sipproxy::ScriptCall& call);
int fix_nated_register(sipproxy::ScriptCall& call, const NatConfig& cfg);
int add_rcv_param(sipproxy::ScriptCall& call, std::int64_t uri_position);
// Without arguments: the source address, only when it differs from the Contact's.
int add_contact_alias(sipproxy::ScriptCall& call, const NatConfig& cfg);
int add_contact_alias(sipproxy::ScriptCall& call, std::string_view ip, std::string_view port,
                      std::string_view proto, const NatConfig& cfg);
int set_contact_alias(sipproxy::ScriptCall& call, bool trim, const NatConfig& cfg);
// mode 0: the first alias parameter, else the last.
int handle_ruri_alias(sipproxy::ScriptCall& call, std::int64_t mode, const NatConfig& cfg);

}  // namespace strowger::modules::nathelper
