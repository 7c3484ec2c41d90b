// A ScriptCall over one parsed message that records replies and branches, for registrar tests.
#pragma once
#include <string>

#include "modules/usrloc/location_table.h"
#include "tests/unit/support/fake_script_call.h"

namespace strowger::modules::registrar {

using Reply = test_support::FakeScriptCall::Reply;

// The shared fake with a source on the REGISTER's Via by default.
class FakeCall final : public test_support::FakeScriptCall {
 public:
  explicit FakeCall(std::string_view text, sipproxy::Peer src = {"udp", "192.0.2.10", 5060})
      : FakeScriptCall(text, std::move(src)) {}
};

// A REGISTER for alice with the given extra header lines ("Contact: ...\r\n").
inline std::string register_msg(std::string_view headers, std::string_view call_id = "reg-1",
                                int cseq = 1) {
  return "REGISTER sip:example.com SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" +
         std::to_string(cseq) + std::string(call_id) +
         "\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.com>;tag=1\r\n"
         "To: <sip:alice@example.com>\r\n"
         "Call-ID: " +
         std::string(call_id) + "\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\n" +
         std::string(headers) + "Content-Length: 0\r\n\r\n";
}

// The table with a clock the test moves.
struct Clocked {
  explicit Clocked(modules::usrloc::TableLimits limits = {})
      : table(limits, [this] { return now; }) {}
  std::int64_t now = 1'700'000'000;
  modules::usrloc::LocationTable table;
};

}  // namespace strowger::modules::registrar
