// Pseudo-variable parsing ($name, $name(inner), $(name(inner)[index]{tr}...)) and format strings.
#include "proxy/script/pv.h"

#include <cctype>

namespace strowger::proxy::script {
namespace {

constexpr int kMaxDepth = 16;

bool pv_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '?';
}

class PvParser {
 public:
  PvParser(std::string_view s, std::string* error) : s_(s), error_(error) {}

  // Parses the reference starting at `start` (s_[start] == '$'); returns its end or npos.
  std::size_t parse(std::size_t start, PvRef* out, int depth) {
    if (depth > kMaxDepth) return fail("pseudo-variable nested too deeply");
    std::size_t p = start + 1;
    bool paren = at(p) == '(';
    if (paren) ++p;
    if (at(p) == '$') {  // "$$" or "$($)": a literal '$'
      out->name = "$";
      ++p;
      if (paren) {
        if (at(p) != ')') return fail("expected ')' after '$($'");
        ++p;
      }
      return finish(start, p, out);
    }
    if (at(p) == '<') {
      std::size_t b = ++p;
      while (p < s_.size() && pv_char(s_[p])) ++p;
      if (at(p) != '>') return fail("missing '>' after the pseudo-variable context");
      out->context = std::string(s_.substr(b, p - b));
      ++p;
    }
    std::size_t name_start = p;
    while (p < s_.size() && pv_char(s_[p])) ++p;
    if (p == name_start) return fail("missing pseudo-variable name after '$'");
    out->name = std::string(s_.substr(name_start, p - name_start));
    if (!paren) {
      if (at(p) == '(' && !inner(&p, out, depth)) return std::string_view::npos;
      return finish(start, p, out);
    }
    if (at(p) == '(') {
      if (!inner(&p, out, depth)) return std::string_view::npos;
    }
    if (at(p) == '[') {
      if (!index(&p, out, depth)) return std::string_view::npos;
    }
    while (at(p) == '{') {
      PvTransform tr;
      if (!transform(&p, &tr, depth)) return std::string_view::npos;
      out->transforms.push_back(std::move(tr));
      while (at(p) == ' ' || at(p) == '\t') ++p;
    }
    if (at(p) != ')') {
      if (p >= s_.size()) return fail("missing ')' at the end of the pseudo-variable");
      return fail(std::string("unexpected '") + s_[p] + "' in pseudo-variable");
    }
    return finish(start, p + 1, out);
  }

 private:
  char at(std::size_t p) const { return p < s_.size() ? s_[p] : '\0'; }

  std::size_t fail(std::string message) {
    if (error_->empty()) *error_ = std::move(message);
    return std::string_view::npos;
  }

  std::size_t finish(std::size_t start, std::size_t end, PvRef* out) {
    out->text = std::string(s_.substr(start, end - start));
    return end;
  }

  // Text between a '(' at *p and its balancing ')'; *p moves past the ')'.
  bool balanced(std::size_t* p, char open, char close, std::string_view* inside) {
    int depth = 0;
    std::size_t b = *p + 1;
    for (std::size_t i = *p; i < s_.size(); ++i) {
      if (s_[i] == open) ++depth;
      if (s_[i] == close && --depth == 0) {
        *inside = s_.substr(b, i - b);
        *p = i + 1;
        return true;
      }
    }
    fail(std::string("missing '") + close + "' in pseudo-variable");
    return false;
  }

  bool inner(std::size_t* p, PvRef* out, int depth) {
    std::string_view in;
    if (!balanced(p, '(', ')', &in)) return false;
    if (in.empty()) {
      fail("empty name in $" + out->name + "()");
      return false;
    }
    out->has_inner = true;
    out->inner = std::string(in);
    if (in[0] == '$') {
      auto pv = std::make_unique<PvRef>();
      std::string ignored;
      PvParser sub(in, &ignored);
      if (sub.parse(0, pv.get(), depth + 1) == in.size()) out->inner_pv = std::move(pv);
    }
    return true;
  }

  bool index(std::size_t* p, PvRef* out, int depth) {
    std::string_view in;
    if (!balanced(p, '[', ']', &in)) return false;
    out->index = std::string(in);
    if (in == "*") {
      out->index_kind = PvIndexKind::kAll;
      return true;
    }
    if (in == "+") {
      out->index_kind = PvIndexKind::kAppend;
      return true;
    }
    if (!in.empty() && in[0] == '$') {
      auto pv = std::make_unique<PvRef>();
      PvParser sub(in, error_);
      if (sub.parse(0, pv.get(), depth + 1) != in.size()) {
        fail("invalid index [" + out->index + "]");
        return false;
      }
      out->index_kind = PvIndexKind::kPv;
      out->index_pv = std::move(pv);
      return true;
    }
    std::size_t i = (!in.empty() && (in[0] == '-' || in[0] == '+')) ? 1 : 0;
    if (i == in.size() || in.size() - i > 9) {
      fail("invalid index [" + out->index + "]");
      return false;
    }
    std::int64_t v = 0;
    for (std::size_t k = i; k < in.size(); ++k) {
      if (!std::isdigit(static_cast<unsigned char>(in[k]))) {
        fail("invalid index [" + out->index + "]");
        return false;
      }
      v = v * 10 + (in[k] - '0');
    }
    out->index_kind = PvIndexKind::kInt;
    out->index_value = in[0] == '-' ? -v : v;
    return true;
  }

  bool transform(std::size_t* pp, PvTransform* tr, int depth) {
    std::size_t p = *pp + 1;  // past '{'
    std::size_t b = p;
    while (p < s_.size() && s_[p] != ',' && s_[p] != '}') ++p;
    std::string_view name = s_.substr(b, p - b);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.empty()) {
      fail("empty transformation name in '{...}'");
      return false;
    }
    tr->name = std::string(name);
    while (at(p) == ',') {
      ++p;
      while (at(p) == ' ' || at(p) == '\t' || at(p) == '\n') ++p;
      PvTransformParam param;
      if (at(p) == '$') {
        param.pv = std::make_unique<PvRef>();
        std::size_t end = parse(p, param.pv.get(), depth + 1);
        if (end == std::string_view::npos) return false;
        param.text = std::string(s_.substr(p, end - p));
        p = end;
      } else {
        // Braces nest so a regex parameter may hold {m,n} (Kamailio counts them too).
        std::size_t pb = p;
        int braces = 0;
        for (; p < s_.size(); ++p) {
          char c = s_[p];
          if (braces == 0 && (c == ',' || c == '}')) break;
          if (c == '{') ++braces;
          if (c == '}') --braces;
        }
        param.text = std::string(s_.substr(pb, p - pb));
      }
      tr->params.push_back(std::move(param));
    }
    if (at(p) != '}') {
      fail("missing '}' after transformation {" + tr->name);
      return false;
    }
    *pp = p + 1;
    return true;
  }

  std::string_view s_;
  std::string* error_;
};

}  // namespace

std::size_t parse_pv(std::string_view text, PvRef* out, std::string* error) {
  error->clear();
  if (text.empty() || text[0] != '$') {
    *error = "a pseudo-variable starts with '$'";
    return 0;
  }
  PvParser parser(text, error);
  std::size_t end = parser.parse(0, out, 0);
  if (end == std::string_view::npos) {
    if (error->empty()) *error = "invalid pseudo-variable";
    return 0;
  }
  return end;
}

bool parse_format(std::string_view text, std::vector<FormatPart>* out, std::string* error,
                  std::size_t* error_offset) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() && text[pos] != '$') ++pos;
    FormatPart part;
    part.text = std::string(text.substr(start, pos - start));
    if (pos == text.size()) {
      out->push_back(std::move(part));
      break;
    }
    part.pv = std::make_unique<PvRef>();
    std::size_t used = parse_pv(text.substr(pos), part.pv.get(), error);
    if (used == 0) {
      *error_offset = pos;
      return false;
    }
    pos += used;
    out->push_back(std::move(part));
  }
  return true;
}

std::string pv_to_string(const PvRef& pv) {
  bool simple = pv.context.empty() && pv.index_kind == PvIndexKind::kNone && pv.transforms.empty();
  std::string out = simple ? "$" : "$(";
  if (!pv.context.empty()) out += "<" + pv.context + ">";
  out += pv.name;
  if (pv.has_inner) out += "(" + pv.inner + ")";
  if (pv.index_kind != PvIndexKind::kNone) out += "[" + pv.index + "]";
  for (const auto& tr : pv.transforms) {
    out += "{" + tr.name;
    for (const auto& param : tr.params) {
      out += ",";
      out += param.pv ? pv_to_string(*param.pv) : param.text;
    }
    out += "}";
  }
  if (!simple) out += ")";
  return out;
}

}  // namespace strowger::proxy::script
