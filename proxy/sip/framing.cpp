// StreamFramer: message boundaries on TCP/TLS/WS streams from the blank line and
// Content-Length (RFC 3261 18.3). Scans the buffer in place; allocates nothing.
#include "proxy/sip/framing.h"

#include <cstring>

namespace strowger::proxy::sip {
namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t';
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Offset just past the blank line that ends the header block, or npos. Bare LF line ends
// are taken too, as sofia-sip takes them.
std::size_t find_head_end(std::string_view b) {
  const char* p = b.data();
  const char* end = p + b.size();
  while (p < end) {
    auto* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (!lf || lf + 1 >= end) return std::string_view::npos;
    if (lf[1] == '\n') return lf + 2 - b.data();
    if (lf[1] == '\r') {
      if (lf + 2 >= end) return std::string_view::npos;
      if (lf[2] == '\n') return lf + 3 - b.data();
    }
    p = lf + 1;
  }
  return std::string_view::npos;
}

std::size_t colon_after(std::string_view head, std::size_t i) {
  while (i < head.size() && is_ws(head[i])) i++;
  return (i < head.size() && head[i] == ':') ? i + 1 : std::string_view::npos;
}

// If the header line starting at `line` is Content-Length (or compact "l"), returns the
// offset of its value: header name, optional whitespace, colon (RFC 3261 7.3.1 HCOLON).
std::size_t content_length_value(std::string_view head, std::size_t line) {
  static constexpr std::string_view kName = "content-length";
  if (lower(head[line]) == 'l') {
    std::size_t v = colon_after(head, line + 1);
    if (v != std::string_view::npos) return v;
  }
  if (head.size() - line < kName.size()) return std::string_view::npos;
  for (std::size_t k = 0; k < kName.size(); k++)
    if (lower(head[line + k]) != kName[k]) return std::string_view::npos;
  return colon_after(head, line + kName.size());
}

enum class Value { kOk, kBad, kTooLarge };

// Reads the digits of a Content-Length value, LWS (folding included) around them.
Value read_length(std::string_view head, std::size_t i, std::size_t max, std::size_t* out) {
  auto skip_lws = [&] {
    for (;;) {
      while (i < head.size() && is_ws(head[i])) i++;
      std::size_t j = i;
      if (j < head.size() && head[j] == '\r') j++;
      if (j < head.size() && head[j] == '\n' && j + 1 < head.size() && is_ws(head[j + 1])) {
        i = j + 1;
        continue;
      }
      return;
    }
  };
  skip_lws();
  std::size_t value = 0;
  std::size_t digits = 0;
  bool too_large = false;
  while (i < head.size() && head[i] >= '0' && head[i] <= '9') {
    if (!too_large) {
      value = value * 10 + static_cast<std::size_t>(head[i] - '0');
      if (value > max) too_large = true;
    }
    i++;
    digits++;
  }
  if (digits == 0) return Value::kBad;
  skip_lws();
  if (i < head.size() && head[i] != '\r' && head[i] != '\n') return Value::kBad;
  if (too_large) return Value::kTooLarge;
  *out = value;
  return Value::kOk;
}

// head_len: the complete header block's length when known, so the caller can still answer.
Frame error(std::size_t skip, int status, std::size_t head_len = 0) {
  Frame f;
  f.kind = Frame::Kind::kError;
  f.skip = skip;
  f.error_status = status;
  f.head_length = head_len;
  return f;
}

}  // namespace

Frame StreamFramer::next(std::string_view buffered) const {
  Frame f;
  std::size_t skip = 0;
  while (skip < buffered.size() && (buffered[skip] == '\r' || buffered[skip] == '\n')) skip++;
  f.skip = skip;
  std::string_view msg = buffered.substr(skip);
  if (msg.empty()) return f;

  std::size_t head_len = find_head_end(msg);
  if (head_len == std::string_view::npos) {
    if (msg.size() >= max_) return error(skip, 513);
    return f;
  }
  if (head_len > max_) return error(skip, 513);
  f.head_length = head_len;

  std::string_view head = msg.substr(0, head_len);
  bool found = false;
  std::size_t length = 0;
  // Header lines start after a line end and are not continuations; the start line is skipped.
  for (std::size_t nl = head.find('\n'); nl != std::string_view::npos && nl + 1 < head.size();
       nl = head.find('\n', nl + 1)) {
    std::size_t line = nl + 1;
    if (is_ws(head[line])) continue;
    std::size_t value_at = content_length_value(head, line);
    if (value_at == std::string_view::npos) continue;
    std::size_t value = 0;
    switch (read_length(head, value_at, max_, &value)) {
      case Value::kBad:
        return error(skip, 400, head_len);
      case Value::kTooLarge:
        return error(skip, 513, head_len);
      case Value::kOk:
        break;
    }
    if (found && value != length) return error(skip, 400, head_len);
    found = true;
    length = value;
  }
  if (!found) return error(skip, 400, head_len);
  if (length > max_ - head_len) return error(skip, 513, head_len);
  if (msg.size() - head_len < length) return f;
  f.kind = Frame::Kind::kMessage;
  f.length = head_len + length;
  return f;
}

}  // namespace strowger::proxy::sip
