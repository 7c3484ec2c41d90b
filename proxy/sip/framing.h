// StreamFramer: finds SIP message boundaries in a TCP/TLS byte stream (RFC 3261 18.3).
#pragma once
#include <cstddef>
#include <string_view>

namespace strowger::proxy::sip {

struct Frame {
  enum class Kind {
    kNeedMore,  // no complete message yet; keep reading (unless the buffer reached the limit)
    kMessage,   // [skip, skip + length) is one complete message (headers + body)
    kError,     // the stream cannot be framed: answer error_status if possible, then close
  };
  Kind kind = Kind::kNeedMore;
  std::size_t skip = 0;         // leading CRLF keep-alive bytes to discard first
  std::size_t length = 0;       // message length (kMessage)
  std::size_t head_length = 0;  // bytes up to and including the blank line, when known
  int error_status = 0;         // 400 (bad/missing/conflicting Content-Length) or 513 (too large)
};

class StreamFramer {
 public:
  explicit StreamFramer(std::size_t max_message_size) : max_(max_message_size) {}
  // Looks at the buffered bytes (nothing is consumed; the caller drains skip + length).
  // Leading CRLFs are keep-alives (RFC 5626 "double CRLF") and are reported in skip.
  // A header block or message larger than the maximum is an error 513; a missing, negative,
  // non-numeric or conflicting Content-Length is an error 400.
  Frame next(std::string_view buffered) const;
  std::size_t max_message_size() const { return max_; }

 private:
  std::size_t max_;
};

}  // namespace strowger::proxy::sip
