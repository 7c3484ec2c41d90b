// A response built from raw request bytes, for requests too broken for Message::parse
// (e.g. a Request-URI with spaces): RFC 3261 says answer 400 when the request can be identified.
#pragma once
#include <string>
#include <string_view>

namespace strowger::proxy::sip {

// Copies the Via, From, To, Call-ID and CSeq lines (long or compact names) of a request into a
// response with that status. Empty when the bytes are not a request or lack one of them.
std::string make_raw_response(std::string_view request, int status, std::string_view reason);

}  // namespace strowger::proxy::sip
