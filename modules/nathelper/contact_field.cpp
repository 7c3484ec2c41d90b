// Splitting and rebuilding Contact header values for nathelper's Contact rewrites.
#include "modules/nathelper/contact_field.h"

#include <vector>

namespace strowger::modules::nathelper {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Index of the first '<' outside a quoted display name; npos when none; nullopt when a quote
// is left open.
std::optional<std::size_t> find_laquot(std::string_view v) {
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); i++) {
    const char c = v[i];
    if (quoted) {
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      return i;
    }
  }
  if (quoted) return std::nullopt;
  return std::string_view::npos;
}

// Writes fields back as the message's Contact headers, in order.
bool store(sipproxy::Message& msg, const std::vector<std::string>& values) {
  msg.remove_headers("Contact");
  for (const std::string& v : values)
    if (!msg.add_header("Contact", v)) return false;
  return true;
}

}  // namespace

std::optional<ContactField> ContactField::parse(std::string_view value) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  ContactField f;
  if (value == "*") {
    f.star = true;
    return f;
  }
  auto lt = find_laquot(value);
  if (!lt) return std::nullopt;
  if (*lt != std::string_view::npos) {
    const std::size_t gt = value.find('>', *lt + 1);
    if (gt == std::string_view::npos) return std::nullopt;
    f.display = std::string(trim(value.substr(0, *lt)));
    f.uri = std::string(trim(value.substr(*lt + 1, gt - *lt - 1)));
    f.params = std::string(trim(value.substr(gt + 1)));
  } else {
    // addr-spec: everything after the first ';' is a header parameter (RFC 3261 20.10).
    const std::size_t semi = value.find(';');
    f.uri = std::string(trim(value.substr(0, semi)));
    if (semi != std::string_view::npos) f.params = std::string(trim(value.substr(semi)));
  }
  if (f.uri.empty() || (!f.params.empty() && f.params.front() != ';')) return std::nullopt;
  return f;
}

std::string ContactField::to_string() const {
  if (star) return "*";
  std::string out;
  if (!display.empty()) {
    out += display;
    out += ' ';
  }
  out += '<';
  out += uri;
  out += '>';
  out += params;
  return out;
}

std::optional<FirstContact> first_contact(const sipproxy::Message& msg) {
  const std::vector<std::string> values = msg.header_values("Contact");
  if (values.empty()) return std::nullopt;
  auto field = ContactField::parse(values.front());
  if (!field || field->star) return std::nullopt;
  auto uri = sipproxy::Uri::parse(field->uri);
  if (!uri || !uri->is_sip() || uri->host.empty()) return std::nullopt;
  return FirstContact{std::move(*field), std::move(*uri)};
}

bool replace_first_contact_uri(sipproxy::Message& msg, const std::string& new_uri) {
  std::vector<std::string> values = msg.header_values("Contact");
  if (values.empty()) return false;
  auto field = ContactField::parse(values.front());
  if (!field || field->star) return false;
  field->uri = new_uri;
  values.front() = field->to_string();
  return store(msg, values);
}

bool rewrite_contacts(sipproxy::Message& msg, const std::function<void(ContactField&)>& edit) {
  std::vector<std::string> values = msg.header_values("Contact");
  for (std::string& v : values) {
    auto field = ContactField::parse(v);
    if (!field || field->star) return false;
    edit(*field);
    v = field->to_string();
  }
  return store(msg, values);
}

}  // namespace strowger::modules::nathelper
