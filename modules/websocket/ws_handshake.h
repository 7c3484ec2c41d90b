// The server side of the WebSocket opening handshake (RFC 6455 4.2) for SIP (RFC 7118): checks
// an HTTP/1.1 Upgrade request head and builds the 101 or the HTTP error that answers it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace strowger::modules::websocket {

// What the operator allows (modparams origin and path).
struct HandshakePolicy {
  std::vector<std::string>
      origins;                     // allowed Origin values, compared case-insensitively; empty: any
  std::vector<std::string> paths;  // allowed request paths (query ignored); empty: any
};

// Why a handshake failed: one stats counter each.
enum class Reject {
  kNone = 0,
  kMalformed,      // 400: request line or header syntax
  kMethod,         // 405: not GET
  kPath,           // 404: path not in the allow-list
  kNotUpgrade,     // 426: a plain HTTP request (no Upgrade: websocket)
  kBadUpgrade,     // 400: Connection without upgrade, no Host, bad Sec-WebSocket-Key
  kVersion,        // 426: Sec-WebSocket-Version is not 13
  kOrigin,         // 403: Origin not allowed
  kNoSipProtocol,  // 400: the client did not offer the sip sub-protocol
  kTooLarge,       // 431: header block over max_header_size
  kTimeout,        // 408: no complete request within handshake_timeout
  kCount,
};

const char* reject_name(Reject r);
// The HTTP status that answers it (101 for kNone).
int reject_status(Reject r);

struct HandshakeAnswer {
  int status = 0;  // 101 on success
  Reject reject = Reject::kNone;
  std::string response;  // the whole HTTP response head (and empty body) to write
  std::string origin;    // the request's Origin (debug logs only: it says who the user is)
};

// head: the request line and header lines, up to and including the blank line's CRLFCRLF (or
// without it). Never fails on bad input: a bad request is an HTTP error answer.
HandshakeAnswer answer_handshake(std::string_view head, const HandshakePolicy& policy);

// The HTTP error response for a rejection (also used for timeouts and oversized heads).
std::string http_error_response(Reject reject);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
std::string websocket_accept(std::string_view key);

}  // namespace strowger::modules::websocket
