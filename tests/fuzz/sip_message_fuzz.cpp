// libFuzzer target for the SIP message layer: StreamFramer, Message::parse + validate,
// the accessors, edits, wire() and make_response(), and Uri round trips.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/sip/framing.h"
#include "proxy/sip/message.h"

namespace sip = strowger::proxy::sip;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void exercise_framer(std::string_view bytes) {
  sip::StreamFramer framer(4096);
  std::size_t offset = 0;
  for (int i = 0; i < 8 && offset <= bytes.size(); i++) {
    sip::Frame f = framer.next(bytes.substr(offset));
    check(f.skip <= bytes.size() - offset);
    if (f.kind != sip::Frame::Kind::kMessage) break;
    check(f.length > 0 && f.length <= bytes.size() - offset - f.skip);
    check(f.head_length <= f.length && f.length <= framer.max_message_size());
    offset += f.skip + f.length;
  }
}

void exercise_uri(std::string_view bytes) {
  auto uri = sip::Uri::parse(bytes.substr(0, 256));
  if (!uri) return;
  std::string text = uri->to_string();
  auto again = sip::Uri::parse(text);
  check(again.has_value());
  check(again->to_string() == text);
  (void)uri->param("lr");
  uri->set_param("lr", "");
  uri->remove_param("transport");
  (void)uri->host_bare();
}

void read_all(const sip::Message& m) {
  (void)m.method();
  (void)m.method_name();
  (void)m.request_uri();
  (void)m.sip_version();
  (void)m.status();
  (void)m.reason();
  (void)m.call_id();
  (void)m.cseq();
  (void)m.cseq_method_name();
  (void)m.from_tag();
  (void)m.to_tag();
  (void)m.from_uri();
  (void)m.to_uri();
  (void)m.max_forwards();
  for (std::size_t i = 0; i <= m.via_count(); i++) (void)m.via(i);
  (void)m.routes();
  (void)m.record_routes();
  (void)m.contact_uri();
  (void)m.header_values("Via");
  (void)m.header_values("X-Unknown");
  (void)m.body();
  (void)m.content_type();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  exercise_framer(bytes);
  exercise_uri(bytes);

  auto parsed = sip::Message::parse(bytes);
  if (!parsed.ok()) return 0;
  sip::Message& m = *parsed;
  auto failure = m.validate();
  read_all(m);
  std::string original(m.wire());
  if (m.is_request()) (void)m.make_response(400, "Bad Request", "tag1", "X-Why: fuzz\r\n");
  if (failure) return 0;

  // A message we accept must still be one after the proxy's edits.
  sip::Message copy = m.clone();
  m.push_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz;rport");
  m.set_via_received("192.0.2.7", 5070);
  m.set_max_forwards(m.max_forwards().value_or(70) > 0 ? m.max_forwards().value_or(70) - 1 : 0);
  m.pop_route();
  m.push_record_route(*sip::Uri::parse("sip:192.0.2.1;lr"));
  m.add_header("X-Fuzz", "1");
  m.remove_headers("Subject");
  if (m.is_request()) m.set_to_tag("t");
  std::string edited(m.wire());
  auto again = sip::Message::parse(edited);
  check(again.ok());
  read_all(*again);
  check(again->call_id() == m.call_id());
  check(std::string(copy.wire()) == original);
  return 0;
}
