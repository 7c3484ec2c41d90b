// Message::make_response: a locally generated response to a request (RFC 3261 8.2.6),
// built from the request's received header lines so that even a request with other
// broken headers can be answered.
#include <charconv>

#include "proxy/sip/message.h"
#include "proxy/sip/sofia.h"

namespace strowger::proxy::sip {

using detail::view;

namespace {

void append_line(std::string& out, const msg_header_t* h) {
  std::string_view r = detail::raw(h);
  if (h->sh_data) {
    out.append(r);  // may be empty: a later value on a shared line ("Via: a, b")
  } else {
    out += detail::encode_line(h);
  }
}

// The parsed header when sofia could parse it, else the line it filed as broken.
const msg_header_t* core_header(const sip_t* sip, const void* parsed, std::string_view name) {
  if (parsed) return static_cast<const msg_header_t*>(parsed);
  for (const sip_error_t* e = sip->sip_error; e; e = e->er_next) {
    auto* h = reinterpret_cast<const msg_header_t*>(e);
    if (detail::is_error(h) && view(e->er_name) == name) return h;
  }
  return nullptr;
}

bool is_via(const msg_header_t* h) {
  if (h->sh_class == sip_via_class) return true;
  return detail::is_error(h) && view(reinterpret_cast<const sip_error_t*>(h)->er_name) == "Via";
}

}  // namespace

std::string Message::make_response(int status, std::string_view reason, std::string_view to_tag,
                                   std::string_view extra_headers) const {
  if (!sip_ || !sip_->sip_request || status < 100 || status > 699) return {};
  std::string out;
  out.reserve(512 + extra_headers.size());
  out += "SIP/2.0 ";
  char code[8];
  auto [end, ec] = std::to_chars(code, code + sizeof code, status);
  out.append(code, end);
  out += ' ';
  for (char c : reason)
    if (c != '\r' && c != '\n') out += c;
  out += "\r\n";

  // All Via values in received order (RFC 3261 8.2.6.2), broken ones included: the
  // transport answers to the top one or to the source address.
  msg_header_t** head = msg_chain_head(msg_);
  bool any_via = false;
  if (head && *head) {
    for (const msg_header_t* h = *head; h; h = h->sh_succ) {
      if (is_via(h)) {
        append_line(out, h);
        any_via = true;
      }
    }
  } else {
    for (const sip_via_t* v = sip_->sip_via; v; v = v->v_next) {
      append_line(out, reinterpret_cast<const msg_header_t*>(v));
      any_via = true;
    }
  }
  if (!any_via) return {};

  if (auto* from = core_header(sip_, sip_->sip_from, "From")) append_line(out, from);
  if (auto* to = core_header(sip_, sip_->sip_to, "To")) {
    if (sip_->sip_to && !sip_->sip_to->a_tag && !to_tag.empty()) {
      std::string line = to->sh_data ? std::string(detail::raw(to)) : detail::encode_line(to);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ' ||
                               line.back() == '\t'))
        line.pop_back();
      out += line;
      out += ";tag=";
      for (char c : to_tag)
        if (c != '\r' && c != '\n') out += c;
      out += "\r\n";
    } else {
      append_line(out, to);
    }
  }
  if (auto* call_id = core_header(sip_, sip_->sip_call_id, "Call-ID")) append_line(out, call_id);
  if (auto* cseq = core_header(sip_, sip_->sip_cseq, "CSeq")) append_line(out, cseq);
  out += extra_headers;
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

}  // namespace strowger::proxy::sip
