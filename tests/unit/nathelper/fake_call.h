// A ScriptCall over one parsed message with a settable source, $du and AVPs, for nathelper tests.
#pragma once
#include <string>

#include "tests/unit/support/fake_script_call.h"

namespace strowger::modules::nathelper {

// The shared fake with a NATed source by default.
class FakeCall final : public test_support::FakeScriptCall {
 public:
  explicit FakeCall(std::string_view text, sipproxy::Peer src = {"udp", "203.0.113.7", 40000})
      : FakeScriptCall(text, std::move(src)) {}
};

// A request with the given top Via sent-by, extra headers ("Contact: ...\r\n") and body.
inline std::string request(std::string_view method, std::string_view ruri, std::string_view via,
                           std::string_view headers, std::string_view body = {}) {
  std::string m = std::string(method) + " " + std::string(ruri) + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP " + std::string(via) + ";branch=z9hG4bK-1\r\n";
  m += "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n";
  m += "To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 " + std::string(method) + "\r\n";
  m += std::string(headers);
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  return m;
}

}  // namespace strowger::modules::nathelper
