// Contact header value parsing for the registrar (sofia gives each value serialized).
#include "modules/registrar/contact.h"

#include <algorithm>
#include <cctype>

namespace strowger::modules::registrar {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Splits ";a=1;b="x;y"" into parameters, honouring quoted strings.
bool parse_params(std::string_view s, std::vector<std::pair<std::string, std::string>>* out) {
  while (!s.empty()) {
    s = trim(s);
    if (s.empty()) break;
    if (s.front() != ';') return false;
    s.remove_prefix(1);
    std::size_t i = 0;
    bool quoted = false;
    for (; i < s.size(); ++i) {
      if (s[i] == '"' && (i == 0 || s[i - 1] != '\\')) quoted = !quoted;
      if (!quoted && s[i] == ';') break;
    }
    if (quoted) return false;
    std::string_view p = trim(s.substr(0, i));
    s.remove_prefix(i);
    std::size_t eq = p.find('=');
    std::string name = lower(trim(p.substr(0, eq)));
    if (name.empty()) return false;
    std::string value = eq == std::string_view::npos ? "" : std::string(trim(p.substr(eq + 1)));
    out->emplace_back(std::move(name), std::move(value));
  }
  return true;
}

}  // namespace

std::optional<std::string> ContactValue::param(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::optional<ContactValue> parse_contact(std::string_view value) {
  ContactValue c;
  value = trim(value);
  if (value == "*") {
    c.star = true;
    return c;
  }
  std::size_t lt = std::string_view::npos;
  bool quoted = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"' && (i == 0 || value[i - 1] != '\\')) quoted = !quoted;
    if (!quoted && value[i] == '<') {
      lt = i;
      break;
    }
  }
  std::string_view rest;
  if (lt != std::string_view::npos) {
    std::size_t gt = value.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    c.uri = std::string(trim(value.substr(lt + 1, gt - lt - 1)));
    rest = value.substr(gt + 1);
  } else {
    // addr-spec without brackets: its ';' parameters are the header's (RFC 3261 20.10).
    std::size_t semi = value.find(';');
    c.uri = std::string(trim(value.substr(0, semi)));
    rest = semi == std::string_view::npos ? std::string_view{} : value.substr(semi);
  }
  if (c.uri.empty() || c.uri.find(':') == std::string::npos) return std::nullopt;
  if (!parse_params(rest, &c.params)) return std::nullopt;
  return c;
}

std::optional<int> parse_q(std::string_view t) {
  t = trim(t);
  if (t.empty() || (t[0] != '0' && t[0] != '1')) return std::nullopt;
  int whole = t[0] - '0';
  t.remove_prefix(1);
  int frac = 0;
  if (!t.empty()) {
    if (t[0] != '.' || t.size() > 4) return std::nullopt;
    t.remove_prefix(1);
    int scale = 100;
    for (char ch : t) {
      if (ch < '0' || ch > '9') return std::nullopt;
      frac += (ch - '0') * scale;
      scale /= 10;
    }
  }
  int q = whole * 1000 + frac;
  if (q > 1000) return std::nullopt;
  return q;
}

std::optional<std::int64_t> parse_seconds(std::string_view t) {
  t = trim(t);
  if (t.empty() || t.size() > 12) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : t) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return std::min<std::int64_t>(v, 0x7fffffff);
}

bool lists_token(const std::vector<std::string>& values, std::string_view token) {
  const std::string want = lower(token);
  for (const auto& v : values) {
    std::string_view s = v;
    while (!s.empty()) {
      std::size_t comma = s.find(',');
      if (lower(trim(s.substr(0, comma))) == want) return true;
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string format_q(int q) {
  char buf[16];
  if (q % 100 == 0) {
    std::snprintf(buf, sizeof buf, "%d.%d", q / 1000, q % 1000 / 100);
  } else if (q % 10 == 0) {
    std::snprintf(buf, sizeof buf, "%d.%02d", q / 1000, q % 1000 / 10);
  } else {
    std::snprintf(buf, sizeof buf, "%d.%03d", q / 1000, q % 1000);
  }
  return buf;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

}  // namespace strowger::modules::registrar
