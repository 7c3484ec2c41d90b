// Message: edits (Via, Max-Forwards, Route/Record-Route, headers by name, R-URI, To tag)
// and serialization. Every edit drops the cached wire bytes and the edited header's
// received encoding; untouched headers keep their received bytes.
#include <cstdio>
#include <cstring>

#include "proxy/sip/message.h"
#include "proxy/sip/sofia.h"

namespace strowger::proxy::sip {

using detail::view;

namespace {

msg_header_t* as_header(void* h) {
  return static_cast<msg_header_t*>(h);
}

// Values from the script or the core must not smuggle in line breaks or NULs.
bool clean_value(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool insert(msg_t* msg, sip_t* sip, msg_header_t* h) {
  return h && msg_header_insert(msg, reinterpret_cast<msg_pub_t*>(sip), h) == 0;
}

void remove(msg_t* msg, sip_t* sip, msg_header_t* h) {
  detail::clear_encoding(h);
  msg_header_remove(msg, reinterpret_cast<msg_pub_t*>(sip), h);
}

// Sets a parameter on a parsed header ("name=value", or "name" alone).
bool replace_param(msg_t* msg, msg_header_t* h, std::string_view name, std::string_view value) {
  std::string param(name);
  if (!value.empty()) {
    param += '=';
    param += value;
  }
  char* copy = su_strndup(msg_home(msg), param.data(), static_cast<isize_t>(param.size()));
  if (!copy) return false;
  detail::clear_encoding(h);
  return msg_header_replace_param(msg_home(msg), h->sh_common, copy) >= 0;
}

std::string strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::string(host);
}

}  // namespace

void Message::set_request_uri(const Uri& uri) {
  if (!sip_ || !sip_->sip_request) return;
  std::string text = uri.to_string();
  url_t* url = url_make(msg_home(msg_), text.c_str());
  if (!url) return;
  detail::clear_encoding(as_header(sip_->sip_request));
  *sip_->sip_request->rq_url = *url;
  touched();
}

void Message::set_to_tag(std::string_view tag) {
  if (!sip_ || !sip_->sip_to || tag.empty() || !clean_value(tag)) return;
  if (replace_param(msg_, as_header(sip_->sip_to), "tag", tag)) touched();
}

void Message::set_max_forwards(unsigned value) {
  if (!sip_) return;
  if (sip_->sip_max_forwards) {
    detail::clear_encoding(as_header(sip_->sip_max_forwards));
    sip_->sip_max_forwards->mf_count = value;
  } else {
    char text[16];
    std::snprintf(text, sizeof text, "%u", value);
    insert(msg_, sip_, as_header(sip_max_forwards_make(msg_home(msg_), text)));
  }
  touched();
}

bool Message::push_via(std::string_view value) {
  if (!sip_ || value.empty() || !clean_value(value)) return false;
  std::string text(value);
  sip_via_t* v = sip_via_make(msg_home(msg_), text.c_str());
  if (!v || !insert(msg_, sip_, as_header(v))) return false;
  touched();
  return true;
}

void Message::pop_via() {
  if (!sip_ || !sip_->sip_via) return;
  remove(msg_, sip_, as_header(sip_->sip_via));
  touched();
}

void Message::set_via_received(std::string_view ip, std::uint16_t port) {
  if (!sip_ || !sip_->sip_via || ip.empty() || !clean_value(ip)) return;
  sip_via_t* v = sip_->sip_via;
  std::string bare = strip_brackets(ip);
  bool rport = v->v_rport != nullptr;
  // RFC 3261 18.2.1: received= when sent-by differs from the source; RFC 3581 4: always
  // when the client asked for rport, and rport gets the source port if it came bare.
  bool differs = !detail::iequals(strip_brackets(view(v->v_host)), bare);
  if (!differs && !rport) return;
  replace_param(msg_, as_header(v), "received", bare);
  if (rport && v->v_rport[0] == '\0')
    replace_param(msg_, as_header(v), "rport", std::to_string(port));
  touched();
}

void Message::pop_route() {
  if (!sip_ || !sip_->sip_route) return;
  remove(msg_, sip_, as_header(sip_->sip_route));
  touched();
}

void Message::set_routes(const std::vector<Uri>& uris) {
  if (!sip_) return;
  while (sip_->sip_route) remove(msg_, sip_, as_header(sip_->sip_route));
  for (const Uri& uri : uris) {
    std::string text = "<" + uri.to_string() + ">";
    insert(msg_, sip_, as_header(sip_route_make(msg_home(msg_), text.c_str())));
  }
  touched();
}

bool Message::push_record_route(const Uri& uri) {
  if (!sip_) return false;
  std::string text = "<" + uri.to_string() + ">";
  // Record-Route is a "prepend" header in sofia: insert puts it before the others.
  sip_record_route_t* rr = sip_record_route_make(msg_home(msg_), text.c_str());
  if (!rr || !insert(msg_, sip_, as_header(rr))) return false;
  touched();
  return true;
}

bool Message::has_header(std::string_view name) const {
  const msg_href_t* hr = detail::find_header(name);
  if (!sip_ || !hr) return false;
  if (hr == detail::message_class()->mc_unknown) {
    for (sip_unknown_t* u = sip_->sip_unknown; u; u = u->un_next)
      if (detail::iequals(view(u->un_name), name)) return true;
    return false;
  }
  return *detail::header_slot(sip_, hr) != nullptr;
}

std::vector<std::string> Message::header_values(std::string_view name) const {
  std::vector<std::string> out;
  const msg_href_t* hr = detail::find_header(name);
  if (!sip_ || !hr) return out;
  if (hr == detail::message_class()->mc_unknown) {
    for (sip_unknown_t* u = sip_->sip_unknown; u; u = u->un_next)
      if (detail::iequals(view(u->un_name), name)) out.emplace_back(view(u->un_value));
    return out;
  }
  for (msg_header_t* h = *detail::header_slot(sip_, hr); h; h = h->sh_next)
    out.push_back(detail::encode_value(h));
  return out;
}

bool Message::add_header(std::string_view name, std::string_view value) {
  const msg_href_t* hr = detail::find_header(name);
  if (!sip_ || !hr || !clean_value(value)) return false;
  msg_header_t* h;
  if (hr == detail::message_class()->mc_unknown) {
    std::string text(name);
    text += ": ";
    text += value;
    h = msg_header_make(msg_home(msg_), hr->hr_class, text.c_str());
  } else {
    std::string text(value);
    h = msg_header_make(msg_home(msg_), hr->hr_class, text.c_str());
  }
  if (!insert(msg_, sip_, h)) return false;
  touched();
  return true;
}

int Message::remove_headers(std::string_view name) {
  const msg_href_t* hr = detail::find_header(name);
  if (!sip_ || !hr) return 0;
  int removed = 0;
  if (hr == detail::message_class()->mc_unknown) {
    sip_unknown_t* u = sip_->sip_unknown;
    while (u) {
      sip_unknown_t* next = u->un_next;
      if (detail::iequals(view(u->un_name), name)) {
        remove(msg_, sip_, as_header(u));
        removed++;
      }
      u = next;
    }
  } else {
    msg_header_t** slot = detail::header_slot(sip_, hr);
    while (*slot) {
      remove(msg_, sip_, *slot);
      removed++;
    }
  }
  if (removed) touched();
  return removed;
}

std::string_view Message::wire() {
  if (wire_.empty() && sip_) wire_ = detail::serialize(msg_, sip_);
  return wire_;
}

}  // namespace strowger::proxy::sip
