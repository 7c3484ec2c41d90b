// Message: the one RAII wrapper over sofia-sip's msg_t/sip_t. Parse, read, edit, serialize once.
// Nothing outside proxy/sip/ calls sofia-sip's functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proxy/sip/uri.h"

struct msg_s;
struct sip_s;

namespace strowger::proxy::sip {

enum class Method : std::uint8_t {
  kUnknown,
  kInvite,
  kAck,
  kCancel,
  kBye,
  kOptions,
  kRegister,
  kInfo,
  kPrack,
  kUpdate,
  kMessage,
  kSubscribe,
  kNotify,
  kRefer,
  kPublish,
};
std::string_view method_name(Method m);
Method method_from_name(std::string_view name);

// A Via header value, copied out of the message (cheap: short strings).
struct Via {
  std::string transport;  // "UDP", "TCP", "TLS", "WS", "WSS", ... (upper case)
  std::string host;       // IPv6 keeps its brackets
  std::uint16_t port = 0; // 0 when absent
  std::string branch;     // empty when absent
  std::string received;   // empty when absent
  bool has_rport = false;
  std::string rport;      // value, empty for a bare ;rport
  std::string maddr;      // empty when absent
};

// What went wrong when a message could not be taken: a status to answer with when the
// message was a request we can still answer (status 0: drop silently).
struct ParseFailure {
  int status = 400;
  std::string reason;
};

class Message {
 public:
  // Parses one complete message. The bytes are copied. For a datagram, octets after
  // Content-Length are ignored (RFC 3261 18.3). Semantic checks the parser does not do
  // (version, CSeq/method mismatch, repeated single headers, ...) are in validate().
  static common::Result<Message> parse(std::string_view bytes);

  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  // A deep copy (one per forked branch).
  Message clone() const;

  // RFC 3261 checks the parser leaves to us. nullopt when the message is acceptable,
  // else the status and reason to answer a request with (0 = drop a response).
  std::optional<ParseFailure> validate() const;

  bool is_request() const;
  bool is_response() const { return !is_request(); }

  // Request line.
  Method method() const;  // for a response: the CSeq method
  std::string_view method_name() const;
  Uri request_uri() const;
  void set_request_uri(const Uri& uri);
  std::string_view sip_version() const;

  // Status line.
  int status() const;
  std::string_view reason() const;

  // Core headers (empty views when absent).
  std::string_view call_id() const;
  std::uint32_t cseq() const;
  Method cseq_method() const;
  std::string_view cseq_method_name() const;
  std::string_view from_tag() const;
  std::string_view to_tag() const;
  std::optional<Uri> from_uri() const;
  std::optional<Uri> to_uri() const;
  // Adds a tag to To (for locally generated responses).
  void set_to_tag(std::string_view tag);

  // Max-Forwards: nullopt when absent.
  std::optional<unsigned> max_forwards() const;
  void set_max_forwards(unsigned value);

  // Via.
  std::size_t via_count() const;
  std::optional<Via> via(std::size_t index = 0) const;
  // Pushes a new topmost Via; value is e.g. "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK...".
  bool push_via(std::string_view value);
  void pop_via();
  // RFC 3581 / 3261 18.2.1: sets received= (and rport=port when rport was requested) on the top Via.
  void set_via_received(std::string_view ip, std::uint16_t port);

  // Route / Record-Route.
  std::vector<Uri> routes() const;
  void pop_route();
  // Replaces all Route headers by uris (in order); empty removes them.
  void set_routes(const std::vector<Uri>& uris);
  // Inserts a Record-Route as the first one.
  bool push_record_route(const Uri& uri);
  std::vector<Uri> record_routes() const;

  // Contact (first one) for the proxy's purposes; the registrar reads all of them later.
  std::optional<Uri> contact_uri() const;

  // Generic headers by name (case-insensitive, compact forms understood by sofia).
  bool has_header(std::string_view name) const;
  // The values of all headers of that name, serialized.
  std::vector<std::string> header_values(std::string_view name) const;
  bool add_header(std::string_view name, std::string_view value);
  // Removes every header of that name; returns how many.
  int remove_headers(std::string_view name);

  std::string_view body() const;
  std::string_view content_type() const;
  // Replaces the body (the relay module's rewritten SDP) and sets Content-Length to its size;
  // Content-Type stays as it is. An empty body removes it. False when sofia cannot allocate.
  bool set_body(std::string_view body);

  // Serializes once (cached until the next edit) and returns the wire bytes.
  std::string_view wire();

  // Builds a response to this request: copies Via, From, To, Call-ID, CSeq (RFC 3261 8.2.6),
  // adds a To tag when the request had none and to_tag is not empty.
  std::string make_response(int status, std::string_view reason, std::string_view to_tag,
                            std::string_view extra_headers = {}) const;

 private:
  Message(msg_s* msg, sip_s* sip) : msg_(msg), sip_(sip) {}
  void touched() { wire_.clear(); }
  msg_s* msg_ = nullptr;
  sip_s* sip_ = nullptr;
  std::string wire_;
};

}  // namespace strowger::proxy::sip
