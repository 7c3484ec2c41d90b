// Helpers shared by the Message files: header lookup by name, encoding, url_t -> Uri.
#include "proxy/sip/sofia.h"

#include <cstring>
#include <vector>

namespace strowger::proxy::sip::detail {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

void clear_encoding(msg_header_t* h) {
  if (!h) return;
  if (h->sh_data) msg_fragment_clear_chain(h);
  msg_fragment_clear(h->sh_common);
}

namespace {

// Runs a sofia printer into a string: small stack buffer first, the exact size otherwise.
template <typename Encode>
std::string encode_with(Encode encode) {
  char buf[512];
  issize_t n = encode(buf, sizeof buf);
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, n);
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  n = encode(out.data(), static_cast<isize_t>(out.size()));
  if (n < 0 || static_cast<std::size_t>(n) >= out.size()) return {};
  out.resize(n);
  return out;
}

}  // namespace

std::string encode_value(const msg_header_t* h) {
  if (!h) return {};
  return encode_with([h](char* b, isize_t n) { return msg_header_field_e(b, n, h, 0); });
}

std::string encode_line(const msg_header_t* h) {
  if (!h) return {};
  return encode_with([h](char* b, isize_t n) { return msg_header_e(b, n, h, 0); });
}

std::string serialize(msg_t* msg, sip_t* sip) {
  std::string out;
  // RFC 3261 18.3 needs Content-Length on streams; an RFC 2543 datagram may lack it.
  if (!sip->sip_content_length) {
    std::uint32_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
    auto* cl = reinterpret_cast<msg_header_t*>(sip_content_length_create(msg_home(msg), len));
    if (!cl || msg_header_insert(msg, reinterpret_cast<msg_pub_t*>(sip), cl) < 0) return out;
  }
  if (!sip->sip_separator) {  // a datagram that ended after its last header line
    auto* sep = reinterpret_cast<msg_header_t*>(sip_separator_create(msg_home(msg)));
    if (!sep || msg_header_insert(msg, reinterpret_cast<msg_pub_t*>(sip), sep) < 0) return out;
  }
  if (msg_serialize(msg, reinterpret_cast<msg_pub_t*>(sip)) < 0) return out;
  int total = msg_prepare(msg);
  if (total <= 0) return out;
  // Unedited headers point at the received bytes, edited ones at their new encoding.
  msg_iovec_t small[64];
  isize_t n = msg_iovec(msg, small, 64);
  std::vector<msg_iovec_t> big;
  msg_iovec_t* vec = small;
  if (n > 64) {
    big.resize(n);
    n = msg_iovec(msg, big.data(), n);
    vec = big.data();
  }
  out.reserve(total);
  for (isize_t i = 0; i < n; i++)
    out.append(static_cast<const char*>(vec[i].mv_base), vec[i].mv_len);
  return out;
}

std::optional<Uri> uri_from_url(const url_t* url) {
  if (!url || !url->url_scheme) return std::nullopt;
  char buf[512];
  issize_t n = url_e(buf, sizeof buf, url);
  if (n < 0) return std::nullopt;
  if (static_cast<std::size_t>(n) < sizeof buf) return Uri::parse(std::string_view(buf, n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  n = url_e(big.data(), static_cast<isize_t>(big.size()), url);
  if (n < 0 || static_cast<std::size_t>(n) >= big.size()) return std::nullopt;
  big.resize(n);
  return Uri::parse(big);
}

const msg_href_t* find_header(std::string_view name) {
  char buf[128];
  if (name.empty() || name.size() + 2 > sizeof buf) return nullptr;
  std::memcpy(buf, name.data(), name.size());
  buf[name.size()] = '\0';
  if (static_cast<std::size_t>(span_token(buf)) != name.size()) return nullptr;
  buf[name.size()] = ':';
  buf[name.size() + 1] = '\0';
  isize_t len = 0;
  const msg_href_t* hr = msg_find_hclass(message_class(), buf, &len);
  if (!hr || len == 0) return nullptr;
  return hr;
}

}  // namespace strowger::proxy::sip::detail
