// Pseudo-variables: resolved at compile time to getters (with transformations) and setters.
#include <functional>
#include <map>

#include "proxy/script/engine/module_calls.h"
#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {
namespace {

using Getter = std::function<Value(ExecutionContext&)>;

Value str_or_null(std::string_view s) {
  return s.empty() ? Value::null() : Value::of(s);
}

Value uri_part(const std::optional<sip::Uri>& u, char part) {
  if (!u) return Value::null();
  switch (part) {
    case 'u':
      return Value::of(u->to_string());
    case 'U':
      return str_or_null(u->user);
    case 'd':
      return Value::of(u->host);
    case 'p':
      return u->port ? Value::of(std::int64_t{u->port}) : Value::of(std::string());
    case 'z':
      return Value::of(u->scheme);
  }
  return Value::null();
}

std::optional<sip::Uri> ruri(ExecutionContext& ctx) {
  auto& m = ctx.msg();
  if (!m.is_request()) return std::nullopt;
  return m.request_uri();
}

std::string first_header(ExecutionContext& ctx, std::string_view name) {
  auto v = ctx.msg().header_values(name);
  return v.empty() ? std::string() : v.front();
}

// Display name of a name-addr ("Alice" <sip:a@b>;tag=1 -> Alice).
std::string display_name(const std::string& h) {
  auto lt = h.find('<');
  if (lt == std::string::npos) return {};
  std::string name = h.substr(0, lt);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
  std::size_t b = 0;
  while (b < name.size() && (name[b] == ' ' || name[b] == '\t')) b++;
  name = name.substr(b);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return name;
}

// username= / realm= of the credentials (Authorization first, then Proxy-Authorization).
Value credential(ExecutionContext& ctx, std::string_view key) {
  std::string h = first_header(ctx, "Authorization");
  if (h.empty()) h = first_header(ctx, "Proxy-Authorization");
  if (h.empty()) return Value::null();
  std::string lower = to_lower(h);
  std::string k = std::string(key) + "=";
  for (std::size_t pos = lower.find(k); pos != std::string::npos; pos = lower.find(k, pos + 1)) {
    char before = pos == 0 ? ' ' : lower[pos - 1];
    if (before != ' ' && before != ',' && before != '\t') continue;
    std::size_t v = pos + k.size();
    if (v < h.size() && h[v] == '"') {
      auto end = h.find('"', v + 1);
      if (end == std::string::npos) return Value::null();
      return Value::of(h.substr(v + 1, end - v - 1));
    }
    auto end = h.find_first_of(", \t", v);
    return Value::of(h.substr(v, end == std::string::npos ? std::string::npos : end - v));
  }
  return Value::null();
}

const std::map<std::string, Getter, std::less<>>& message_pvs() {
  static const std::map<std::string, Getter, std::less<>> table = {
      {"ru", [](ExecutionContext& c) { return uri_part(ruri(c), 'u'); }},
      {"rU", [](ExecutionContext& c) { return uri_part(ruri(c), 'U'); }},
      {"rd", [](ExecutionContext& c) { return uri_part(ruri(c), 'd'); }},
      {"rp", [](ExecutionContext& c) { return uri_part(ruri(c), 'p'); }},
      {"rz", [](ExecutionContext& c) { return uri_part(ruri(c), 'z'); }},
      {"du", [](ExecutionContext& c) { return str_or_null(c.dst_uri); }},
      {"fu", [](ExecutionContext& c) { return uri_part(c.msg().from_uri(), 'u'); }},
      {"fU", [](ExecutionContext& c) { return uri_part(c.msg().from_uri(), 'U'); }},
      {"fd", [](ExecutionContext& c) { return uri_part(c.msg().from_uri(), 'd'); }},
      {"fn",
       [](ExecutionContext& c) { return str_or_null(display_name(first_header(c, "From"))); }},
      {"ft", [](ExecutionContext& c) { return str_or_null(c.msg().from_tag()); }},
      {"tu", [](ExecutionContext& c) { return uri_part(c.msg().to_uri(), 'u'); }},
      {"tU", [](ExecutionContext& c) { return uri_part(c.msg().to_uri(), 'U'); }},
      {"td", [](ExecutionContext& c) { return uri_part(c.msg().to_uri(), 'd'); }},
      {"tn", [](ExecutionContext& c) { return str_or_null(display_name(first_header(c, "To"))); }},
      {"tt", [](ExecutionContext& c) { return str_or_null(c.msg().to_tag()); }},
      {"si", [](ExecutionContext& c) { return Value::of(c.host.source().ip); }},
      {"sp", [](ExecutionContext& c) { return Value::of(std::int64_t{c.host.source().port}); }},
      {"Ri", [](ExecutionContext& c) { return Value::of(c.host.local().ip); }},
      {"Rp", [](ExecutionContext& c) { return Value::of(std::int64_t{c.host.local().port}); }},
      {"proto", [](ExecutionContext& c) { return Value::of(c.host.source().proto); }},
      {"pr", [](ExecutionContext& c) { return Value::of(c.host.source().proto); }},
      {"rm", [](ExecutionContext& c) { return Value::of(c.msg().method_name()); }},
      {"rs",
       [](ExecutionContext& c) {
         auto& m = c.msg();
         return m.is_request() ? Value::null() : Value::of(std::int64_t{m.status()});
       }},
      {"rr",
       [](ExecutionContext& c) {
         auto& m = c.msg();
         return m.is_request() ? Value::null() : Value::of(m.reason());
       }},
      {"rv", [](ExecutionContext& c) { return Value::of(c.msg().sip_version()); }},
      {"ci", [](ExecutionContext& c) { return str_or_null(c.msg().call_id()); }},
      {"cs", [](ExecutionContext& c) { return Value::of(std::int64_t{c.msg().cseq()}); }},
      {"ua", [](ExecutionContext& c) { return str_or_null(first_header(c, "User-Agent")); }},
      {"ct", [](ExecutionContext& c) { return str_or_null(first_header(c, "Contact")); }},
      {"cT", [](ExecutionContext& c) { return str_or_null(c.msg().content_type()); }},
      {"cl",
       [](ExecutionContext& c) {
         return Value::of(static_cast<std::int64_t>(c.msg().body().size()));
       }},
      {"au", [](ExecutionContext& c) { return credential(c, "username"); }},
      {"ar", [](ExecutionContext& c) { return credential(c, "realm"); }},
      {"rb", [](ExecutionContext& c) { return Value::of(c.msg().body()); }},
      {"ml",
       [](ExecutionContext& c) {
         return Value::of(static_cast<std::int64_t>(c.msg().wire().size()));
       }},
      {"mb", [](ExecutionContext& c) { return Value::of(c.msg().wire()); }},
      {"T_reply_code",
       [](ExecutionContext& c) {
         return Value::of(std::int64_t{c.host.transaction_reply_code()});
       }},
      {"T_branch_idx",
       [](ExecutionContext& c) {
         return Value::of(std::int64_t{c.host.transaction_branch_index()});
       }},
      {"?", [](ExecutionContext& c) { return Value::of(std::int64_t{c.last_return}); }},
      {"rc", [](ExecutionContext& c) { return Value::of(std::int64_t{c.last_return}); }},
      {"retcode", [](ExecutionContext& c) { return Value::of(std::int64_t{c.last_return}); }},
      {"null", [](ExecutionContext&) { return Value::null(); }},
  };
  return table;
}

// Setters of the request URI parts.
bool set_ruri(ExecutionContext& c, const Value& v, char part) {
  auto& m = c.msg();
  if (!m.is_request() || v.is_null()) return false;
  if (part == 'u') {
    auto u = sip::Uri::parse(v.to_str());
    if (!u) return false;
    m.set_request_uri(*u);
    return true;
  }
  sip::Uri u = m.request_uri();
  if (part == 'U') {
    u.user = v.to_str();
  } else if (part == 'd') {
    if (v.to_str().empty()) return false;
    u.host = v.to_str();
  } else if (part == 'p') {
    auto p = v.as_int();
    if (v.is_str() && v.s.empty()) {
      p = 0;
    }
    if (!p || *p < 0 || *p > 65535) return false;
    u.port = static_cast<std::uint16_t>(*p);
  }
  m.set_request_uri(u);
  return true;
}

// The name inside $var(...), constant or from another pseudo-variable.
using NameFn = std::function<std::string(ExecutionContext&)>;

std::optional<NameFn> inner_name(CompileEnv& env, const PvRef& pv) {
  if (pv.inner_pv) {
    auto inner = compile_pv(env, *pv.inner_pv);
    if (!inner) return std::nullopt;
    return [get = inner->get](ExecutionContext& c) { return get(c).to_str(); };
  }
  std::string name = pv.inner;
  if (pv.name == "avp" && name.size() > 2 && (name[0] == 's' || name[0] == 'i') && name[1] == ':') {
    name = name.substr(2);  // $avp(s:x) is $avp(x)
  }
  return [name](ExecutionContext&) { return name; };
}

// Index of $(hdr(X)[n]) / $(avp(x)[n]); nullopt: no index given.
using IndexFn = std::function<std::optional<std::int64_t>(ExecutionContext&)>;

std::optional<IndexFn> index_of(CompileEnv& env, const PvRef& pv) {
  switch (pv.index_kind) {
    case PvIndexKind::kNone:
    case PvIndexKind::kAll:
      return [](ExecutionContext&) { return std::optional<std::int64_t>(); };
    case PvIndexKind::kInt: {
      std::int64_t i = pv.index_value;
      return [i](ExecutionContext&) { return std::optional<std::int64_t>(i); };
    }
    case PvIndexKind::kPv: {
      auto inner = compile_pv(env, *pv.index_pv);
      if (!inner) return std::nullopt;
      return [get = inner->get](ExecutionContext& c) {
        return std::optional<std::int64_t>(get(c).to_int());
      };
    }
    case PvIndexKind::kAppend:
      break;
  }
  env.error(pv.loc, "index [+] is not supported for " + pv_to_string(pv));
  return std::nullopt;
}

// Element i of a list (negative from the end); newest-first order for AVPs is done by caller.
template <typename List>
const typename List::value_type* pick(const List& list, std::int64_t i) {
  auto n = static_cast<std::int64_t>(list.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) return nullptr;
  return &list[static_cast<std::size_t>(i)];
}

bool needs_inner(const std::string& name) {
  return name == "var" || name == "avp" || name == "shv" || name == "hdr" || name == "hdrc" ||
         name == "sel";
}

std::optional<CompiledPv> base_pv(CompileEnv& env, const PvRef& pv) {
  const std::string& n = pv.name;
  if (needs_inner(n) != pv.has_inner) {
    env.error(pv.loc, needs_inner(n) ? "$" + n + " needs a name: $" + n + "(name)"
                                     : "$" + n + " takes no name in parentheses");
    return std::nullopt;
  }
  if (pv.index_kind != PvIndexKind::kNone && n != "hdr" && n != "avp") {
    env.error(pv.loc, "$" + n + " cannot be indexed");
    return std::nullopt;
  }
  CompiledPv out;
  if (needs_inner(n)) {
    auto name = inner_name(env, pv);
    auto index = index_of(env, pv);
    if (!name || !index) return std::nullopt;
    NameFn nm = std::move(*name);
    IndexFn ix = std::move(*index);
    bool all = pv.index_kind == PvIndexKind::kAll;
    if (n == "var") {
      out.get = [nm](ExecutionContext& c) {
        auto it = c.vars.find(nm(c));
        return it == c.vars.end() ? Value::null() : it->second;
      };
      out.set = [nm](ExecutionContext& c, const Value& v) {
        c.vars[nm(c)] = v;
        return true;
      };
    } else if (n == "shv") {
      out.get = [nm](ExecutionContext& c) { return c.program.shared_vars->get(nm(c)); };
      out.set = [nm](ExecutionContext& c, const Value& v) {
        c.program.shared_vars->set(nm(c), v);
        return true;
      };
    } else if (n == "avp") {
      out.get = [nm, ix](ExecutionContext& c) {
        auto it = c.avps.find(nm(c));
        if (it == c.avps.end() || it->second.empty()) return Value::null();
        // [0] is the newest value (stored last).
        std::int64_t i = ix(c).value_or(0);
        auto size = static_cast<std::int64_t>(it->second.size());
        std::int64_t from_back = i >= 0 ? i : size + i;
        if (from_back < 0 || from_back >= size) return Value::null();
        return it->second[static_cast<std::size_t>(size - 1 - from_back)];
      };
      out.set = [nm, all](ExecutionContext& c, const Value& v) {
        std::string key = nm(c);
        if (v.is_null()) {
          // $avp(x) = $null removes the newest value, $(avp(x)[*]) = $null all of them.
          auto it = c.avps.find(key);
          if (it != c.avps.end()) {
            if (all || it->second.size() <= 1) {
              c.avps.erase(it);
            } else {
              it->second.pop_back();
            }
          }
          return true;
        }
        auto& list = c.avps[key];
        if (all) list.clear();
        list.push_back(v);
        return true;
      };
    } else if (n == "hdr") {
      out.get = [nm, ix](ExecutionContext& c) {
        auto values = c.msg().header_values(nm(c));
        const std::string* v = pick(values, ix(c).value_or(0));
        return v ? Value::of(*v) : Value::null();
      };
    } else {  // hdrc
      out.get = [nm](ExecutionContext& c) {
        return Value::of(static_cast<std::int64_t>(c.msg().header_values(nm(c)).size()));
      };
    }
    return out;
  }
  auto it = message_pvs().find(n);
  if (it == message_pvs().end()) {
    if (auto m = compile_module_pv(env.program, pv)) return m;
    env.error(pv.loc, "unknown pseudo-variable " + pv_to_string(pv));
    return std::nullopt;
  }
  out.get = it->second;
  if (n == "ru" || n == "rU" || n == "rd" || n == "rp") {
    char part = n == "ru" ? 'u' : n[1];
    out.set = [part](ExecutionContext& c, const Value& v) { return set_ruri(c, v, part); };
  } else if (n == "du") {
    out.set = [](ExecutionContext& c, const Value& v) {
      // The script picks the destination now: a connection lookup() chose no longer applies.
      c.connection_id = 0;
      c.flow = false;
      if (v.is_null() || v.to_str().empty()) {
        c.dst_uri.clear();
        return true;
      }
      if (!sip::Uri::parse(v.to_str())) return false;
      c.dst_uri = v.to_str();
      return true;
    };
  }
  return out;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<CompiledPv> compile_pv(CompileEnv& env, const PvRef& pv) {
  if (!pv.context.empty()) {
    env.error(pv.loc, "pseudo-variable contexts ($<" + pv.context + ">) are not supported");
    return std::nullopt;
  }
  std::optional<CompiledPv> base;
  if (pv.name == "sel" && pv.has_inner) {
    base = compile_select(env, pv.inner, pv.loc);  // $sel(via[1].branch)
  } else {
    base = base_pv(env, pv);
  }
  if (!base || pv.transforms.empty()) return base;
  std::vector<TransformFn> transforms;
  for (const auto& t : pv.transforms) {
    auto fn = compile_transform(env, t, pv.loc);
    if (!fn) return std::nullopt;
    transforms.push_back(std::move(*fn));
  }
  CompiledPv out;
  out.get = [get = base->get, transforms = std::move(transforms)](ExecutionContext& c) {
    Value v = get(c);
    for (const auto& t : transforms) v = t(c, std::move(v));
    return v;
  };
  return out;  // a transformed value is read-only
}

}  // namespace strowger::proxy::script::engine
