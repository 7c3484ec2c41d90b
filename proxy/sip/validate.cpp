// Message::validate: the RFC 3261 / RFC 4475 checks sofia-sip's parser leaves to us.
#include <cstring>

#include "proxy/sip/message.h"
#include "proxy/sip/sofia.h"

namespace strowger::proxy::sip {

using detail::view;

namespace {

ParseFailure bad(std::string_view what) {
  std::string reason = "Bad Request - ";
  reason += what;
  return {400, std::move(reason)};
}

ParseFailure bad_header(std::string_view what, std::string_view name) {
  std::string reason = "Bad Request - ";
  reason += what;
  reason += ' ';
  reason += name;
  reason += " header";
  return {400, std::move(reason)};
}

bool is_sip_2_0(std::string_view version) {
  return detail::iequals(version, "SIP/2.0");
}

bool via_versions_ok(const sip_t* sip) {
  for (const sip_via_t* v = sip->sip_via; v; v = v->v_next) {
    std::string_view protocol = view(v->v_protocol);
    if (protocol.size() < 8 || !detail::iequals(protocol.substr(0, 8), "SIP/2.0/")) return false;
  }
  return true;
}

// Problems sofia recorded while parsing: headers it could not parse (sip_is_error) and
// extra copies of single-instance headers, which it files in the same list.
std::optional<ParseFailure> header_errors(const sip_t* sip, bool only_core) {
  static constexpr std::string_view kCore[] = {"Via",     "From", "To",
                                               "Call-ID", "CSeq", "Content-Length"};
  for (const sip_error_t* e = sip->sip_error; e; e = e->er_next) {
    auto* h = reinterpret_cast<const msg_header_t*>(e);
    bool parse_error = detail::is_error(h);
    std::string_view name = parse_error ? view(e->er_name) : view(h->sh_class->hc_name);
    if (!parse_error && h->sh_class == sip_content_length_class && sip->sip_content_length &&
        reinterpret_cast<const sip_content_length_t*>(h)->l_length ==
            sip->sip_content_length->l_length)
      continue;  // the same Content-Length twice says nothing conflicting
    if (only_core) {
      bool core = false;
      for (std::string_view c : kCore) core = core || name == c;
      if (!core) continue;
    }
    if (!parse_error) {
      if (name == "Content-Length") return bad("conflicting Content-Length");
      return bad_header("repeated", name);
    }
    if (name.empty()) return bad("malformed header line");
    return bad_header("bad", name);
  }
  return std::nullopt;
}

// RFC 3261 7 wants an empty line after the headers even without a body. sofia accepts a
// datagram that ends after the last header line; we accept it too when that line is
// complete (serialization adds the empty line), but not when the datagram stops mid-line.
bool headers_terminated(msg_t* msg, const sip_t* sip) {
  if (sip->sip_separator) return true;
  msg_header_t** head = msg_chain_head(msg);
  std::string_view last;
  for (msg_header_t* h = head ? *head : nullptr; h; h = h->sh_succ)
    if (h->sh_data && h->sh_len) last = detail::raw(h);
  return !last.empty() && last.back() == '\n';
}

std::optional<ParseFailure> missing_core(const sip_t* sip) {
  if (!sip->sip_via) return bad_header("missing", "Via");
  if (!sip->sip_from) return bad_header("missing", "From");
  if (!sip->sip_to) return bad_header("missing", "To");
  if (!sip->sip_call_id) return bad_header("missing", "Call-ID");
  if (!sip->sip_cseq) return bad_header("missing", "CSeq");
  return std::nullopt;
}

// RFC 3261 25.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF, single SPs.
// sofia tolerates extra whitespace, "<uri>" and escaped headers; RFC 4475 3.1.2.7-11 say
// reject (a liberal proxy may repair, but forwarding repaired lines hides the fault).
std::optional<ParseFailure> check_request_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  std::size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos || line.find('\t') != std::string_view::npos)
    return bad("bad whitespace in Request-Line");
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad("bad whitespace in Request-Line");
  std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!uri.empty() && uri.front() == '<') return bad("Request-URI in <>");
  std::string_view version = line.substr(sp2 + 1);
  if (uri.empty() || version.empty() || version.find(' ') != std::string_view::npos)
    return bad("bad whitespace in Request-Line");
  auto parsed = Uri::parse(uri);
  if (!parsed) return bad("bad Request-URI");
  if (parsed->is_sip() && !parsed->headers.empty()) return bad("headers in Request-URI");
  return std::nullopt;
}

// name-addr: '<' addr-spec '>' with nothing between the brackets and the URI (RFC 4475
// 3.1.2.14); sofia strips the spaces and accepts.
bool name_addr_ok(std::string_view line) {
  if (line.empty()) return true;  // edited since parsing: nothing received to check
  std::size_t i = line.find(':');
  if (i == std::string_view::npos) return false;
  for (i++; i < line.size(); i++) {
    char c = line[i];
    if (c == '"') {
      for (i++; i < line.size() && line[i] != '"'; i++)
        if (line[i] == '\\') i++;
      if (i >= line.size()) return false;
    } else if (c == '<') {
      std::size_t close = line.find('>', i);
      if (close == std::string_view::npos || close == i + 1) return false;
      auto ws = [](char x) { return x == ' ' || x == '\t' || x == '\r' || x == '\n'; };
      return !ws(line[i + 1]) && !ws(line[close - 1]);
    }
  }
  return true;  // addr-spec form: no brackets
}

std::optional<ParseFailure> validate_request(msg_t* msg, const sip_t* sip) {
  const sip_request_t* rq = sip->sip_request;
  // Version first: a SIP/7.0 message need not follow SIP/2.0's header rules.
  if (!is_sip_2_0(view(rq->rq_version)) || !via_versions_ok(sip))
    return ParseFailure{505, "Version Not Supported"};
  if (!(sip->sip_flags & MSG_FLG_COMPLETE) || !headers_terminated(msg, sip))
    return bad("malformed message");
  if (sip->sip_flags & MSG_FLG_TRUNC) return bad("Content-Length larger than body");
  if (auto e = header_errors(sip, false)) return e;
  if (auto e = missing_core(sip)) return e;

  const sip_cseq_t* cs = sip->sip_cseq;
  if (cs->cs_method != rq->rq_method ||
      (rq->rq_method == sip_method_unknown && view(cs->cs_method_name) != view(rq->rq_method_name)))
    return bad("CSeq method does not match");
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count > 255)
    return bad("Max-Forwards too large");

  std::string_view line = detail::raw(reinterpret_cast<const msg_header_t*>(rq));
  if (!line.empty()) {
    if (auto e = check_request_line(line)) return e;
  } else if (rq->rq_url->url_headers &&
             (rq->rq_url->url_type == url_sip || rq->rq_url->url_type == url_sips)) {
    return bad("headers in Request-URI");
  }
  if (!name_addr_ok(detail::raw(reinterpret_cast<const msg_header_t*>(sip->sip_to))))
    return bad_header("bad", "To");
  if (!name_addr_ok(detail::raw(reinterpret_cast<const msg_header_t*>(sip->sip_from))))
    return bad_header("bad", "From");
  return std::nullopt;
}

std::string drop_reason(const std::string& request_reason) {
  constexpr std::string_view kPrefix = "Bad Request - ";
  return request_reason.rfind(kPrefix, 0) == 0 ? request_reason.substr(kPrefix.size())
                                               : request_reason;
}

// A response is never answered: anything wrong in what routes or matches it means drop.
// Other bad headers are left for the endpoints to judge.
std::optional<ParseFailure> validate_response(msg_t* msg, const sip_t* sip) {
  const sip_status_t* st = sip->sip_status;
  if (st->st_status < 100 || st->st_status > 699) return ParseFailure{0, "bad status code"};
  if (!is_sip_2_0(view(st->st_version)) || !via_versions_ok(sip))
    return ParseFailure{0, "unsupported SIP version"};
  if (!(sip->sip_flags & MSG_FLG_COMPLETE) || (sip->sip_flags & MSG_FLG_TRUNC) ||
      !headers_terminated(msg, sip))
    return ParseFailure{0, "malformed message"};
  if (auto e = header_errors(sip, true)) return ParseFailure{0, drop_reason(e->reason)};
  if (auto e = missing_core(sip)) return ParseFailure{0, drop_reason(e->reason)};
  return std::nullopt;
}

}  // namespace

std::optional<ParseFailure> Message::validate() const {
  if (!sip_) return ParseFailure{0, "no message"};
  if (sip_->sip_request) return validate_request(msg_, sip_);
  if (sip_->sip_status) return validate_response(msg_, sip_);
  return ParseFailure{0, "no start line"};
}

}  // namespace strowger::proxy::sip
