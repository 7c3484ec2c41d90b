// Message: parsing with sofia-sip, lifetime, and the read accessors.
#include "proxy/sip/message.h"

#include <array>
#include <charconv>
#include <cstring>

#include "proxy/sip/sofia.h"

namespace strowger::proxy::sip {

using detail::view;

namespace {

constexpr std::array<std::string_view, 15> kMethodNames = {
    "",      "INVITE", "ACK",     "CANCEL",    "BYE",    "OPTIONS", "REGISTER", "INFO",
    "PRACK", "UPDATE", "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER",   "PUBLISH"};

// Our Method enum has sofia's sip_method_t order (sip_method_invite == 1 ... publish == 14).
Method from_sofia(sip_method_t m) {
  if (m <= 0 || m >= static_cast<int>(kMethodNames.size())) return Method::kUnknown;
  return static_cast<Method>(m);
}

// A raw NUL is legal in a header only as a quoted-pair ("\" %x00, RFC 3261 25.1), but sofia
// parses headers as C strings and stops at it. We hand sofia a placeholder octet instead
// and put the NUL back into the buffer afterwards: the parsed values hold the placeholder,
// while the raw header bytes we forward keep the NUL.
constexpr char kNulPlaceholder = '\x01';
constexpr std::size_t kMaxNulPatches = 16;

std::size_t header_section_end(std::string_view b) {
  for (std::size_t i = b.find('\n'); i != std::string_view::npos; i = b.find('\n', i + 1)) {
    if (i + 1 < b.size() && b[i + 1] == '\n') return i + 1;
    if (i + 2 < b.size() && b[i + 1] == '\r' && b[i + 2] == '\n') return i + 1;
  }
  return b.size();
}

// Whether offset i of a header line is inside a quoted string (RFC 3261 25.1 quoted-string).
bool inside_quotes(const char* buf, std::size_t i) {
  std::size_t k = i;
  while (k > 0 && buf[k - 1] != '\n') k--;
  bool in = false;
  for (; k < i; k++) {
    if (in && buf[k] == '\\') {
      k++;
    } else if (buf[k] == '"') {
      in = !in;
    }
  }
  return in;
}

// Whether a message sofia could not parse still reads like a request: a token, SP, and
// not a status line "SIP/...".
bool looks_like_request(std::string_view b) {
  std::size_t i = 0;
  while (i < b.size() && IS_TOKEN(b[i])) i++;
  if (i == 0 || i >= b.size() || b[i] != ' ') return false;
  return !(b.size() >= 4 && detail::iequals(b.substr(0, 4), "SIP/"));
}

}  // namespace

std::string_view method_name(Method m) {
  auto i = static_cast<std::size_t>(m);
  return i < kMethodNames.size() ? kMethodNames[i] : std::string_view();
}

Method method_from_name(std::string_view name) {
  for (std::size_t i = 1; i < kMethodNames.size(); i++)
    if (kMethodNames[i] == name) return static_cast<Method>(i);  // methods are case-sensitive
  return Method::kUnknown;
}

common::Result<Message> Message::parse(std::string_view bytes) {
  // Leading CRLFs are keep-alives, not part of the message (RFC 3261 7.5, RFC 5626 4.4.1).
  std::size_t start = 0;
  while (start < bytes.size() && (bytes[start] == '\r' || bytes[start] == '\n')) start++;
  bytes.remove_prefix(start);
  if (bytes.empty()) return common::Error{0, "empty message"};

  // EXTRACT_COPY makes sofia parse copies of the header text and keep the received bytes
  // intact, so headers we do not edit are forwarded byte for byte.
  msg_t* msg = msg_create(detail::message_class(), MSG_FLG_EXTRACT_COPY);
  if (!msg) return common::Error{0, "out of memory"};
  su_home_preload(msg_home(msg), 1, 2 * bytes.size() + 2048);
  msg_iovec_t iov[2];
  issize_t nvec = msg_recv_iovec(msg, iov, 2, bytes.size(), 1);
  if (nvec != 1 || iov[0].mv_len < bytes.size()) {
    msg_destroy(msg);
    return common::Error{0, "out of memory"};
  }
  char* buf = static_cast<char*>(iov[0].mv_base);
  std::memcpy(buf, bytes.data(), bytes.size());

  std::array<std::size_t, kMaxNulPatches> nuls;
  std::size_t n_nuls = 0;
  if (std::memchr(buf, '\0', bytes.size())) {
    std::size_t end = header_section_end(bytes);
    for (std::size_t i = 0; i < end; i++) {
      if (buf[i] != '\0') continue;
      // Any other NUL stops sofia there and the message is rejected: no need to look on.
      if (i == 0 || buf[i - 1] != '\\' || n_nuls == kMaxNulPatches || !inside_quotes(buf, i)) break;
      buf[i] = kNulPlaceholder;
      nuls[n_nuls++] = i;
    }
  }
  msg_recv_commit(msg, bytes.size(), 1);
  if (msg_extract(msg) < 0) msg_object(msg)->msg_flags |= MSG_FLG_ERROR;
  for (std::size_t i = 0; i < n_nuls; i++) buf[nuls[i]] = '\0';

  sip_t* sip = sip_object(msg);
  if (!sip || (!sip->sip_request && !sip->sip_status)) {
    msg_destroy(msg);
    if (looks_like_request(bytes))
      return common::Error{400, "Bad Request - malformed Request-Line"};
    return common::Error{0, "not a SIP message"};
  }
  return Message(msg, sip);
}

Message::Message(Message&& other) noexcept
    : msg_(other.msg_), sip_(other.sip_), wire_(std::move(other.wire_)) {
  other.msg_ = nullptr;
  other.sip_ = nullptr;
}

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (msg_) msg_destroy(msg_);
    msg_ = other.msg_;
    sip_ = other.sip_;
    wire_ = std::move(other.wire_);
    other.msg_ = nullptr;
    other.sip_ = nullptr;
  }
  return *this;
}

Message::~Message() {
  if (msg_) msg_destroy(msg_);
}

Message Message::clone() const {
  if (!sip_) return Message(nullptr, nullptr);
  // Re-parsing our own serialization keeps every unedited header byte for byte (msg_dup
  // would re-encode and reorder them all) and costs about the same.
  std::string bytes = wire_.empty() ? detail::serialize(msg_, sip_) : wire_;
  auto copy = parse(bytes);
  if (copy.ok()) return std::move(*copy);
  msg_t* dup = msg_dup(msg_);
  sip_t* sip = dup ? sip_object(dup) : nullptr;
  if (!sip) {
    if (dup) msg_destroy(dup);
    return Message(nullptr, nullptr);
  }
  return Message(dup, sip);
}

bool Message::is_request() const {
  return sip_ && sip_->sip_request;
}

Method Message::method() const {
  if (!sip_) return Method::kUnknown;
  if (sip_->sip_request) return from_sofia(sip_->sip_request->rq_method);
  return cseq_method();
}

std::string_view Message::method_name() const {
  if (!sip_) return {};
  if (sip_->sip_request) return view(sip_->sip_request->rq_method_name);
  return cseq_method_name();
}

Uri Message::request_uri() const {
  if (!sip_ || !sip_->sip_request) return {};
  // The received text keeps its escapes; sofia's url_t has unescaped some of them.
  std::string_view line = detail::raw(reinterpret_cast<msg_header_t*>(sip_->sip_request));
  std::size_t sp = line.find(' ');
  if (sp != std::string_view::npos) {
    std::size_t begin = line.find_first_not_of(' ', sp);
    std::size_t end =
        begin == std::string_view::npos ? begin : line.find_first_of(" \t\r\n", begin);
    if (begin != std::string_view::npos && end != std::string_view::npos) {
      if (auto uri = Uri::parse(line.substr(begin, end - begin))) return *uri;
    }
  }
  auto uri = detail::uri_from_url(sip_->sip_request->rq_url);
  return uri ? *uri : Uri{};
}

std::string_view Message::sip_version() const {
  if (!sip_) return {};
  if (sip_->sip_request) return view(sip_->sip_request->rq_version);
  if (sip_->sip_status) return view(sip_->sip_status->st_version);
  return {};
}

int Message::status() const {
  return sip_ && sip_->sip_status ? sip_->sip_status->st_status : 0;
}

std::string_view Message::reason() const {
  return sip_ && sip_->sip_status ? view(sip_->sip_status->st_phrase) : std::string_view();
}

std::string_view Message::call_id() const {
  return sip_ && sip_->sip_call_id ? view(sip_->sip_call_id->i_id) : std::string_view();
}

std::uint32_t Message::cseq() const {
  return sip_ && sip_->sip_cseq ? sip_->sip_cseq->cs_seq : 0;
}

Method Message::cseq_method() const {
  return sip_ && sip_->sip_cseq ? from_sofia(sip_->sip_cseq->cs_method) : Method::kUnknown;
}

std::string_view Message::cseq_method_name() const {
  return sip_ && sip_->sip_cseq ? view(sip_->sip_cseq->cs_method_name) : std::string_view();
}

std::string_view Message::from_tag() const {
  return sip_ && sip_->sip_from ? view(sip_->sip_from->a_tag) : std::string_view();
}

std::string_view Message::to_tag() const {
  return sip_ && sip_->sip_to ? view(sip_->sip_to->a_tag) : std::string_view();
}

std::optional<Uri> Message::from_uri() const {
  if (!sip_ || !sip_->sip_from) return std::nullopt;
  return detail::uri_from_url(sip_->sip_from->a_url);
}

std::optional<Uri> Message::to_uri() const {
  if (!sip_ || !sip_->sip_to) return std::nullopt;
  return detail::uri_from_url(sip_->sip_to->a_url);
}

std::optional<unsigned> Message::max_forwards() const {
  if (!sip_ || !sip_->sip_max_forwards) return std::nullopt;
  unsigned long v = sip_->sip_max_forwards->mf_count;
  return v > 0xffffffffUL ? 0xffffffffU : static_cast<unsigned>(v);
}

std::size_t Message::via_count() const {
  std::size_t n = 0;
  if (sip_)
    for (sip_via_t* v = sip_->sip_via; v; v = v->v_next) n++;
  return n;
}

std::optional<Via> Message::via(std::size_t index) const {
  if (!sip_) return std::nullopt;
  sip_via_t* v = sip_->sip_via;
  for (std::size_t i = 0; v && i < index; i++) v = v->v_next;
  if (!v) return std::nullopt;
  Via out;
  std::string_view protocol = view(v->v_protocol);
  std::size_t slash = protocol.rfind('/');
  for (char c : protocol.substr(slash == std::string_view::npos ? 0 : slash + 1))
    out.transport.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  out.host = std::string(view(v->v_host));
  std::string_view port = view(v->v_port);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec == std::errc() && ptr == port.data() + port.size() && p <= 65535)
    out.port = static_cast<std::uint16_t>(p);
  out.branch = std::string(view(v->v_branch));
  out.received = std::string(view(v->v_received));
  out.has_rport = v->v_rport != nullptr;
  out.rport = std::string(view(v->v_rport));
  out.maddr = std::string(view(v->v_maddr));
  return out;
}

std::vector<Uri> Message::routes() const {
  std::vector<Uri> out;
  if (sip_)
    for (sip_route_t* r = sip_->sip_route; r; r = r->r_next)
      if (auto uri = detail::uri_from_url(r->r_url)) out.push_back(std::move(*uri));
  return out;
}

std::vector<Uri> Message::record_routes() const {
  std::vector<Uri> out;
  if (sip_)
    for (sip_record_route_t* r = sip_->sip_record_route; r; r = r->r_next)
      if (auto uri = detail::uri_from_url(r->r_url)) out.push_back(std::move(*uri));
  return out;
}

std::optional<Uri> Message::contact_uri() const {
  if (!sip_ || !sip_->sip_contact) return std::nullopt;
  return detail::uri_from_url(sip_->sip_contact->m_url);
}

std::string_view Message::body() const {
  if (!sip_ || !sip_->sip_payload || !sip_->sip_payload->pl_data) return {};
  return {sip_->sip_payload->pl_data, sip_->sip_payload->pl_len};
}

bool Message::set_body(std::string_view body) {
  if (!sip_) return false;
  auto* pub = reinterpret_cast<msg_pub_t*>(sip_);
  su_home_t* home = msg_home(msg_);
  msg_header_t* payload = nullptr;
  if (!body.empty()) {
    // sip_payload_create copies the bytes into the message's home.
    payload = reinterpret_cast<msg_header_t*>(
        sip_payload_create(home, body.data(), static_cast<isize_t>(body.size())));
    if (!payload) return false;
  }
  auto* length = reinterpret_cast<msg_header_t*>(
      sip_content_length_create(home, static_cast<std::uint32_t>(body.size())));
  if (!length) return false;
  if (sip_->sip_payload) {
    auto* old = reinterpret_cast<msg_header_t*>(sip_->sip_payload);
    detail::clear_encoding(old);
    msg_header_remove(msg_, pub, old);
  }
  if (payload && msg_header_insert(msg_, pub, payload) < 0) return false;
  if (sip_->sip_content_length) {
    auto* old = reinterpret_cast<msg_header_t*>(sip_->sip_content_length);
    detail::clear_encoding(old);
    if (msg_header_replace(msg_, pub, old, length) < 0) return false;
  } else if (msg_header_insert(msg_, pub, length) < 0) {
    return false;
  }
  touched();
  return true;
}

std::string_view Message::content_type() const {
  return sip_ && sip_->sip_content_type ? view(sip_->sip_content_type->c_type) : std::string_view();
}

}  // namespace strowger::proxy::sip
