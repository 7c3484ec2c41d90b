// Our sofia-sip parser table: sofia's SIP table with the request line and CSeq parsers
// widened to take every extension method RFC 3261 allows.
#include <cstdio>
#include <cstring>

#include "proxy/sip/sofia.h"

namespace strowger::proxy::sip::detail {
namespace {

// sofia's sip_method_d() takes only unreserved characters in an unknown method, but RFC 3261
// 25.1 has extension-method = token, which adds '%', '+' and '`' (RFC 4475 3.1.1.2 uses all
// of them, and sofia rejected the whole request line). s must hold exactly one token.
bool decode_method(char* s, sip_method_t* method, const char** name) {
  std::size_t n = span_token(s);
  if (n == 0 || s[n] != '\0') return false;
  char* p = s;
  const char* known = nullptr;
  sip_method_t m = sip_method_d(&p, &known);
  if (m > 0 && *p == '\0') {
    *method = m;
    *name = known;
  } else {
    *method = sip_method_unknown;
    *name = s;
  }
  return true;
}

issize_t request_d(su_home_t*, msg_header_t* h, char* s, isize_t) {
  auto* rq = reinterpret_cast<sip_request_t*>(h);
  char* uri = nullptr;
  char* version = nullptr;
  if (msg_firstline_d(s, &uri, &version) < 0 || !uri || !version) return -1;
  if (!decode_method(s, &rq->rq_method, &rq->rq_method_name)) return -1;
  if (url_d(rq->rq_url, uri) < 0) return -1;
  if (sip_version_d(&version, &rq->rq_version) < 0 || *version) return -1;
  return 0;
}

issize_t cseq_d(su_home_t*, msg_header_t* h, char* s, isize_t) {
  auto* cs = reinterpret_cast<sip_cseq_t*>(h);
  if (msg_uint32_d(&s, &cs->cs_seq) < 0 || !*s) return -1;
  std::size_t n = span_token(s);
  if (n == 0) return -1;
  // Only whitespace may follow the method (sofia trims trailing LWS before calling us).
  for (std::size_t i = n; s[i]; i++)
    if (!IS_LWS(s[i])) return -1;
  s[n] = '\0';
  return decode_method(s, &cs->cs_method, &cs->cs_method_name) ? 0 : -1;
}

// sofia's own CSeq printer asserts the header class is its sip_cseq_class.
issize_t cseq_e(char b[], isize_t bsiz, msg_header_t const* h, int) {
  auto* cs = reinterpret_cast<const sip_cseq_t*>(h);
  return std::snprintf(b, bsiz, "%u %s", cs->cs_seq, cs->cs_method_name);
}

struct msg_hclass_s g_request_class;
struct msg_hclass_s g_cseq_class;

msg_mclass_t* build() {
  msg_mclass_t* mc = msg_mclass_clone(sip_default_mclass(), 0, msg_mclass_copy);
  if (!mc) return nullptr;
  g_request_class = sip_request_class[0];
  g_request_class.hc_parse = request_d;
  mc->mc_request->hr_class = &g_request_class;

  g_cseq_class = sip_cseq_class[0];
  g_cseq_class.hc_parse = cseq_d;
  g_cseq_class.hc_print = cseq_e;
  bool replaced = false;
  for (int i = 0; i < mc->mc_hash_size; i++) {
    if (mc->mc_hash[i].hr_class == sip_cseq_class) {
      mc->mc_hash[i].hr_class = &g_cseq_class;
      replaced = true;
    }
  }
  return replaced ? mc : nullptr;
}

}  // namespace

msg_mclass_t const* message_class() {
  // Built on first use (thread-safe static init); a failure falls back to sofia's table.
  static msg_mclass_t const* const mc = [] {
    msg_mclass_t const* built = build();
    return built ? built : sip_default_mclass();
  }();
  return mc;
}

}  // namespace strowger::proxy::sip::detail
