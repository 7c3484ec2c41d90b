// Private to proxy/sip: the sofia-sip headers and the helpers the Message files share.
// Nothing outside proxy/sip/ includes this file.
#pragma once
#include <sofia-sip/bnf.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <optional>
#include <string>
#include <string_view>

#include "proxy/sip/uri.h"

namespace strowger::proxy::sip::detail {

// sofia's SIP parser table with our fixes (see mclass.cpp). Built once, read-only after.
msg_mclass_t const* message_class();

inline std::string_view view(const char* s) {
  return s ? std::string_view(s) : std::string_view();
}

// The raw bytes a header was parsed from (name, value and CRLF), empty once it was edited.
inline std::string_view raw(const msg_header_t* h) {
  if (!h || !h->sh_data) return {};
  return {static_cast<const char*>(h->sh_data), h->sh_len};
}

// Drops the cached encoding of h and of every header sharing its line ("Via: a, b"), so
// that the next serialization encodes them again from their parsed fields.
void clear_encoding(msg_header_t* h);

// Encodes the value of one header (no name, no CRLF) with sofia's printer.
std::string encode_value(const msg_header_t* h);
// Encodes one whole header line (name, value and CRLF).
std::string encode_line(const msg_header_t* h);

std::optional<Uri> uri_from_url(const url_t* url);

// The message's wire bytes: received bytes for unedited headers, fresh encodings for the
// rest. Adds Content-Length when missing. Empty on failure.
std::string serialize(msg_t* msg, sip_t* sip);

// Header class for a name (full or compact, any case). nullptr for a name that is not a
// token; message_class()->mc_unknown for a header sofia does not know.
const msg_href_t* find_header(std::string_view name);

inline msg_header_t** header_slot(sip_t* sip, const msg_href_t* hr) {
  return reinterpret_cast<msg_header_t**>(reinterpret_cast<char*>(sip) + hr->hr_offset);
}

bool iequals(std::string_view a, std::string_view b);

// A header sofia could not parse (as opposed to a duplicate it also files in sip_error).
inline bool is_error(const msg_header_t* h) {
  return h && h->sh_class->hc_hash == sip_error_hash;
}

}  // namespace strowger::proxy::sip::detail
